"""Who may do what with missions. Any person of an institution files and follows their own
orders; these grants cover the rest."""

from cimaise.core.roles import Role, grant

APPROVE = "missions.approve_missionorder"  # line manager's validation
BUDGET = "missions.budget_missionorder"  # budget manager's validation
VIEW_ORDERS = "missions.view_missionorder"  # every order of the institution
BOOK = "missions.change_booking"  # confirm or cancel train seats and hotel nights
PAY = "missions.change_expenseclaim"  # mark a claim paid
RECEIVE = "missions.add_badgeissue"  # reception: badges, register, expected visitors
SHUTTLES = "missions.add_shuttle"

grant(Role.APPROVER, APPROVE, VIEW_ORDERS)
grant(Role.BUDGET_MANAGER, BUDGET, VIEW_ORDERS, BOOK, PAY, SHUTTLES)
grant(Role.RECEPTION, RECEIVE, "missions.view_accessrecord", "missions.add_accessrecord")
grant(Role.ADMIN, VIEW_ORDERS, BOOK, SHUTTLES, RECEIVE, "missions.view_accessrecord")
