"""The scanner, under /custody/scanner/; the service worker sits beside the page (``sw.js``) so
that its scope covers it. The views find their paths from the request, so this module may be
included under any prefix or namespace."""

from django.urls import path

from cimaise.moves.scanner import views

app_name = "scanner"

urlpatterns = [
    path("", views.scanner, name="page"),
    path("sw.js", views.service_worker, name="sw"),
]
