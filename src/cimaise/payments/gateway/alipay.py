"""The sandbox's Alipay: ``POST /alipay/gateway.do`` with ``alipay.trade.precreate``, ``.query``,
``.refund`` and ``.close``, signed answers, and signed notifications once a trade is paid or
closed on its page.

As the real gateway: a request not signed with the merchant's key, or for another app id, is
refused (``40002`` ``isv.invalid-signature`` / ``isv.invalid-app-id``); a precreated trade does
not exist for ``query`` until its QR code is scanned (its page opened); a refund is idempotent by
``out_request_no``. Unlike it, closing an unscanned trade also voids its QR code here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from cimaise.payments.gateway import store as states
from cimaise.payments.gateway.delivery import Channel
from cimaise.payments.gateway.store import Delivery, Trade
from cimaise.payments.gateway.web import Context, Request, Response
from cimaise.payments.protocols import HttpAnswer, alipay

PROVIDER = "alipay"
_AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
_TRADE_NO = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_STATUS = {
    states.WAITING: alipay.WAITING,
    states.PAID: "TRADE_SUCCESS",
    states.CLOSED: alipay.CLOSED,
    states.FAILED: alipay.CLOSED,
}
Answer = dict[str, Any]


def handle(ctx: Context, request: Request) -> Response:
    """One call to the gateway: common parameters from the query string and the form body."""
    try:
        params = {**request.query, **alipay.form_parse(request.body)}
    except ValueError:
        params = {}
    method = params.get("method", "")
    answer = _refusal(ctx, params) or _dispatch(ctx, method, params)
    body = alipay.response_body(method or "error", answer, ctx.state.alipay_private_key)
    return Response(status=200, body=body, content_type="text/html;charset=utf-8")


def _error(code: str, msg: str, sub_code: str, sub_msg: str) -> Answer:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _business(sub_code: str, sub_msg: str) -> Answer:
    return _error("40004", "Business Failed", sub_code, sub_msg)


def _refusal(ctx: Context, params: Mapping[str, str]) -> Answer | None:
    if params.get("app_id") != ctx.state.alipay_app_id:
        return _error("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
    if not alipay.request_verify(params, ctx.state.alipay_merchant_key):
        return _error("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
    return None


def _dispatch(ctx: Context, method: str, params: Mapping[str, str]) -> Answer:
    handler = _METHODS.get(method)
    if handler is None:
        return _error("40002", "Invalid Arguments", "isv.invalid-method", f"不存在的方法名 {method[:60]}")
    try:
        biz = json.loads(params.get("biz_content", ""))
    except ValueError:
        biz = None
    if not isinstance(biz, dict) or not _TRADE_NO.match(str(biz.get("out_trade_no", ""))):
        return _business("ACQ.INVALID_PARAMETER", "biz_content or out_trade_no is invalid")
    return handler(ctx, biz, params)


def _precreate(ctx: Context, biz: Mapping[str, Any], params: Mapping[str, str]) -> Answer:
    amount, subject = str(biz.get("total_amount", "")), str(biz.get("subject", ""))
    if not _AMOUNT.match(amount) or Decimal(amount) <= 0 or not subject:
        return _business("ACQ.INVALID_PARAMETER", "total_amount and subject are required")
    currency = str(biz.get("trans_currency") or "CNY")
    expires = alipay.timestamp_parse(str(biz.get("time_expire", "")))
    trade = ctx.store.trade_add(
        Trade(
            provider=PROVIDER,
            out_trade_no=str(biz["out_trade_no"]),
            trade_no=_trade_no(),
            merchant=ctx.state.alipay_app_id,
            amount=f"{Decimal(amount):.2f}",
            currency=currency,
            subject=subject,
            notify_url=params.get("notify_url") or f"{ctx.notify_base}/api/v1/payments/alipay/notify",
            state=states.CREATED,
            created_at=ctx.now(),
            expires_at=expires.timestamp() if expires else None,
            paid_at=None,
            extra={"settle_currency": str(biz.get("settle_currency") or currency)},
        )
    )
    if (trade.amount, trade.currency) != (f"{Decimal(amount):.2f}", currency):
        return _business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
    if trade.state in (states.PAID, states.CLOSED, states.FAILED):
        return _business(
            "ACQ.TRADE_HAS_CLOSE" if trade.state != states.PAID else "ACQ.TRADE_HAS_SUCCESS", "交易已结束"
        )
    qr = f"{ctx.base_url}/pay/{PROVIDER}/{trade.out_trade_no}"
    return {"code": alipay.SUCCESS_CODE, "msg": "Success", "out_trade_no": trade.out_trade_no, "qr_code": qr}


def _visible(ctx: Context, out_trade_no: str) -> Trade | None:
    trade = ctx.store.trade(PROVIDER, out_trade_no)
    return None if trade is None or trade.state == states.CREATED else trade


def _query(ctx: Context, biz: Mapping[str, Any], params: Mapping[str, str]) -> Answer:
    trade = _visible(ctx, str(biz["out_trade_no"]))
    if trade is None:
        return _business("ACQ.TRADE_NOT_EXIST", "交易不存在")
    answer = {
        "code": alipay.SUCCESS_CODE,
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": "sandbox***@example.org",
        "trade_status": _STATUS[trade.state],
        "total_amount": trade.amount,
        **_currencies(trade),
    }
    if trade.paid_at is not None:
        answer["send_pay_date"] = alipay.timestamp_text(dt.datetime.fromtimestamp(trade.paid_at, dt.UTC))
    return answer


def _refund(ctx: Context, biz: Mapping[str, Any], params: Mapping[str, str]) -> Answer:
    trade = _visible(ctx, str(biz["out_trade_no"]))
    amount = str(biz.get("refund_amount", ""))
    if trade is None or trade.state != states.PAID:
        return _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    if not _AMOUNT.match(amount) or Decimal(amount) <= 0:
        return _business("ACQ.INVALID_PARAMETER", "refund_amount is invalid")
    request_no = str(biz.get("out_request_no") or trade.out_trade_no)
    done = {
        row["refund_no"]: Decimal(row["amount"]) for row in ctx.store.refunds(PROVIDER, trade.out_trade_no)
    }
    if request_no in done and done[request_no] != Decimal(amount):
        return _business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与原请求不一致")
    if request_no not in done and sum(done.values(), Decimal(amount)) > Decimal(trade.amount):
        return _business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
    added = ctx.store.refund_add(
        PROVIDER, trade.out_trade_no, request_no, f"{Decimal(amount):.2f}", request_no
    )
    total = sum(done.values(), Decimal(amount) if added else Decimal(0))
    answer = {
        "code": alipay.SUCCESS_CODE,
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": "sandbox***@example.org",
        "fund_change": "Y" if added else "N",
        "refund_fee": f"{total:.2f}",
    }
    return answer | ({"refund_currency": trade.currency} if trade.currency != "CNY" else {})


def _close(ctx: Context, biz: Mapping[str, Any], params: Mapping[str, str]) -> Answer:
    trade = ctx.store.trade(PROVIDER, str(biz["out_trade_no"]))
    if trade is None:
        return _business("ACQ.TRADE_NOT_EXIST", "交易不存在")
    if ctx.store.trade_move(trade, before=(states.CREATED,), after=states.CLOSED):
        return _business("ACQ.TRADE_NOT_EXIST", "交易不存在")  # never scanned (and now void here)
    if not ctx.store.trade_move(trade, before=(states.WAITING,), after=states.CLOSED):
        return _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    return {
        "code": alipay.SUCCESS_CODE,
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
    }


_METHODS: dict[str, Callable[[Context, Mapping[str, Any], Mapping[str, str]], Answer]] = {
    "alipay.trade.precreate": _precreate,
    "alipay.trade.query": _query,
    "alipay.trade.refund": _refund,
    "alipay.trade.close": _close,
}


def scanned(ctx: Context, trade: Trade) -> None:
    """Opening the page is scanning the QR code: the trade now exists for queries."""
    ctx.store.trade_move(trade, before=(states.CREATED,), after=states.WAITING)


def settle(ctx: Context, trade: Trade, *, paid: bool, notify: bool) -> bool:
    """The buyer paid (or the trade closed unpaid): change it and queue the notification."""
    after = states.PAID if paid else states.CLOSED
    if not ctx.store.trade_move(trade, before=(states.CREATED, states.WAITING), after=after):
        return False
    settled = ctx.store.trade(PROVIDER, trade.out_trade_no)
    if notify and settled is not None:
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
    now = dt.datetime.now(dt.UTC)
    fields = {
        "notify_time": alipay.timestamp_text(now),
        "notify_type": "trade_status_sync",
        "notify_id": f"2026{secrets.token_hex(15)}",
        "charset": "utf-8",
        "version": "1.0",
        "app_id": ctx.state.alipay_app_id,
        "auth_app_id": ctx.state.alipay_app_id,
        "seller_id": ctx.state.alipay_seller_id,
        "buyer_id": "2088102177846880",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "subject": trade.subject,
        "trade_status": _STATUS[trade.state],
        "total_amount": trade.amount,
        "gmt_create": alipay.timestamp_text(dt.datetime.fromtimestamp(trade.created_at, dt.UTC)),
        **_currencies(trade),
    }
    if trade.paid_at is not None:
        fields |= {"receipt_amount": trade.amount, "buyer_pay_amount": trade.amount}
        fields["gmt_payment"] = alipay.timestamp_text(dt.datetime.fromtimestamp(trade.paid_at, dt.UTC))
    return alipay.form_encode(alipay.notification_sign(fields, ctx.state.alipay_private_key))


def _currencies(trade: Trade) -> dict[str, str]:
    if trade.currency == "CNY":
        return {}
    return {
        "trans_currency": trade.currency,
        "settle_currency": str(trade.extra.get("settle_currency", trade.currency)),
    }


def _trade_no() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d") + "".join(
        secrets.choice("0123456789") for _ in range(20)
    )


def _headers(delivery: Delivery) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _acknowledged(answer: HttpAnswer) -> bool:
    return answer.body.strip() == b"success"  # anything else: Alipay sends it again


CHANNEL = Channel(headers=_headers, acknowledged=_acknowledged)
