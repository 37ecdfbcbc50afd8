"""Who does what in the pass network: the operator issues and revokes passes, manages sites and
issues settlements; partner sites (their staff, or their API keys) scan passes and read their own
entries and statements; the museum's own gate agents scan passes at its entrances."""

from cimaise.core.roles import Role, grant

ISSUE = "passnet.add_pass"
VIEW_PASSES = "passnet.view_pass"
REVOKE = "passnet.change_pass"
SCAN = "passnet.add_passentry"
VIEW_ENTRIES = "passnet.view_passentry"
MANAGE_SITES = "passnet.change_partnersite"
SETTLE = "passnet.add_settlement"
VIEW_SETTLEMENTS = "passnet.view_settlement"

grant(
    Role.PASS_OPERATOR,
    ISSUE,
    VIEW_PASSES,
    REVOKE,
    VIEW_ENTRIES,
    MANAGE_SITES,
    SETTLE,
    VIEW_SETTLEMENTS,
)
grant(Role.PARTNER_SITE, SCAN, VIEW_ENTRIES, VIEW_SETTLEMENTS)
grant(Role.GATE_AGENT, SCAN)
grant(Role.GATE_SUPERVISOR, SCAN, VIEW_ENTRIES)
