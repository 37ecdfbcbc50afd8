"""Pages of the pass network, under /passnet/ (namespace ``passnet``)."""

from django.urls import URLPattern, URLResolver, path

from cimaise.passnet import views

app_name = "passnet"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("site/", views.portal, name="portal"),
    path("p/<str:code_id>/", views.pass_page, name="pass"),
    path("p/<str:code_id>/pass.pdf", views.pass_pdf, name="pass-pdf"),
    path("statements/<str:month>/<str:site>.pdf", views.statement_pdf, name="statement-pdf"),
    path("statements/<str:month>/<str:site>.csv", views.statement_csv, name="statement-csv"),
]
