"""The agent's HTTP client for the central service's access API (bearer token, JSON, timeouts).

Any failure to get an answer (refused, reset, timed out, a 5xx, a 429 ``busy``) is
``Unreachable``: the agent then decides alone. A 4xx other than 429 is the central service's
answer to a bad request and is raised as ``Refused`` with its body.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any


class Unreachable(Exception):
    """The central service did not answer in time, or could not answer."""


class Refused(Exception):
    """The central service answered with a 4xx (other than 429)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Central:
    def __init__(self, url: str, token: str) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"central: an http(s) URL, not {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, *, timeout: float, language: str = ""
    ) -> dict[str, Any]:
        connection_class = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(self.host, self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if language:
            headers["Accept-Language"] = language
        data = None
        if body is not None:
            data = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, self.prefix + path, body=data, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
            raise Unreachable(str(exc) or type(exc).__name__) from exc
        finally:
            connection.close()
        if status >= 500 or status == 429:
            raise Unreachable(f"HTTP {status}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise Unreachable(f"HTTP {status}: not JSON") from exc
        if status >= 400:
            raise Refused(status, answer)
        return dict(answer)

    def scan(self, body: dict[str, Any], *, timeout: float, language: str = "") -> dict[str, Any]:
        return self.call("POST", "/api/v1/access/scans", body, timeout=timeout, language=language)

    def not_passed(self, body: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        return self.call("POST", "/api/v1/access/not-passed", body, timeout=timeout)

    def feed(self, entrance: str, since: str, queued: int, *, timeout: float) -> dict[str, Any]:
        query = urllib.parse.urlencode({"since": since, "queued": queued})
        return self.call("GET", f"/api/v1/access/entrances/{entrance}/feed?{query}", timeout=timeout)

    def upload(
        self, entrance: str, entries: list[dict[str, Any]], queued: int, *, timeout: float
    ) -> dict[str, Any]:
        body = {"entries": entries, "queued": queued}
        return self.call("POST", f"/api/v1/access/entrances/{entrance}/entries", body, timeout=timeout)
