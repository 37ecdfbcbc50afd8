"""URLs for the scanner tests: the project's, plus the scanner page and its API routes for as long
as config/urls.py and config/api.py do not include them yet (once they do, the project's own are
used as they are). Tests select it with ``settings.ROOT_URLCONF = URLCONF``; it holds no test."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import get_resolver
from ninja import NinjaAPI

from cimaise.config.urls import urlpatterns as project_urlpatterns
from cimaise.core.api_errors import api_not_found, error_response
from cimaise.core.auth import API_AUTH
from cimaise.core.errors import DomainError
from cimaise.moves.api_scanner import router

URLCONF = __name__


def _project_serves(url: str) -> bool:
    try:
        match = get_resolver("cimaise.config.urls").resolve(url)
    except Resolver404:
        return False
    return match.func is not api_not_found


def _scanner_api() -> NinjaAPI:
    api = NinjaAPI(auth=API_AUTH, urls_namespace="api-v1-scanner-tests")

    @api.exception_handler(DomainError)
    def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error_response(request, exc.status, exc.message, code=exc.code, details=exc.details)

    api.add_router("/", router)
    return api


urlpatterns: list[URLPattern | URLResolver] = []
if not _project_serves("/api/v1/scanner/manifest"):
    urlpatterns.append(path("api/v1/", _scanner_api().urls))
if not _project_serves("/custody/scanner/"):
    urlpatterns.append(path("custody/scanner/", include("cimaise.moves.scanner.urls")))
urlpatterns += cast(list[URLPattern | URLResolver], project_urlpatterns)
