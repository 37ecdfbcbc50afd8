"""WeChat Pay (微信支付), Native payment through API v3: the visitor scans a ``code_url``.

- ``open``: POST ``…/transactions/native`` with ``out_trade_no`` = our payment id (32 hex
  digits, WeChat Pay's limit) and ``amount`` in cents with its ``currency``; the answer's
  ``code_url`` is the QR payload. ``start`` (inside the creating transaction) calls nothing.
- Every request is signed (``Authorization: WECHATPAY2-SHA256-RSA2048 …``); every answer and
  notification is verified with the platform key of its ``Wechatpay-Serial``, within 5 minutes of
  its timestamp; a notification's ``resource`` is decrypted with the APIv3 key
  (AEAD_AES_256_GCM). Only ``TRANSACTION.SUCCESS`` events are taken, and only for our
  ``mchid``/``appid``. We answer 204 once the notification is stored, otherwise 4xx with
  ``{"code": "FAIL", "message": …}`` (WeChat Pay then sends it again).
- ``query`` by ``out_trade_no``, ``close``, and ``refund`` (idempotent by ``out_refund_no`` = our
  refund id; ``SUCCESS`` completes it at once, ``PROCESSING`` leaves it pending until
  ``refund_query`` says ``SUCCESS``, or a refusal such as ``CLOSED`` or ``ABNORMAL``).
- ``api`` option: ``global`` (default; the cross-border API at apihk.mch.weixin.qq.com, any
  settlement currency such as EUR, with ``trade_type`` NATIVE and ``merchant_category_code``) or
  ``domestic`` (mainland merchants, CNY, ``/v3/pay/…`` and ``/v3/refund/domestic/refunds``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from cimaise.payments import conf
from cimaise.payments.models import Payment, Refund
from cimaise.payments.protocols import (
    TransportError,
    certificate_serial,
    http_send,
    private_key_load,
    public_key_load,
    wechatpay,
)
from cimaise.payments.providers.base import (
    Answer,
    NotificationRejected,
    PaymentStart,
    Provider,
    ProviderFailed,
    QueryAnswer,
    RefundResult,
    RefundState,
    VerifiedNotification,
    json_answer,
    query_notification_id,
)

logger = logging.getLogger("cimaise.payments")
_EVIDENCE = ("wechatpay-serial", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature")
_NOT_FOUND = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"})
_PAID = frozenset({"ORDERPAID", "ORDER_PAID"})


class WechatPayProvider(Provider):
    remote = True

    def start(self, payment: Payment) -> PaymentStart:
        return PaymentStart(payment=payment, redirect_url=None, qr=None)  # the QR comes from open()

    def open(self, payment: Payment) -> PaymentStart:
        api = self._api()
        body: dict[str, Any] = {
            "appid": self.options.get("appid", ""),
            "mchid": self.options.get("mchid", ""),
            "description": _bytes_prefix(payment.description or payment.reference, 127),
            "out_trade_no": payment.pk,
            "notify_url": conf.notify_url(self.options, self.name),
            "amount": {"total": self._cents(payment.amount, payment.currency), "currency": payment.currency},
        }
        if api.cross_border:
            body |= {
                "trade_type": "NATIVE",
                "merchant_category_code": self.options.get("merchant_category_code"),
            }
        if payment.expires_at is not None:
            body["time_expire"] = wechatpay.time_text(payment.expires_at)
        code_url = self._refusing("POST", api.native, body)[0].get("code_url")
        if not isinstance(code_url, str) or not code_url:
            raise ProviderFailed("WeChat Pay's answer has no code_url", code="provider_bad_answer")
        return PaymentStart(payment=payment, redirect_url=None, qr=code_url)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        try:
            wechatpay.signature_check(
                headers, body, keys=self._platform_keys(), now=timezone.now(), max_skew=self._max_skew()
            )
            envelope = _envelope(body)
            plaintext = wechatpay.resource_decrypt(self._api_v3_key(), envelope["resource"])
            transaction = wechatpay.transaction_parse(_json(plaintext))
        except wechatpay.WechatPayError as exc:
            raise NotificationRejected(exc.message, code=exc.code) from None
        evidence = {name: headers.get(name, "") for name in _EVIDENCE}
        return self._verified(transaction, envelope["id"], evidence)

    def refund(self, refund: Refund) -> RefundResult:
        api, payment = self._api(), refund.payment
        body: dict[str, Any] = {
            "out_trade_no": payment.pk,
            "out_refund_no": refund.refund_id,
            "amount": {
                "refund": self._cents(refund.amount, payment.currency),
                "total": self._cents(payment.amount, payment.currency),
                "currency": payment.currency,
            },
        }
        if refund.reason:
            body["reason"] = refund.reason[:80]
        if api.cross_border:
            body |= {"mchid": self.options.get("mchid", ""), "appid": self.options.get("appid", "")}
        status = self._refusing("POST", api.refunds, body)[0].get("status")
        if status in wechatpay.REFUND_FAILED:
            raise ProviderFailed(f"WeChat Pay did not refund (status {status!r})", code="provider_refused")
        # The answer only says the refund was accepted; refund_query learns when it is done.
        return "succeeded" if status == wechatpay.REFUNDED else "pending"

    def refund_query(self, refund: Refund) -> RefundState:
        api = self._api()
        path = api.refund.format(quote(refund.refund_id, safe=""))
        if api.cross_border:
            path = f"{path}?mchid={quote(str(self.options.get('mchid', '')))}"
        try:
            status = self._call("GET", path, None)[0].get("status")
        except wechatpay.WechatPayError as exc:
            raise _refused(exc) from exc
        if status == wechatpay.REFUNDED:
            return "succeeded"
        return "failed" if status in wechatpay.REFUND_FAILED else "pending"

    def query(self, payment: Payment) -> QueryAnswer | None:
        path = (
            f"{self._api().transaction.format(payment.pk)}?mchid={quote(str(self.options.get('mchid', '')))}"
        )
        try:
            data, raw = self._call("GET", path, None)
            transaction = wechatpay.transaction_parse(data)
        except wechatpay.WechatPayError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise _refused(exc) from exc
        if transaction.trade_state in wechatpay.WAITING:
            return None
        reference = transaction.transaction_id or payment.pk
        notification_id = query_notification_id(reference, transaction.trade_state)
        return QueryAnswer(verified=self._verified(transaction, notification_id, {"query": path}), body=raw)

    def close(self, payment: Payment) -> bool:
        api = self._api()
        try:
            self._call("POST", api.close.format(payment.pk), {"mchid": self.options.get("mchid", "")})
        except wechatpay.WechatPayError as exc:
            if exc.code in _PAID:
                return False
            if exc.code in _NOT_FOUND:
                return True
            raise _refused(exc) from exc
        return True

    def accepted(self) -> Answer:
        return Answer(status=204, body=b"", content_type="application/json")

    def rejected(self, error: NotificationRejected) -> Answer:
        status = error.status if 400 <= error.status < 600 else 400
        return json_answer(status, {"code": "FAIL", "message": error.message[:200]})

    def _verified(
        self, transaction: wechatpay.Transaction, notification_id: object, evidence: dict[str, str]
    ) -> VerifiedNotification:
        if not isinstance(notification_id, str) or not 0 < len(notification_id) <= 64:
            raise NotificationRejected("the notification id is missing or too long", code="malformed")
        return VerifiedNotification(
            notification_id=notification_id,
            payment_id=transaction.out_trade_no,
            status=_status(transaction.trade_state),
            amount=wechatpay.from_minor(transaction.total, transaction.currency),
            currency=transaction.currency,
            merchant=self._merchant(transaction.mchid, transaction.appid),
            occurred_at=transaction.success_time or timezone.now(),
            provider_reference=transaction.transaction_id[:128],
            evidence=evidence,
        )

    def _merchant(self, mchid: str, appid: str) -> str:
        """The institution the notification pays, if it is addressed to our merchant and app."""
        ours = mchid == self.options.get("mchid") and (not appid or appid == self.options.get("appid"))
        return str(self.options.get("institution") or "") if ours else f"wechatpay:{mchid[:32]}"

    def _cents(self, amount: Any, currency: str) -> int:
        return wechatpay.minor_units(amount, currency)

    def _refusing(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[dict[str, Any], bytes]:
        try:
            return self._call(method, path, body)
        except wechatpay.WechatPayError as exc:
            raise _refused(exc) from exc

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[dict[str, Any], bytes]:
        """A signed request; the verified answer (``{}`` for a 204) and its bytes.
        ``WechatPayError`` with WeChat Pay's code if it refused; ``ProviderFailed`` if it could
        not be reached or its success answer is not genuine."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body is not None else ""
        try:
            answer = http_send(
                method,
                f"{str(self.options['base_url']).rstrip('/')}{path}",
                body=text.encode() if text else None,
                headers=self._headers(method, path, text),
                timeout=float(self.options.get("timeout_seconds", 10)),
            )
        except TransportError as exc:
            raise ProviderFailed(f"WeChat Pay is unreachable: {exc}", code="provider_unreachable") from exc
        if not 200 <= answer.status < 300:
            raise _error(answer.status, answer.body)
        try:
            wechatpay.signature_check(
                answer.headers, answer.body, keys=self._platform_keys(), now=timezone.now()
            )
        except wechatpay.WechatPayError as exc:
            logger.error("payments: WeChat Pay's answer to %s %s refused: %s", method, path, exc.message)
            raise ProviderFailed(
                f"WeChat Pay's answer is not genuine: {exc.message}", code="provider_bad_answer"
            ) from exc
        return (_json(answer.body) if answer.body else {}), answer.body

    def _headers(self, method: str, path: str, text: str) -> dict[str, str]:
        header = wechatpay.authorization(
            mchid=str(self.options.get("mchid", "")),
            serial_no=str(self.options.get("merchant_serial", "")),
            private_key=self._private_key(),
            method=method,
            url=path,
            body=text,
            timestamp=str(int(timezone.now().timestamp())),
            nonce=wechatpay.nonce_new(),
        )
        headers = {"Authorization": header, "Accept": "application/json", "User-Agent": "cimaise-payments"}
        return headers | ({"Content-Type": "application/json"} if text else {})

    def _api(self) -> wechatpay.Api:
        api = wechatpay.APIS.get(str(self.options.get("api", "global")))
        if api is None:
            raise ImproperlyConfigured(
                f"payments {self.name}: api must be one of {', '.join(wechatpay.APIS)}"
            )
        return api

    def _max_skew(self) -> int:
        return int(self.options.get("max_skew_seconds", wechatpay.MAX_SKEW_SECONDS))

    def _private_key(self) -> RSAPrivateKey:
        return _private(conf.secret_read(self.options, "private_key", provider=self.name))

    def _platform_keys(self) -> dict[str, RSAPublicKey]:
        data = conf.secret_read(self.options, "platform_certificate", provider=self.name)
        serial = str(self.options.get("platform_serial") or "") or certificate_serial(data)
        if not serial:
            raise ImproperlyConfigured(f"payments {self.name}: set platform_serial for a bare public key")
        return {serial: _public(data)}

    def _api_v3_key(self) -> bytes:
        key = conf.secret_read(self.options, "api_v3_key", provider=self.name).strip()
        if len(key) != 32:
            raise ImproperlyConfigured(f"payments {self.name}: the APIv3 key must be 32 bytes")
        return key


