"""The JSON API at /api/v1/: one NinjaAPI, each app adding its router."""

from __future__ import annotations

from django.db import DataError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cimaise.access.api import router as access_router
from cimaise.access.api_reports import router as access_reports_router
from cimaise.collection.api import router as collection_router
from cimaise.core.api import router as core_router
from cimaise.core.api_errors import error_response, field_name
from cimaise.core.auth import API_AUTH
from cimaise.core.errors import DomainError
from cimaise.missions.api import router as missions_router
from cimaise.moves.api import router as moves_router
from cimaise.moves.api_convoys import router as convoys_router
from cimaise.moves.api_planning import router as planning_router
from cimaise.moves.api_scanner import router as scanner_router
from cimaise.moves.api_telemetry import router as telemetry_router
from cimaise.passnet.api import router as passnet_router
from cimaise.payments.api import router as payments_router
from cimaise.purchasing.api import router as purchasing_router
from cimaise.reporting.api import router as reporting_router
from cimaise.ticketing.api import router as sales_router
from cimaise.ticketing.api_manage import router as ticketing_manage_router
from cimaise.ticketing.api_tickets import router as tickets_router
from cimaise.ticketing.api_waiting import router as waiting_router

api = NinjaAPI(
    title="Cimaise API",
    version="1",
    description=(
        "Operations platform for a museum and its partners. Machines send "
        "`Authorization: Bearer <token>` (see `cimaise token create`); people use their session. "
        'Errors are `{"error": {"code", "message", "details"}}` with a 4xx status.'
    ),
    auth=API_AUTH,
    urls_namespace="api-v1",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.message, code=exc.code, details=exc.details)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {
            "field": field_name(err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type"),
        }
        for err in exc.errors
    ]
    first = details[0] if details else {"field": "body", "message": "invalid"}
    return error_response(request, 422, f"{first['field']}: {first['message']}", details=details)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "sign in or send a valid bearer token")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    code = "invalid_json" if exc.status_code == 400 and "parse" in message.lower() else None
    return error_response(request, exc.status_code, message, code=code)


RETRY_SQLSTATES = {"55P03", "40P01", "40001"}  # lock timeout, deadlock, serialization failure


@api.exception_handler(OperationalError)
def _operational_error(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    """A lock not obtained in time or a deadlock: the request may be sent again (429, not a
    5xx). Anything else (the database is down) stays a server error."""
    if getattr(exc.__cause__, "sqlstate", None) in RETRY_SQLSTATES:
        response = error_response(request, 429, "busy right now; send the request again", code="busy")
        response["Retry-After"] = "1"
        return response
    raise exc


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    """A value the database cannot store (too long, too large, a NUL character) that no
    validation caught: the caller's input, so a 422."""
    return error_response(
        request,
        422,
        "a value is too long, too large or holds a character that is not allowed",
        code="invalid",
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, str(exc) or "not found")


api.add_router("/", core_router)
api.add_router("/", collection_router)
api.add_router("/", moves_router)
api.add_router("/", convoys_router)
api.add_router("/", planning_router)
api.add_router("/", telemetry_router)
api.add_router("/", scanner_router)
api.add_router("/", payments_router)
api.add_router("/", sales_router)
api.add_router("/", ticketing_manage_router)
api.add_router("/", tickets_router)
api.add_router("/", waiting_router)
api.add_router("/", access_router)
api.add_router("/", access_reports_router)
api.add_router("/", passnet_router)
api.add_router("/", reporting_router)
api.add_router("/", missions_router)
api.add_router("/", purchasing_router)
