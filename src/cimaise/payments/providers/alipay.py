"""Alipay (支付宝), face-to-face QR payment through the open platform (``alipay.trade.*``).

- ``open``: ``alipay.trade.precreate`` with ``out_trade_no`` = our payment id; the answer's
  ``qr_code`` is what the visitor scans. ``start`` (inside the creating transaction) calls nothing.
- Notifications: a form signed RSA2 with Alipay's key; taken only when ``app_id`` (and
  ``seller_id`` when configured) are ours. ``TRADE_SUCCESS``/``TRADE_FINISHED`` pay,
  ``TRADE_CLOSED`` fails a payment still awaiting; we answer ``success`` once the notification
  is stored, ``fail`` otherwise (Alipay then sends it again).
- ``query`` (``alipay.trade.query``), ``close`` (``alipay.trade.close``) and ``refund``
  (``alipay.trade.refund``, partial, idempotent by ``out_request_no`` = our refund id, answered
  synchronously).
- Cross-border: a payment in another currency than CNY is sent with ``trans_currency`` (the
  currency of ``total_amount``) and ``settle_currency`` (option, default the same); a refund with
  ``refund_currency``. An answer's currency is its ``trans_currency``, CNY when absent.

Options (``payments.conf``): ``gateway``, ``app_id``, ``institution`` (the code of the
institution the app id belongs to), ``seller_id``, ``private_key_file``/``_env``,
``alipay_public_key_file``/``_env``, ``settle_currency``, ``notify_url``, ``timeout_seconds``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.utils import timezone

from cimaise.payments import conf
from cimaise.payments.models import Payment, Refund
from cimaise.payments.money import amount_parse, amount_text
from cimaise.payments.protocols import TransportError, alipay, http_send, private_key_load, public_key_load
from cimaise.payments.providers.base import (
    Answer,
    NotificationRejected,
    PaymentStart,
    Provider,
    ProviderFailed,
    QueryAnswer,
    RefundResult,
    VerifiedNotification,
    query_notification_id,
)

logger = logging.getLogger("cimaise.payments")
_FORM = "application/x-www-form-urlencoded;charset=utf-8"
_REQUIRED = ("notify_id", "out_trade_no", "total_amount", "app_id", "trade_status")


class AlipayProvider(Provider):
    remote = True

    def start(self, payment: Payment) -> PaymentStart:
        return PaymentStart(payment=payment, redirect_url=None, qr=None)  # the QR comes from open()

    def open(self, payment: Payment) -> PaymentStart:
        biz = {
            "out_trade_no": payment.pk,
            "total_amount": amount_text(payment.amount),
            "subject": (payment.description or payment.reference)[:256],
            **self._currencies(payment.currency, "settle"),
        }
        if payment.expires_at is not None:
            biz["time_expire"] = alipay.timestamp_text(payment.expires_at)
        if self.options.get("seller_id"):
            biz["seller_id"] = self.options["seller_id"]
        answer = self._refusing("alipay.trade.precreate", biz, notify=True)[0]
        qr = answer.get("qr_code")
        if not isinstance(qr, str) or not qr:
            raise ProviderFailed("Alipay's precreate answer has no qr_code", code="provider_bad_answer")
        return PaymentStart(payment=payment, redirect_url=None, qr=qr)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        try:
            fields = alipay.form_parse(body)
        except ValueError:
            raise NotificationRejected("the body is not a signed form", code="bad_signature") from None
        if not alipay.notification_verify(fields, self._alipay_key()):
            raise NotificationRejected("the signature does not match Alipay's key", code="bad_signature")
        for name in _REQUIRED:
            if not fields.get(name):
                raise NotificationRejected(f"{name} is missing", code="malformed", field=name)
        if len(fields["notify_id"]) > 64:
            raise NotificationRejected("notify_id is too long", code="malformed", field="notify_id")
        return self._verified(fields, fields["notify_id"], {"sign": fields["sign"], "sign_type": "RSA2"})

    def refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        biz = {
            "out_trade_no": payment.pk,
            "refund_amount": amount_text(refund.amount),
            "out_request_no": refund.refund_id,
            **self._currencies(payment.currency, "refund"),
        }
        if refund.reason:
            biz["refund_reason"] = refund.reason
        self._refusing("alipay.trade.refund", biz)
        return "succeeded"  # code 10000: refunded (fund_change N: this request had been done before)

    def query(self, payment: Payment) -> QueryAnswer | None:
        try:
            answer, body = self._call("alipay.trade.query", {"out_trade_no": payment.pk})
        except alipay.AlipayError as exc:
            if exc.sub_code == "ACQ.TRADE_NOT_EXIST":
                return None  # a precreated trade exists at Alipay only once its QR is scanned
            raise _refused(exc) from exc
        if answer.get("trade_status") == alipay.WAITING:
            return None
        fields = {"app_id": str(self.options.get("app_id", "")), **_texts(answer)}
        reference = fields.get("trade_no") or payment.pk
        notification_id = query_notification_id(reference, fields.get("trade_status", ""))
        return QueryAnswer(
            verified=self._verified(fields, notification_id, {"query": "alipay.trade.query"}), body=body
        )

    def close(self, payment: Payment) -> bool:
        try:
            self._call("alipay.trade.close", {"out_trade_no": payment.pk})
        except alipay.AlipayError as exc:
            if exc.sub_code == "ACQ.TRADE_NOT_EXIST":
                return True  # never scanned: there is nothing to pay any more once we expire it
            if exc.sub_code == "ACQ.TRADE_STATUS_ERROR":
                return False  # paid (or closed) meanwhile: the caller asks what happened
            raise _refused(exc) from exc
        return True

    def accepted(self) -> Answer:
        return Answer(status=200, body=b"success", content_type="text/plain; charset=utf-8")

    def rejected(self, error: NotificationRejected) -> Answer:
        # Alipay reads only the text: anything but "success" makes it send again. A 200 keeps the
        # text as it is (the API turns other 4xx bodies into its JSON error format).
        return Answer(status=200, body=b"fail", content_type="text/plain; charset=utf-8")

    def _verified(
        self, fields: Mapping[str, str], notification_id: str, evidence: dict[str, str]
    ) -> VerifiedNotification:
        amount = amount_parse(fields.get("total_amount", ""))
        if amount is None:
            raise NotificationRejected(
                "total_amount is not an amount", code="malformed", field="total_amount"
            )
        when = alipay.timestamp_parse(fields.get("gmt_payment") or fields.get("send_pay_date") or "")
        return VerifiedNotification(
            notification_id=notification_id,
            payment_id=fields.get("out_trade_no", ""),
            status=_status(fields.get("trade_status", "")),
            amount=amount,
            currency=fields.get("trans_currency") or "CNY",
            merchant=self._merchant(fields.get("app_id", ""), fields.get("seller_id", "")),
            occurred_at=when or timezone.now(),
            provider_reference=fields.get("trade_no", "")[:128],
            evidence=evidence,
        )

    def _merchant(self, app_id: str, seller_id: str) -> str:
        """The institution the notification pays, if it is addressed to our app (and seller)."""
        ours = app_id == self.options.get("app_id")
        seller = self.options.get("seller_id")
        if ours and (not seller or not seller_id or seller_id == seller):
            return str(self.options.get("institution") or "")
        return f"alipay:{app_id[:32]}"

    def _currencies(self, currency: str, kind: str) -> dict[str, str]:
        if currency == "CNY":
            return {}
        if kind == "refund":
            return {"refund_currency": currency}
        return {
            "trans_currency": currency,
            "settle_currency": self.options.get("settle_currency") or currency,
        }

    def _refusing(
        self, method: str, biz: Mapping[str, Any], *, notify: bool = False
    ) -> tuple[dict[str, Any], bytes]:
        try:
            return self._call(method, biz, notify=notify)
        except alipay.AlipayError as exc:
            raise _refused(exc) from exc

    def _call(
        self, method: str, biz: Mapping[str, Any], *, notify: bool = False
    ) -> tuple[dict[str, Any], bytes]:
        """Alipay's verified success answer and its bytes; ``AlipayError`` if Alipay refused,
        ``ProviderFailed`` if it could not be reached or its answer is not genuine."""
        params = alipay.request_params(
            method=method,
            app_id=str(self.options.get("app_id", "")),
            biz_content=biz,
            now=timezone.now(),
            private_key=self._private_key(),
            notify_url=conf.notify_url(self.options, self.name) if notify else "",
        )
        try:
            answer = http_send(
                "POST",
                str(self.options["gateway"]),
                body=alipay.form_encode(params),
                headers={"Content-Type": _FORM, "Accept": "application/json"},
                timeout=float(self.options.get("timeout_seconds", 10)),
            )
        except TransportError as exc:
            raise ProviderFailed(f"Alipay is unreachable: {exc}", code="provider_unreachable") from exc
        try:
            return alipay.response_parse(
                answer.body, method=method, public_key=self._alipay_key()
            ), answer.body
        except alipay.AlipayError as exc:
            if exc.code in ("bad_signature", "malformed"):
                logger.error("payments: Alipay's answer to %s refused: %s", method, exc.message)
                raise ProviderFailed(
                    f"Alipay's answer is not genuine: {exc.message}", code="provider_bad_answer"
                ) from exc
            raise

    def _private_key(self) -> RSAPrivateKey:
        return _private(conf.secret_read(self.options, "private_key", provider=self.name))

    def _alipay_key(self) -> RSAPublicKey:
        return _public(conf.secret_read(self.options, "alipay_public_key", provider=self.name))


def _status(trade_status: str) -> Literal["paid", "failed"]:
    if trade_status in alipay.PAID:
        return "paid"
    if trade_status == alipay.CLOSED:
        return "failed"
    if trade_status == alipay.WAITING:
        raise NotificationRejected("the trade still awaits the buyer", code="not_final", field="trade_status")
    raise NotificationRejected(
        f"unknown trade_status {trade_status[:40]!r}", code="malformed", field="trade_status"
    )


def _texts(answer: Mapping[str, Any]) -> dict[str, str]:
    return {name: value for name, value in answer.items() if isinstance(value, str)}


def _refused(exc: alipay.AlipayError) -> ProviderFailed:
    logger.warning("payments: Alipay refused: %s %s %s", exc.code, exc.sub_code, exc.message)
    return ProviderFailed(
        f"Alipay refused: {exc.message}",
        code="provider_refused",
        details={"code": exc.code, "sub_code": exc.sub_code},
    )


@lru_cache(maxsize=8)
def _private(data: bytes) -> RSAPrivateKey:
    return private_key_load(data)


@lru_cache(maxsize=8)
def _public(data: bytes) -> RSAPublicKey:
    return public_key_load(data)