def _bytes_prefix(text: str, size: int) -> str:
    """At most ``size`` UTF-8 bytes of ``text`` (WeChat Pay counts bytes), whole characters."""
    return text.encode()[:size].decode("utf-8", errors="ignore")


def _envelope(body: bytes) -> dict[str, Any]:
    envelope = _json(body)
    if envelope.get("event_type") != "TRANSACTION.SUCCESS":
        raise wechatpay.WechatPayError(
            f"event {str(envelope.get('event_type'))[:40]!r} is not taken here", code="not_supported"
        )
    if not isinstance(envelope.get("resource"), dict):
        raise wechatpay.WechatPayError("resource is missing", code="malformed")
    return envelope


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise wechatpay.WechatPayError("not JSON", code="malformed") from None
    if not isinstance(data, dict):
        raise wechatpay.WechatPayError("not a JSON object", code="malformed")
    return data


def _status(trade_state: str) -> Literal["paid", "failed"]:
    if trade_state == wechatpay.PAID:
        return "paid"
    if trade_state in wechatpay.FAILED:
        return "failed"
    raise NotificationRejected(f"trade_state {trade_state[:40]!r} is not final", code="not_final")


def _error(status: int, body: bytes) -> wechatpay.WechatPayError:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    return wechatpay.WechatPayError(
        str(data.get("message") or f"HTTP {status}"), code=str(data.get("code") or f"HTTP_{status}")
    )


def _refused(exc: wechatpay.WechatPayError) -> ProviderFailed:
    logger.warning("payments: WeChat Pay refused: %s %s", exc.code, exc.message)
    return ProviderFailed(
        f"WeChat Pay refused: {exc.message}", code="provider_refused", details={"code": exc.code}
    )


@lru_cache(maxsize=8)
def _private(data: bytes) -> RSAPrivateKey:
    return private_key_load(data)


@lru_cache(maxsize=8)
def _public(data: bytes) -> RSAPublicKey:
    return public_key_load(data)
