"""The JSON error format of the API: ``{"error": {"code", "message", "details"}}``.

Every 4xx under /api/ uses it, including Django's own 404 and 405 for unknown routes and methods
(see ``ApiErrorMiddleware``), so a client never has to parse HTML.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "throttled",
}


def error_body(status: int, message: str, *, code: str | None = None, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code or STATUS_CODES.get(status, "error"),
            "message": message,
            "details": details,
        }
    }


def error_response(
    request: HttpRequest, status: int, message: str, *, code: str | None = None, details: Any = None
) -> JsonResponse:
    body = error_body(status, message, code=code, details=details)
    request_id = getattr(request, "request_id", None)
    if request_id:
        body["error"]["request_id"] = request_id
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /api/ that no route matches."""
    return error_response(request, 404, f"no API route {request.path}")


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """``("body", "payload", "items", 0, "quantity")`` → ``items[0].quantity``."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie", "form", "payload")]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"
