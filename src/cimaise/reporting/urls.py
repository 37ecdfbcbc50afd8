"""Pages of the reporting app."""

from django.urls import URLPattern, URLResolver, path

from cimaise.reporting import views

app_name = "reporting"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("build/", views.build_now, name="build"),
    path("<slug:key>/", views.dashboard_page, name="dashboard"),
    path("<slug:key>/<slug:table>.csv", views.table_export, {"fmt": "csv"}, name="export-csv"),
    path("<slug:key>/<slug:table>.xlsx", views.table_export, {"fmt": "xlsx"}, name="export-xlsx"),
]
