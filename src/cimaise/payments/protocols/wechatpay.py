"""The WeChat Pay API v3 protocol, both halves, as its documentation describes it
(pay.weixin.qq.com: "签名生成", "签名验证", "证书和回调报文解密"; the cross-border
"WeChat Pay Global" v3 pages for Native order placement, query, close and refund).

- Every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  signature="…",timestamp="…",serial_no="…"``: SHA256withRSA with the merchant's API key over
  ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL = path and query; BODY empty for a GET).
- Every answer and notification carries ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature`` and
  ``-Serial``: WeChat Pay's signature, with the platform key of that serial, over
  ``TIMESTAMP\\nNONCE\\nBODY\\n``. A timestamp more than 5 minutes away is refused (replays).
- A notification's ``resource`` is AEAD_AES_256_GCM with the merchant's APIv3 key (32 bytes),
  its ``nonce`` (12 characters) and ``associated_data``; the shop answers 200/204 when it took it,
  or 4xx/5xx with ``{"code": "FAIL", "message": …}`` and WeChat Pay sends it again.
- Amounts are integers in the currency's minor unit (cents).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cimaise.payments.protocols import rsa_sign, rsa_verify

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
MAX_SKEW_SECONDS = 300
#: ``trade_state``: paid; never paid and no longer payable; still payable.
PAID = "SUCCESS"
FAILED = frozenset({"CLOSED", "REVOKED", "PAYERROR"})
WAITING = frozenset({"NOTPAY", "USERPAYING"})
#: A refund's ``status``: done; still under way; refused in the end (its amount is not refunded).
REFUNDED = "SUCCESS"
REFUND_PENDING = "PROCESSING"
REFUND_FAILED = frozenset({"CLOSED", "REFUNDCLOSE", "ABNORMAL", "CHANGE"})
_FIELD = re.compile(r'\s*(\w+)="([^"]*)"\s*(?:,|$)')
_AUTH_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
#: Currencies whose minor unit is not the hundredth (ISO 4217 exponent 0).
_EXPONENT_ZERO = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF"})


class WechatPayError(Exception):
    """A message refused: ``code`` is ``bad_signature``, ``decrypt_failed`` or ``malformed``, or
    WeChat Pay's own error code for an answer it refused (``ORDER_NOT_EXIST``…)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Api:
    """Where each call goes: the cross-border ("global") API or the mainland one."""

    native: str
    transaction: str  # format with the out_trade_no
    close: str  # format with the out_trade_no
    refunds: str
    refund: str  # format with the out_refund_no
    cross_border: bool


APIS = {
    "global": Api(
        native="/v3/global/transactions/native",
        transaction="/v3/global/transactions/out-trade-no/{}",
        close="/v3/global/transactions/out-trade-no/{}/close",
        refunds="/v3/global/refunds",
        refund="/v3/global/refunds/out-refund-no/{}",
        cross_border=True,
    ),
    "domestic": Api(
        native="/v3/pay/transactions/native",
        transaction="/v3/pay/transactions/out-trade-no/{}",
        close="/v3/pay/transactions/out-trade-no/{}/close",
        refunds="/v3/refund/domestic/refunds",
        refund="/v3/refund/domestic/refunds/{}",
        cross_border=False,
    ),
}


