"""Who may configure the waiting room (and see how long its queue is)."""

from cimaise.core.roles import Role, grant

CONFIGURE = "ticketing.change_waitingroom"
VIEW = "ticketing.view_waitingroom"

grant(Role.TICKETING_MANAGER, CONFIGURE, VIEW)
grant(Role.ADMIN, CONFIGURE, VIEW)
