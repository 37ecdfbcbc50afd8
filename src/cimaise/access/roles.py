"""Who may scan codes at an entrance and read what the lanes recorded."""

from cimaise.core.roles import Role, grant

SCAN = "access.add_entry"
VIEW = "access.view_entry"

grant(Role.GATE_AGENT, SCAN)
grant(Role.GATE_SUPERVISOR, SCAN, VIEW, "access.view_entryrule", "access.view_lane")
grant(Role.ADMIN, VIEW, "access.view_entryrule", "access.change_entryrule", "access.view_lane")
