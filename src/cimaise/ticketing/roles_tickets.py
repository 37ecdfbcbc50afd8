"""Who may read the e-ticket revocation feed: the people and agents at the entrances, and those
who manage ticketing."""

from cimaise.core.roles import Role, grant

VIEW_REVOCATIONS = "ticketing.view_revocation"

for _role in (Role.GATE_AGENT, Role.GATE_SUPERVISOR, Role.TICKETING_MANAGER, Role.ADMIN):
    grant(_role, VIEW_REVOCATIONS)
