"""Who may read and keep the purchasing register: purchasing officers and administrators only."""

from cimaise.core.roles import Role, grant

VIEW = "purchasing.view_contract"
CHANGE = "purchasing.change_contract"

for _role in (Role.PURCHASING, Role.ADMIN):
    grant(
        _role,
        VIEW,
        CHANGE,
        "purchasing.add_contract",
        "purchasing.view_need",
        "purchasing.add_need",
        "purchasing.view_vehicle",
        "purchasing.add_vehicle",
    )
