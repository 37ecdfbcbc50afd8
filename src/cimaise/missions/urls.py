"""Pages of the missions app, under /missions/ (namespace ``missions``)."""

from django.urls import URLPattern, URLResolver, path

from cimaise.missions.pages import reception_views, views

app_name = "missions"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("new/", views.order_new, name="new"),
    path("orders/<str:code>/", views.order_page, name="order"),
    path("orders/<str:code>/decide", views.order_decide, name="decide"),
    path("orders/<str:code>/claim", views.claim_page, name="claim"),
    path("calendar/<str:token>.ics", views.calendar_ics, name="calendar"),
    path("calendar/new", views.calendar_new, name="calendar-new"),
    path("reception/", reception_views.reception_page, name="reception"),
    path("reception/badges/issue", reception_views.badge_issue, name="badge-issue"),
    path("reception/badges/return", reception_views.badge_return, name="badge-return"),
    path("reception/register", reception_views.register_write, name="register"),
    path("badges/<int:issue_id>/slip.pdf", reception_views.badge_slip, name="badge-slip"),
]
