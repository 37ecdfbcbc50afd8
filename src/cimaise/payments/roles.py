"""Who may look at payments (finance view)."""

from cimaise.core.roles import Role, grant

grant(Role.TICKETING_MANAGER, "payments.view_payment", "payments.view_refund")
grant(Role.ADMIN, "payments.view_payment", "payments.view_refund", "payments.view_notification")
