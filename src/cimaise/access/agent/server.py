"""The agent's loopback HTTP interface for the lanes of its entrance.

- ``POST /scan`` ``{code, lane, direction?: in|out, nonce?, scanned_at?}`` →
  ``{result, reason, text, people, nonce, mode: online|offline, replayed, ticket}``. The text is
  in the request's ``Accept-Language`` (English, French).
- ``POST /not-passed`` ``{lane, nonce}`` → ``{cancelled: true|false}``.
- ``GET /status`` → online state, last sync, queued entries, conflicts found at upload.

Errors are JSON ``{"error": {"code", "message", "field"}}`` with a 4xx status; bodies over
16 KiB are refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import translation

from cimaise.access.agent.core import AgentError, EntranceAgent
from cimaise.access.texts import reason_text

log = logging.getLogger("cimaise.access.agent")

MAX_BODY = 16 * 1024


def language_of(header: str) -> str:
    """The first supported language of an ``Accept-Language`` header (else English)."""
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag:
            continue
        try:
            return translation.get_supported_language_variant(tag)
        except LookupError:
            continue
    return "en"


class Handler(BaseHTTPRequestHandler):
    server: AgentServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # answers go out as soon as written (no Nagle delay waiting on the lane's ACK)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/status":
            self._send(200, self.server.agent.state())
        else:
            self._error(404, "not_found", f"no route {self.path}")

    def do_POST(self) -> None:
        route = self.path.split("?")[0]
        if route not in ("/scan", "/not-passed"):
            self._error(404, "not_found", f"no route {self.path}")
            return
        body = self._body()
        if body is None:
            return
        try:
            if route == "/scan":
                self._scan(body)
            else:
                cancelled = self.server.agent.not_passed(lane=_text(body, "lane"), nonce=_text(body, "nonce"))
                self._send(200, {"cancelled": cancelled})
        except AgentError as exc:
            self._error(exc.status, "invalid" if exc.status == 422 else "refused", str(exc), exc.field)

    def _scan(self, body: dict[str, Any]) -> None:
        scanned_at = None
        if body.get("scanned_at"):
            try:
                scanned_at = dt.datetime.fromisoformat(str(body["scanned_at"]))
            except ValueError:
                raise AgentError(422, "scanned_at: an ISO 8601 time with its offset", "scanned_at") from None
            if scanned_at.tzinfo is None:
                raise AgentError(422, "scanned_at: a time with its offset", "scanned_at")
        language = language_of(self.headers.get("Accept-Language", ""))
        answer = self.server.agent.scan(
            lane=_text(body, "lane"),
            code=_text(body, "code", required=False),
            direction=_text(body, "direction", required=False) or "in",
            nonce=_text(body, "nonce", required=False),
            scanned_at=scanned_at,
            language=language,
        )
        with translation.override(language):
            text = reason_text(answer.reason)
        self._send(
            200,
            {
                "result": answer.result,
                "reason": answer.reason,
                "text": text,
                "people": answer.people,
                "nonce": answer.nonce,
                "mode": answer.mode,
                "replayed": answer.replayed,
                "ticket": answer.ticket,
            },
        )

    def _body(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._error(413, "too_large", f"a body of at most {MAX_BODY} bytes")
            self.close_connection = True
            return None
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, UnicodeDecodeError):
            self._error(400, "invalid_json", "the body is not JSON")
            return None
        if not isinstance(body, dict):
            self._error(400, "invalid_json", "the body is a JSON object")
            return None
        return body

    def _error(self, status: int, code: str, message: str, field: str = "") -> None:
        self._send(status, {"error": {"code": code, "message": message, "field": field or None}})

    def _send(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data, default=str, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise AgentError(422, f"{name}: a text", name)
    return value


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], agent: EntranceAgent) -> None:
        super().__init__(address, Handler)
        self.agent = agent
