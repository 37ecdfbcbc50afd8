"""The sandbox gateway's plumbing: a request as WSGI hands it over, an answer, and what every
handler shares (its identity, its store, where it is reachable)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from cimaise.payments.gateway.state import GatewayState
from cimaise.payments.gateway.store import Store

_MAX_BODY = 1_000_000


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, _MAX_BODY)) if length > 0 else b""
        headers = {
            name[5:].replace("_", "-").lower(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        path = str(environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", errors="replace")
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query_string=str(environ.get("QUERY_STRING") or ""),
            headers=headers,
            body=body,
        )

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def target(self) -> str:
        """Path and query, as WeChat Pay signs them."""
        return f"{self.path}?{self.query_string}" if self.query_string else self.path


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """``base_url``: where this gateway answers (QR codes point at its pages); ``notify_base``:
    the shop's address, for a request that names no ``notify_url``."""

    state: GatewayState
    store: Store
    base_url: str
    notify_base: str

    def now(self) -> float:
        return time.time()


def text(status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status=status, body=body.encode(), content_type=content_type)
