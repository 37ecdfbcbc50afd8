"""The sandbox gateway as a WSGI application, and the loop that serves it on loopback.

Routes: ``POST /alipay/gateway.do`` (Alipay), ``/v3/…`` (WeChat Pay), ``/pay/<provider>/<id>``
(the wallet's page), ``/sandbox/trades/<provider>/<id>`` (what it did, for tests),
``GET /health``.
"""

from __future__ import annotations

import http
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cimaise.payments.gateway import alipay, pages, wechatpay
from cimaise.payments.gateway.delivery import Deliverer, Policy
from cimaise.payments.gateway.state import GatewayState, settings_write
from cimaise.payments.gateway.store import Store
from cimaise.payments.gateway.web import Context, Request, Response, text

logger = logging.getLogger("cimaise.payments.gateway")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class GatewayApp:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            response = self.route(request)
        except Exception:  # a bug in the sandbox: say so, as a gateway would, and keep serving
            logger.exception("sandbox: %s %s failed", request.method, request.path)
            response = text(500, "sandbox gateway error")
        reason = http.HTTPStatus(response.status).phrase
        headers = [("Content-Type", response.content_type), *response.headers.items()]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {reason}", headers)
        return [response.body]

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health":
            return text(200, "ok")
        if path == "/alipay/gateway.do" and request.method == "POST":
            return alipay.handle(self.ctx, request)
        if path.startswith("/v3/"):
            return wechatpay.handle(self.ctx, request)
        if pages.handles(path):
            return pages.handle(self.ctx, request)
        return text(404, "not found")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base's name)
        logger.debug("sandbox: " + format, *args)


def check_loopback(host: str) -> None:
    """The sandbox takes fake payments: it never listens beyond this machine."""
    if host == "localhost":
        return
    try:
        if ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"{host} is not a loopback address: the sandbox serves 127.0.0.1 or ::1 only")


@dataclass(frozen=True)
class Running:
    """A gateway that is serving: its address, its settings file, and how to stop it."""

    base_url: str
    settings_file: Path
    server: WSGIServer
    store: Store
    deliverer: Deliverer
    stop: threading.Event

    def shutdown(self) -> None:
        """Stop serving and sending, and close the store."""
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.deliverer.join(timeout=15)
        self.store.close()


def start(state: GatewayState, *, host: str, port: int, notify_base: str, policy: Policy) -> Running:
    """Bind, write ``settings.json``, and serve in background threads (the caller waits)."""
    check_loopback(host)
    server_class = _Server6 if ":" in host else _Server
    store = Store(state.directory / "gateway.sqlite3")
    holder: dict[str, GatewayApp] = {}

    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return holder["app"](environ, start_response)

    server = make_server(host, port, dispatch, server_class=server_class, handler_class=_Quiet)
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown}:{bound}"
    ctx = Context(state=state, store=store, base_url=base_url, notify_base=notify_base.rstrip("/"))
    holder["app"] = GatewayApp(ctx)
    stop = threading.Event()
    channels = {"alipay": alipay.CHANNEL, "wechatpay": wechatpay.channel(ctx)}
    deliverer = Deliverer(store, policy, channels, stop)
    deliverer.start()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return Running(
        base_url=base_url,
        settings_file=settings_write(state, base_url),
        server=server,
        store=store,
        deliverer=deliverer,
        stop=stop,
    )
