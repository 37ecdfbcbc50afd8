"""Payment pages under /payments/: the sandbox card gateway's page."""

from django.urls import path

from cimaise.payments import views

app_name = "payments"
urlpatterns = [
    path("sandbox/<str:payment_id>/", views.sandbox_page, name="sandbox"),
]
