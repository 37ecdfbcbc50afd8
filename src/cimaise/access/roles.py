"""Who may scan codes at an entrance, let a visitor through by override, and read what the lanes
recorded. An entrance agent's token is a gate agent's: it scans, reads its entrance's feed and
uploads what it decided offline."""

from cimaise.core.roles import Role, grant

SCAN = "access.add_entry"
VIEW = "access.view_entry"
OVERRIDE = "access.override_entry"

grant(Role.GATE_AGENT, SCAN, OVERRIDE)
grant(Role.GATE_SUPERVISOR, SCAN, OVERRIDE, VIEW, "access.view_entryrule", "access.view_lane")
grant(Role.ADMIN, VIEW, "access.view_entryrule", "access.change_entryrule", "access.view_lane")
