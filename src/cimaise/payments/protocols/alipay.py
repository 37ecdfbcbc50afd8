"""The Alipay open platform protocol (``alipay.trade.*``), both halves, as its documentation
describes it (opendocs.alipay.com: "签名与验签", "异步通知说明", the trade API reference).

- A request is a form of common parameters (``app_id``, ``method``, ``format=JSON``,
  ``charset=utf-8``, ``sign_type=RSA2``, ``timestamp`` as ``yyyy-MM-dd HH:mm:ss`` Beijing time,
  ``version=1.0``, ``notify_url``) plus ``biz_content``, the business fields as JSON. RSA2 is
  SHA256withRSA over the *sign content*: every parameter but ``sign`` that has a value, sorted by
  name, written ``name=value`` (raw, not URL-encoded) and joined by ``&``.
- The answer is JSON ``{"<method with _ for .>_response": {...}, "sign": "..."}``; ``sign`` is
  Alipay's signature over the exact text of the response object as sent (never re-serialised).
  ``code`` 10000 is success; otherwise ``code``/``sub_code`` say what went wrong.
- An asynchronous notification is a form POST signed the same way over every field but ``sign``
  and ``sign_type``; the shop answers the text ``success``, and Alipay sends it again at growing
  intervals until it reads that.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from cimaise.payments.protocols import rsa_sign, rsa_verify

#: Beijing time, in which Alipay writes every timestamp (China has no daylight saving time).
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
SUCCESS_CODE = "10000"
SIGN_TYPE = "RSA2"
#: ``trade_status`` values: paid (``TRADE_FINISHED``: paid and no longer refundable), closed
#: (never paid, or refunded in full), and awaiting the buyer.
PAID = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
CLOSED = "TRADE_CLOSED"
WAITING = "WAIT_BUYER_PAY"
NOTIFICATION_UNSIGNED = ("sign", "sign_type")
_TIME = "%Y-%m-%d %H:%M:%S"
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class AlipayError(Exception):
    """An answer that is not a verified success: ``code`` is Alipay's (``40004``…) or ours
    (``bad_signature``, ``malformed``); ``sub_code`` is Alipay's detail (``ACQ.TRADE_NOT_EXIST``…)."""

    def __init__(self, message: str, *, code: str, sub_code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.sub_code = sub_code


def sign_content(params: Mapping[str, str], *, exclude: Collection[str] = ("sign",)) -> str:
    """The text RSA2 signs: parameters with a value, sorted by name, ``k=v`` joined by ``&``."""
    items = sorted((name, value) for name, value in params.items() if name not in exclude and value != "")
    return "&".join(f"{name}={value}" for name, value in items)


def timestamp_text(when: dt.datetime) -> str:
    return when.astimezone(CHINA).strftime(_TIME)


def timestamp_parse(text: str) -> dt.datetime | None:
    """A ``yyyy-MM-dd HH:mm:ss`` Beijing time, or None if ``text`` is not one."""
    try:
        return dt.datetime.strptime(text, _TIME).replace(tzinfo=CHINA)
    except ValueError:
        return None


def request_params(
    *,
    method: str,
    app_id: str,
    biz_content: Mapping[str, Any],
    now: dt.datetime,
    private_key: RSAPrivateKey,
    notify_url: str = "",
) -> dict[str, str]:
    """A signed request: the form to POST to the gateway."""
    params = {
        "app_id": app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": SIGN_TYPE,
        "timestamp": timestamp_text(now),
        "version": "1.0",
        "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
    }
    if notify_url:
        params["notify_url"] = notify_url
    params["sign"] = rsa_sign(private_key, sign_content(params).encode())
    return params


def request_verify(params: Mapping[str, str], public_key: RSAPublicKey) -> bool:
    """The gateway's half: is this request signed with the merchant's key?"""
    signed = sign_content(params).encode()
    return params.get("sign_type") == SIGN_TYPE and rsa_verify(public_key, signed, params.get("sign", ""))


def form_encode(fields: Mapping[str, str]) -> bytes:
    return urlencode(dict(fields)).encode()


def form_parse(body: bytes) -> dict[str, str]:
    """A UTF-8 ``application/x-www-form-urlencoded`` body; ``ValueError`` if it is not one or
    names a field twice."""
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ValueError("a field appears twice")
    return fields


def response_key(method: str) -> str:
    """``alipay.trade.precreate`` → ``alipay_trade_precreate_response``."""
    return f"{method.replace('.', '_')}_response"


def response_body(method: str, answer: Mapping[str, Any], private_key: RSAPrivateKey) -> bytes:
    """The gateway's half: a signed answer to ``method``."""
    inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    sign = rsa_sign(private_key, inner.encode())
    return f'{{"{response_key(method)}":{inner},"sign":"{sign}"}}'.encode()


def response_parse(body: bytes, *, method: str, public_key: RSAPublicKey) -> dict[str, Any]:
    """The verified success answer to ``method``; otherwise ``AlipayError``."""
    members = _members(body)
    signed = members.get(response_key(method)) or members.get("error_response")
    if signed is None:
        raise AlipayError(f"no {response_key(method)} in the answer", code="malformed")
    answer = json.loads(signed)
    if not isinstance(answer, dict):
        raise AlipayError("the response is not an object", code="malformed")
    sign = json.loads(members["sign"]) if "sign" in members else None
    if sign is not None and not (isinstance(sign, str) and rsa_verify(public_key, signed.encode(), sign)):
        raise AlipayError("the answer's signature does not match Alipay's key", code="bad_signature")
    if answer.get("code") != SUCCESS_CODE:
        raise AlipayError(
            f"{answer.get('msg', '')} {answer.get('sub_msg', '')}".strip() or "refused",
            code=str(answer.get("code", "")),
            sub_code=str(answer.get("sub_code", "")),
        )
    if sign is None:
        raise AlipayError("a success answer without a signature", code="bad_signature")
    return answer


def _members(body: bytes) -> dict[str, str]:
    try:
        return top_level_texts(body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise AlipayError("the answer is not a JSON object", code="malformed") from None


def top_level_texts(text: str) -> dict[str, str]:
    """Each member of the top-level JSON object → the exact text of its value, as sent."""
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        raise ValueError("not a JSON object")
    members: dict[str, str] = {}
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return _end(text, pos, members)
    while True:
        name, start, end = _member(text, pos)
        members[name] = text[start:end]
        pos = _skip(text, end)
        if text.startswith("}", pos):
            return _end(text, pos, members)
        if not text.startswith(",", pos):
            raise ValueError(f"expected , or }} at {pos}")
        pos = _skip(text, pos + 1)


def _member(text: str, pos: int) -> tuple[str, int, int]:
    name, pos = _DECODER.raw_decode(text, pos)
    pos = _skip(text, pos)
    if not isinstance(name, str) or not text.startswith(":", pos):
        raise ValueError(f"expected a member name at {pos}")
    start = _skip(text, pos + 1)
    _value, end = _DECODER.raw_decode(text, start)
    return name, start, end


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _end(text: str, pos: int, members: dict[str, str]) -> dict[str, str]:
    if text[pos + 1 :].strip(" \t\n\r"):
        raise ValueError("text after the JSON object")
    return members


def notification_verify(fields: Mapping[str, str], public_key: RSAPublicKey) -> bool:
    """Is this notification signed by Alipay (RSA2 over every field but sign and sign_type)?"""
    signed = sign_content(fields, exclude=NOTIFICATION_UNSIGNED).encode()
    rsa2 = fields.get("sign_type", SIGN_TYPE) == SIGN_TYPE
    return rsa2 and rsa_verify(public_key, signed, fields.get("sign", ""))


def notification_sign(fields: Mapping[str, str], private_key: RSAPrivateKey) -> dict[str, str]:
    """The gateway's half: ``fields`` with ``sign_type`` and ``sign`` added."""
    signed = {**fields, "sign_type": SIGN_TYPE}
    signed["sign"] = rsa_sign(private_key, sign_content(signed, exclude=NOTIFICATION_UNSIGNED).encode())
    return signed
