"""Payment pages under /payments/: the sandbox card gateway's page."""

from django.urls import path

from cimaise.payments import views, views_reconciliation

app_name = "payments"
urlpatterns = [
    path("sandbox/<str:payment_id>/", views.sandbox_page, name="sandbox"),
]

# Finance: reconciliation of provider statements (``views_reconciliation``).
urlpatterns += [
    path("reconciliation/", views_reconciliation.reconciliation, name="reconciliation"),
    path(
        "reconciliation/<int:run_id>/",
        views_reconciliation.reconciliation_run_page,
        name="reconciliation-run",
    ),
    path(
        "reconciliation/<int:run_id>.csv",
        views_reconciliation.reconciliation_run_csv,
        name="reconciliation-csv",
    ),
]
