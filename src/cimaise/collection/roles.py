"""Who may read and edit the registry of works."""

from cimaise.core.roles import Role, grant

grant(Role.REGISTRAR, "collection.view_work", "collection.add_work", "collection.change_work")
grant(Role.ADMIN, "collection.view_work", "collection.add_work", "collection.change_work")
for _role in (Role.ESCORT, Role.RECEPTION, Role.ANALYST):
    grant(_role, "collection.view_work")
