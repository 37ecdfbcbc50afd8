"""Ticketing staff pages, under /ticketing/ (namespace ``ticketing``): the day's capacity
overview, capacities and slots, the desk, and orders."""

from django.urls import path

from cimaise.ticketing.staff import capacity_views, desk_views, views

app_name = "ticketing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("capacity/", capacity_views.capacity, name="capacity"),
    path("capacity/preview", capacity_views.capacity_preview, name="capacity-preview"),
    path("capacity/open", capacity_views.slots_open, name="slots-open"),
    path("capacity/close", capacity_views.slots_close_view, name="slots-close"),
    path("desk/", desk_views.desk, name="desk"),
    path("desk/<int:slot_id>/", desk_views.desk_sale, name="desk-sale"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:code>/", views.order_detail, name="order"),
    path("orders/<str:code>/cancel", views.order_cancel_view, name="order-cancel"),
    path("orders/<str:code>/tickets.pdf", views.order_pdf, name="order-pdf"),
]
