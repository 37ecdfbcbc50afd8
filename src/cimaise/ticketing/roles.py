"""Who may manage the catalogue and capacities, sell at the desk, and read orders."""

from cimaise.core.roles import Role, grant

_MANAGE = (
    "ticketing.view_product",
    "ticketing.change_product",
    "ticketing.view_quota",
    "ticketing.change_quota",
    "ticketing.add_slot",
    "ticketing.change_slot",
    "ticketing.view_order",
    "ticketing.add_order",
    "ticketing.change_order",
)
grant(Role.TICKETING_MANAGER, *_MANAGE)
grant(Role.ADMIN, *_MANAGE)
grant(Role.ANALYST, "ticketing.view_order", "ticketing.view_quota", "ticketing.view_product")
grant(Role.GATE_SUPERVISOR, "ticketing.view_order")
