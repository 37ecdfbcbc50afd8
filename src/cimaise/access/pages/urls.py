"""The access pages, under /access/ (namespace ``access``): the handheld check for gate agents,
the live monitor and the fraud signals for supervisors."""

from django.urls import path

from cimaise.access.pages import handheld, views

app_name = "access"

urlpatterns = [
    path("scan/", handheld.scan_page, name="scan"),
    path("scan/lane", handheld.scan_lane, name="scan-lane"),
    path("scan/check", handheld.scan_check, name="scan-check"),
    path("scan/override", handheld.scan_override, name="scan-override"),
    path("monitor/", views.monitor_page, name="monitor"),
    path("monitor/panel/", views.monitor_panel, name="monitor-panel"),
    path("fraud/", views.fraud_page, name="fraud"),
    path("fraud/export.csv", views.fraud_export, name="fraud-export"),
]
