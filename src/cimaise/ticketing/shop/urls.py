"""The visitors' shop (no login), mounted at /shop/."""

from django.urls import URLPattern, path

from cimaise.ticketing.shop import checkout, queue, views

app_name = "shop"
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("wait/", queue.wait, name="wait"),
    path("wait/status/", queue.wait_status, name="wait_status"),
    path("cart/", checkout.cart, name="cart"),
    path("cart/release/", checkout.release, name="release"),
    path("return/<uuid:cart_id>/", checkout.back, name="back"),
    path("orders/<str:code>/", checkout.order, name="order"),
    path("orders/<str:code>/tickets.pdf", checkout.tickets_pdf, name="tickets_pdf"),
    path("<str:code>/", views.product, name="product"),
    path("<str:code>/<int:slot_id>/", views.tickets, name="tickets"),
    path("<str:code>/<int:slot_id>/total/", views.total, name="total"),
]