def nonce_new() -> str:
    """32 random upper-case hex characters, as in the documentation's examples."""
    return secrets.token_hex(16).upper()


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def authorization(
    *,
    mchid: str,
    serial_no: str,
    private_key: RSAPrivateKey,
    method: str,
    url: str,
    body: str,
    timestamp: str,
    nonce: str,
) -> str:
    """The ``Authorization`` header of a request to ``url`` (path and query)."""
    signature = rsa_sign(private_key, request_message(method, url, timestamp, nonce, body).encode())
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def authorization_parse(header: str) -> dict[str, str]:
    """The fields of an ``Authorization`` header; ``ValueError`` if it is not one."""
    schema, _sep, rest = header.partition(" ")
    if schema != SCHEMA:
        raise ValueError(f"the schema is not {SCHEMA}")
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _FIELD.match(rest, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unreadable at {pos}")
        fields[match.group(1)] = match.group(2)
        pos = match.end()
    missing = [name for name in _AUTH_FIELDS if not fields.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return fields


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def signed_headers(
    *, private_key: RSAPrivateKey, serial_no: str, body: bytes, now: dt.datetime
) -> dict[str, str]:
    """The gateway's half: the headers that sign an answer or a notification."""
    timestamp, nonce = str(int(now.timestamp())), nonce_new()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial_no,
        "Wechatpay-Signature": rsa_sign(private_key, response_message(timestamp, nonce, body)),
        "Wechatpay-Signature-Type": SCHEMA,
    }


def signature_check(
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: Mapping[str, RSAPublicKey],
    now: dt.datetime,
    max_skew: int = MAX_SKEW_SECONDS,
) -> None:
    """Is this answer or notification (``headers`` with lower-case names) signed by WeChat Pay
    with the platform key of its serial, recently? ``WechatPayError`` ``bad_signature`` if not."""
    key = keys.get(headers.get("wechatpay-serial", ""))
    if key is None:
        raise WechatPayError("unknown or missing Wechatpay-Serial", code="bad_signature")
    timestamp = headers.get("wechatpay-timestamp", "")
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > max_skew:
        raise WechatPayError("Wechatpay-Timestamp is missing or too far from now", code="bad_signature")
    message = response_message(timestamp, headers.get("wechatpay-nonce", ""), body)
    if not rsa_verify(key, message, headers.get("wechatpay-signature", "")):
        raise WechatPayError("Wechatpay-Signature does not match the body", code="bad_signature")


def resource_decrypt(api_v3_key: bytes, resource: Mapping[str, Any]) -> bytes:
    """The plaintext of a notification's ``resource``; ``WechatPayError`` if it is not ours."""
    if resource.get("algorithm") != ALGORITHM:
        raise WechatPayError(f"resource.algorithm is not {ALGORITHM}", code="malformed")
    parts = [resource.get(name) for name in ("nonce", "ciphertext", "associated_data")]
    if not all(isinstance(part, str) for part in parts):
        raise WechatPayError("resource needs nonce, ciphertext and associated_data", code="malformed")
    nonce, ciphertext, associated = (str(part) for part in parts)
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        return AESGCM(api_v3_key).decrypt(nonce.encode(), sealed, associated.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise WechatPayError(
            "the resource does not decrypt with our APIv3 key", code="decrypt_failed"
        ) from None


def resource_encrypt(
    api_v3_key: bytes, plaintext: bytes, *, associated_data: str, original_type: str
) -> dict[str, str]:
    """The gateway's half: an encrypted ``resource``."""
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay's
    sealed = AESGCM(api_v3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {
        "original_type": original_type,
        "algorithm": ALGORITHM,
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def minor_units(amount: Decimal, currency: str) -> int:
    """``12.50`` EUR → ``1250``."""
    return int(amount) if currency in _EXPONENT_ZERO else int((amount * 100).to_integral_value())


def from_minor(units: int, currency: str) -> Decimal:
    """``1250`` EUR → ``Decimal("12.50")``."""
    value = Decimal(units) if currency in _EXPONENT_ZERO else Decimal(units) / 100
    return value.quantize(Decimal("0.01"))


def time_text(when: dt.datetime) -> str:
    """RFC 3339 with an offset, as WeChat Pay writes times."""
    return when.replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Transaction:
    """What WeChat Pay says of an order (a query answer or a decrypted notification)."""

    out_trade_no: str
    transaction_id: str
    trade_state: str
    mchid: str
    appid: str
    total: int
    currency: str
    success_time: dt.datetime | None


def transaction_parse(data: Any) -> Transaction:
    """A transaction object, checked; ``WechatPayError`` ``malformed`` names the first bad field."""
    if not isinstance(data, dict):
        raise WechatPayError("the transaction is not an object", code="malformed")
    amount = data.get("amount")
    if not isinstance(amount, dict) or not _count(amount.get("total")):
        raise WechatPayError("amount.total is missing or not a count", code="malformed")
    texts = {name: data.get(name) for name in ("out_trade_no", "trade_state", "mchid")}
    for name, value in texts.items():
        if not isinstance(value, str) or not value:
            raise WechatPayError(f"{name} is missing or not text", code="malformed")
    return Transaction(
        out_trade_no=data["out_trade_no"],
        transaction_id=str(data.get("transaction_id") or ""),
        trade_state=data["trade_state"],
        mchid=data["mchid"],
        appid=str(data.get("appid") or data.get("sp_appid") or ""),
        total=amount["total"],
        currency=str(amount.get("currency") or "CNY"),
        success_time=time_parse(data.get("success_time")),
    )


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def time_parse(value: object) -> dt.datetime | None:
    """An RFC 3339 time with an offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
