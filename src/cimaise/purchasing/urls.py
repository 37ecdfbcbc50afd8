"""Pages of the purchasing app, under /purchasing/."""

from django.urls import URLPattern, URLResolver, path

from cimaise.purchasing.pages import views

app_name = "purchasing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.register_page, name="register"),
    path("contracts/<str:reference>/", views.contract_page, name="contract"),
    path("export/contracts.csv", views.export_csv, name="export"),
    path("import/", views.import_page, name="import"),
    path("needs/new/", views.need_new, name="need-new"),
]
