"""Who may plan a transfer: registrars address works to shelves and pack convoys; the other
custody roles read the plans."""

from cimaise.core.roles import Role, grant

READ = ("moves.view_assignment",)
WRITE = ("moves.add_assignment", "moves.change_assignment", "moves.change_convoyitem")
grant(Role.REGISTRAR, *READ, *WRITE)
grant(Role.ADMIN, *READ, *WRITE)
for _role in (Role.ESCORT, Role.RECEPTION, Role.ANALYST):
    grant(_role, *READ)
