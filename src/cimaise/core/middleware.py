"""Request ids on every response; JSON errors for every 4xx/5xx under /api/."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.db import DataError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from cimaise.core.api_errors import error_response
from cimaise.core.errors import DomainError, InvalidInput

logger = logging.getLogger("cimaise.api")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
Handler = Callable[[HttpRequest], HttpResponseBase]


class RequestIdMiddleware:
    """Takes a sane incoming ``X-Request-ID`` or makes one; echoes it on the response."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorMiddleware:
    """Under /api/: turns non-JSON error responses (Django's 404/405, CSRF 403) and uncaught
    exceptions into the JSON error format. A 5xx is still logged: it is a bug."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400:
            return response
        if _is_json(response):
            return response
        return self._replace(request, response)

    def _replace(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponse:
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            new = error_response(request, 405, f"{request.method} is not allowed here (allowed: {allowed})")
            new["Allow"] = allowed
            return new
        if status >= 500:
            return error_response(
                request, status, "internal error; the request id is logged", code="internal"
            )
        text = getattr(response, "content", b"")[:200].decode(errors="replace").strip()
        message = text if text and not text.startswith("<") else f"HTTP {status}"
        return error_response(request, status, message)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            if request.path.startswith("/api/"):
                return error_response(
                    request,
                    exception.status,
                    exception.message,
                    code=exception.code,
                    details=exception.details,
                )
            return render(request, "core/error.html", {"error": exception}, status=exception.status)
        if isinstance(exception, DataError) and not request.path.startswith("/api/"):
            invalid = InvalidInput("a value is too long, too large or holds a character that is not allowed")
            return render(request, "core/error.html", {"error": invalid}, status=invalid.status)
        if not request.path.startswith("/api/"):
            return None
        logger.error(
            "unhandled API error %s %s request_id=%s",
            request.method,
            request.path,
            getattr(request, "request_id", "-"),
            exc_info=exception,
        )
        return error_response(request, 500, "internal error; the request id is logged", code="internal")
