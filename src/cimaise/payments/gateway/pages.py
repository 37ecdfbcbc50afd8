"""The wallet's side, played in a browser: ``/pay/<provider>/<out_trade_no>`` is what the QR code
holds. It shows the trade, its QR code, and two buttons: **Pay** and **Fail** (a hidden
``notify=0`` pays without notifying, to rehearse a lost notification). ``/sandbox/trades/…``
tells a test what the gateway did (state, refunds, every delivery attempt and its answer)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import parse_qsl

import segno

from cimaise.payments.gateway import alipay, wechatpay
from cimaise.payments.gateway import store as states
from cimaise.payments.gateway.store import Trade
from cimaise.payments.gateway.web import Context, Request, Response, text

_PAGE = re.compile(r"^/pay/(alipay|wechatpay)/([A-Za-z0-9_\-|*]{1,64})$")
_STATUS = re.compile(r"^/sandbox/trades/(alipay|wechatpay)/([A-Za-z0-9_\-|*]{1,64})$")
_SETTLE: dict[str, Callable[..., bool]] = {"alipay": alipay.settle, "wechatpay": wechatpay.settle}
_NAMES = {"alipay": "Alipay 支付宝", "wechatpay": "WeChat Pay 微信支付"}
_SHOWN = {
    states.CREATED: "Awaiting payment",
    states.WAITING: "Awaiting payment",
    states.PAID: "Paid",
    states.CLOSED: "Closed",
    states.FAILED: "Failed",
}


def handles(path: str) -> bool:
    return bool(_PAGE.match(path) or _STATUS.match(path))


def handle(ctx: Context, request: Request) -> Response:
    status = _STATUS.match(request.path)
    if status is not None:
        return _status(ctx, status.group(1), status.group(2))
    page = _PAGE.match(request.path)
    trade = ctx.store.trade(page.group(1), page.group(2)) if page else None
    if trade is None:
        return text(404, "no such trade")
    if request.method == "POST":
        return _act(ctx, trade, request)
    if trade.provider == "alipay":
        alipay.scanned(ctx, trade)
    return _page(ctx, ctx.store.trade(trade.provider, trade.out_trade_no) or trade, "")


def _act(ctx: Context, trade: Trade, request: Request) -> Response:
    form = dict(parse_qsl(request.body.decode("utf-8", errors="replace")))
    action, notify = form.get("action"), form.get("notify", "1") != "0"
    if trade.expired(ctx.now()):
        ctx.store.trade_move(trade, before=(states.CREATED, states.WAITING), after=states.CLOSED)
        return _page(
            ctx, ctx.store.trade(trade.provider, trade.out_trade_no) or trade, "This trade has expired.", 409
        )
    if action not in ("pay", "fail"):
        return _page(ctx, trade, "Choose pay or fail.", 400)
    if not _SETTLE[trade.provider](ctx, trade, paid=action == "pay", notify=notify):
        return _page(ctx, trade, "This trade can no longer be paid.", 409)
    return Response(status=303, body=b"", content_type="text/plain", headers={"Location": request.path})


def _page(ctx: Context, trade: Trade, message: str, status: int = 200) -> Response:
    url = f"{ctx.base_url}/pay/{trade.provider}/{trade.out_trade_no}"
    qr = segno.make_qr(url).svg_inline(scale=4)
    open_ = trade.state in (states.CREATED, states.WAITING)
    buttons = (
        '<form method="post"><input type="hidden" name="notify" value="1">'
        '<button name="action" value="pay">Pay</button> '
        '<button name="action" value="fail">Fail</button></form>'
        if open_
        else ""
    )
    alert = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(_NAMES[trade.provider])} sandbox</title></head>
<body style="font-family: sans-serif; max-width: 24rem; margin: 1rem auto; padding: 0 1rem">
<h1>{html.escape(_NAMES[trade.provider])} (sandbox)</h1>
<p>{html.escape(trade.subject)}</p>
<p><strong>{html.escape(trade.amount)} {html.escape(trade.currency)}</strong></p>
<div>{qr}</div>
<p role="status">{_SHOWN[trade.state]}</p>{alert}{buttons}
</body></html>"""
    return text(status, body, "text/html; charset=utf-8")


def _status(ctx: Context, provider: str, out_trade_no: str) -> Response:
    trade = ctx.store.trade(provider, out_trade_no)
    if trade is None:
        return text(404, "no such trade")
    payload = {
        "trade": asdict(trade),
        "refunds": ctx.store.refunds(provider, out_trade_no),
        "deliveries": ctx.store.deliveries(provider, out_trade_no),
    }
    return Response(status=200, body=json.dumps(payload).encode())
