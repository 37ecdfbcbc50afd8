"""Who may reconcile provider statements and read the runs; who keeps exchange rates."""

from cimaise.core.roles import Role, grant

_RECONCILE = ("payments.view_reconciliationrun", "payments.add_reconciliationrun")
grant(Role.TICKETING_MANAGER, *_RECONCILE)
grant(Role.ADMIN, *_RECONCILE)
grant(Role.ANALYST, "payments.view_reconciliationrun")
grant(
    Role.ADMIN,
    "payments.view_exchangerate",
    "payments.add_exchangerate",
    "payments.change_exchangerate",
    "payments.delete_exchangerate",
)
