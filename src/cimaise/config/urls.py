"""Top-level URLs: staff pages, the admin, and the JSON API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path, re_path

from cimaise.config.api import api
from cimaise.core.api_errors import api_not_found

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access/", include("cimaise.access.pages.urls")),
    path("custody/", include("cimaise.moves.urls")),
    path("missions/", include("cimaise.missions.urls")),
    path("passnet/", include("cimaise.passnet.urls")),
    path("purchasing/", include("cimaise.purchasing.urls")),
    path("reporting/", include("cimaise.reporting.urls")),
    path("payments/", include("cimaise.payments.urls")),
    path("shop/", include("cimaise.ticketing.shop.urls")),
    path("ticketing/", include("cimaise.ticketing.staff.urls")),
    path("", include("cimaise.core.urls")),
]
