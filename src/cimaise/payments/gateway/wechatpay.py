"""The sandbox's WeChat Pay API v3, cross-border (``/v3/global/…``) and mainland (``/v3/pay/…``,
``/v3/refund/domestic/refunds``): Native orders, query and close by ``out_trade_no``, refunds
idempotent by ``out_refund_no``; every answer signed with the platform key, and an encrypted,
signed ``TRANSACTION.SUCCESS`` notification once a trade is paid on its page.

As the real one: a request whose ``Authorization`` does not check out (mchid, merchant
certificate serial, a timestamp within 5 minutes, the signature over method, path and query,
timestamp, nonce and body) gets 401 ``SIGN_ERROR``; a failed payment sends no notification (the
shop learns it by querying). Unlike it, ``notify_url`` may be plain http on this machine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from cimaise.payments.gateway import store as states
from cimaise.payments.gateway.delivery import Channel
from cimaise.payments.gateway.store import Delivery, Trade
from cimaise.payments.gateway.web import Context, Request, Response
from cimaise.payments.protocols import HttpAnswer, rsa_verify, wechatpay

PROVIDER = "wechatpay"
_NATIVE = re.compile(r"^/v3/(global|pay)/transactions/native$")
_TRANSACTION = re.compile(r"^/v3/(global|pay)/transactions/out-trade-no/([^/]+)$")
_CLOSE = re.compile(r"^/v3/(global|pay)/transactions/out-trade-no/([^/]+)/close$")
_REFUNDS = re.compile(r"^/v3/(global/refunds|refund/domestic/refunds)$")
_REFUND = re.compile(r"^/v3/(?:global/refunds/out-refund-no|refund/domestic/refunds)/([^/]+)$")
_TRADE_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_STATE = {
    states.CREATED: "NOTPAY",
    states.WAITING: "NOTPAY",
    states.PAID: "SUCCESS",
    states.CLOSED: "CLOSED",
    states.FAILED: "PAYERROR",
}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def handle(ctx: Context, request: Request) -> Response:
    try:
        _authenticate(ctx, request)
        status, data = _dispatch(ctx, request)
    except Refused as exc:
        status, data = exc.status, {"code": exc.code, "message": exc.message}
    return _signed(ctx, status, data)


def _signed(ctx: Context, status: int, data: Mapping[str, Any] | None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() if data is not None else b""
    headers = wechatpay.signed_headers(
        private_key=ctx.state.wechat_platform_key,
        serial_no=ctx.state.wechat_platform_serial,
        body=body,
        now=dt.datetime.now(dt.UTC),
    )
    return Response(status=status, body=body, headers=headers | {"Request-ID": uuid.uuid4().hex})


def _authenticate(ctx: Context, request: Request) -> None:
    try:
        auth = wechatpay.authorization_parse(request.headers.get("authorization", ""))
        text = request.body.decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(401, "SIGN_ERROR", f"Authorization: {exc}") from None
    if auth["mchid"] != ctx.state.wechat_mchid:
        raise Refused(401, "SIGN_ERROR", "mchid is not a merchant of this gateway")
    if auth["serial_no"] != ctx.state.wechat_merchant_serial:
        raise Refused(401, "SIGN_ERROR", "serial_no is not the merchant's API certificate")
    if (
        not auth["timestamp"].isdigit()
        or abs(ctx.now() - int(auth["timestamp"])) > wechatpay.MAX_SKEW_SECONDS
    ):
        raise Refused(401, "SIGN_ERROR", "timestamp is more than 5 minutes from now")
    message = wechatpay.request_message(
        request.method, request.target, auth["timestamp"], auth["nonce_str"], text
    )
    if not rsa_verify(ctx.state.wechat_merchant_key, message.encode(), auth["signature"]):
        raise Refused(401, "SIGN_ERROR", "签名错误")


def _dispatch(ctx: Context, request: Request) -> tuple[int, dict[str, Any] | None]:
    path, method = request.path, request.method
    if method == "POST" and (match := _NATIVE.match(path)):
        return 200, _native(ctx, _body(request), cross_border=match.group(1) == "global")
    if method == "POST" and (match := _CLOSE.match(path)):
        return _close(ctx, _body(request), match.group(2))
    if method == "GET" and (match := _TRANSACTION.match(path)):
        _own_mchid(ctx, request)
        return 200, transaction(ctx, _trade(ctx, match.group(2)))
    if method == "POST" and (match := _REFUNDS.match(path)):
        return 200, _refund(ctx, _body(request), cross_border=match.group(1) == "global/refunds")
    if method == "GET" and (match := _REFUND.match(path)):
        if path.startswith("/v3/global/"):
            _own_mchid(ctx, request)
        return 200, _refund_query(ctx, match.group(1))
    raise Refused(404, "NOT_FOUND", f"no {method} {path}")


def _own_mchid(ctx: Context, request: Request) -> None:
    if request.query.get("mchid") != ctx.state.wechat_mchid:
        raise Refused(400, "PARAM_ERROR", "mchid is missing or not yours")


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Refused(400, "PARAM_ERROR", "the body is not a JSON object")
    return data


def _amount(data: Mapping[str, Any], name: str) -> tuple[int, str]:
    amount = data.get("amount")
    value = amount.get(name) if isinstance(amount, dict) else None
    currency = str(amount.get("currency") or "CNY") if isinstance(amount, dict) else ""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value <= 0
        or not re.match(r"^[A-Z]{3}$", currency)
    ):
        raise Refused(400, "PARAM_ERROR", f"amount.{name} and amount.currency are required")
    return value, currency


def _native(ctx: Context, data: Mapping[str, Any], *, cross_border: bool) -> dict[str, Any]:
    out_trade_no = str(data.get("out_trade_no", ""))
    if data.get("mchid") != ctx.state.wechat_mchid or data.get("appid") != ctx.state.wechat_appid:
        raise Refused(400, "APPID_MCHID_NOT_MATCH", "appid and mchid do not match")
    if not _TRADE_NO.match(out_trade_no) or not data.get("description") or not data.get("notify_url"):
        raise Refused(400, "PARAM_ERROR", "out_trade_no, description and notify_url are required")
    total, currency = _amount(data, "total")
    if cross_border and (data.get("trade_type") != "NATIVE" or not data.get("merchant_category_code")):
        raise Refused(400, "PARAM_ERROR", "trade_type NATIVE and merchant_category_code are required")
    if not cross_border and currency != "CNY":
        raise Refused(400, "PARAM_ERROR", "the mainland API takes CNY only")
    expires = wechatpay.time_parse(data.get("time_expire"))
    trade = ctx.store.trade_add(
        Trade(
            provider=PROVIDER,
            out_trade_no=out_trade_no,
            trade_no=_transaction_id(),
            merchant=ctx.state.wechat_mchid,
            amount=f"{wechatpay.from_minor(total, currency)}",
            currency=currency,
            subject=str(data["description"]),
            notify_url=str(data["notify_url"]),
            state=states.CREATED,
            created_at=ctx.now(),
            expires_at=expires.timestamp() if expires else None,
            paid_at=None,
            extra={"total": total},
        )
    )
    if (trade.extra.get("total"), trade.currency) != (total, currency) or trade.state != states.CREATED:
        raise Refused(
            400, "INVALID_REQUEST", "this out_trade_no was used with other parameters or is settled"
        )
    return {"code_url": f"{ctx.base_url}/pay/{PROVIDER}/{out_trade_no}"}


def _trade(ctx: Context, out_trade_no: str) -> Trade:
    trade = ctx.store.trade(PROVIDER, out_trade_no)
    if trade is None:
        raise Refused(404, "ORDER_NOT_EXIST", "订单不存在")
    return trade


def transaction(ctx: Context, trade: Trade) -> dict[str, Any]:
    """The transaction object of a query answer and of a notification's resource."""
    total = int(trade.extra["total"])
    data: dict[str, Any] = {
        "appid": ctx.state.wechat_appid,
        "mchid": trade.merchant,
        "out_trade_no": trade.out_trade_no,
        "transaction_id": trade.trade_no,
        "trade_type": "NATIVE",
        "trade_state": _STATE[trade.state],
        "trade_state_desc": _STATE[trade.state],
        "bank_type": "OTHERS",
        "payer": {"openid": "oSandboxPayer0000000000000000"},
        "amount": {
            "total": total,
            "currency": trade.currency,
            "payer_total": total,
            "payer_currency": trade.currency,
        },
    }
    if trade.paid_at is not None:
        paid = dt.datetime.fromtimestamp(trade.paid_at, dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        data["success_time"] = wechatpay.time_text(paid)
    return data


def _close(ctx: Context, data: Mapping[str, Any], out_trade_no: str) -> tuple[int, None]:
    if data.get("mchid") != ctx.state.wechat_mchid:
        raise Refused(400, "PARAM_ERROR", "mchid is missing or not yours")
    trade = _trade(ctx, out_trade_no)
    if trade.state == states.PAID:
        raise Refused(400, "ORDERPAID", "订单已支付")
    ctx.store.trade_move(trade, before=(states.CREATED, states.WAITING, states.FAILED), after=states.CLOSED)
    return 204, None


def _refund(ctx: Context, data: Mapping[str, Any], *, cross_border: bool) -> dict[str, Any]:
    if cross_border and data.get("mchid") != ctx.state.wechat_mchid:
        raise Refused(400, "PARAM_ERROR", "mchid is missing or not yours")
    trade, refund_no = _trade(ctx, str(data.get("out_trade_no", ""))), str(data.get("out_refund_no", ""))
    refund, currency = _amount(data, "refund")
    total, _currency = _amount(data, "total")
    if (
        trade.state != states.PAID
        or total != trade.extra["total"]
        or currency != trade.currency
        or not refund_no
    ):
        raise Refused(400, "INVALID_REQUEST", "the order is not paid, or amount.total or currency differ")
    done = {row["refund_no"]: int(row["amount"]) for row in ctx.store.refunds(PROVIDER, trade.out_trade_no)}
    if (refund_no in done and done[refund_no] != refund) or (
        refund_no not in done and sum(done.values()) + refund > total
    ):
        raise Refused(400, "INVALID_REQUEST", "out_refund_no was used for another amount, or too much")
    ctx.store.refund_add(PROVIDER, trade.out_trade_no, refund_no, str(refund), f"50{secrets.token_hex(14)}")
    return _refund_answer(trade, refund_no, ctx, status=wechatpay.REFUND_PENDING)


def _refund_query(ctx: Context, refund_no: str) -> dict[str, Any]:
    """A refund accepted earlier is done by the time anyone asks (the sandbox's bank is quick)."""
    row = ctx.store.refund_found(PROVIDER, refund_no)
    trade = ctx.store.trade(PROVIDER, str(row["out_trade_no"])) if row else None
    if trade is None:
        raise Refused(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return _refund_answer(trade, refund_no, ctx, status=wechatpay.REFUNDED)


def _refund_answer(trade: Trade, refund_no: str, ctx: Context, *, status: str) -> dict[str, Any]:
    row = ctx.store.refund_found(PROVIDER, refund_no) or {}
    refund, total = int(row["amount"]), int(trade.extra["total"])
    when = wechatpay.time_text(dt.datetime.fromtimestamp(row["created_at"], dt.UTC))
    answer = {
        "id": row["refund_id"],
        "refund_id": row["refund_id"],
        "out_refund_no": refund_no,
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "channel": "ORIGINAL",
        "status": status,
        "create_time": when,
        "amount": {"refund": refund, "total": total, "currency": trade.currency, "payer_refund": refund},
    }
    return answer | ({"success_time": when} if status == wechatpay.REFUNDED else {})


def settle(ctx: Context, trade: Trade, *, paid: bool, notify: bool) -> bool:
    """The payer paid (notified) or the payment failed (no notification, as WeChat Pay)."""
    after = states.PAID if paid else states.FAILED
    if not ctx.store.trade_move(trade, before=(states.CREATED, states.WAITING), after=after):
        return False
    settled = ctx.store.trade(PROVIDER, trade.out_trade_no)
    if paid and notify and settled is not None:
        ctx.store.delivery_add(
            PROVIDER,
            trade.out_trade_no,
            trade.notify_url,
            _notification(ctx, settled),
            duplicate=False,
            at=time.time(),
        )
    return True


def _notification(ctx: Context, trade: Trade) -> bytes:
    plaintext = json.dumps(transaction(ctx, trade), ensure_ascii=False, separators=(",", ":")).encode()
    envelope = {
        "id": f"EV-{uuid.uuid4()}",
        "create_time": wechatpay.time_text(dt.datetime.now(dt.UTC)),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": wechatpay.resource_encrypt(
            ctx.state.wechat_api_v3_key, plaintext, associated_data="transaction", original_type="transaction"
        ),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def _transaction_id() -> str:
    return "4200" + "".join(secrets.choice("0123456789") for _ in range(24))


def channel(ctx: Context) -> Channel:
    """Each attempt is signed afresh (a new timestamp and nonce), as WeChat Pay's retries are."""

    def headers(delivery: Delivery) -> dict[str, str]:
        signed = wechatpay.signed_headers(
            private_key=ctx.state.wechat_platform_key,
            serial_no=ctx.state.wechat_platform_serial,
            body=delivery.body,
            now=dt.datetime.now(dt.UTC),
        )
        return {"Content-Type": "application/json", **signed}

    def acknowledged(answer: HttpAnswer) -> bool:
        return 200 <= answer.status < 300

    return Channel(headers=headers, acknowledged=acknowledged)
