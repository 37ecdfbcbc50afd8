"""The WeChat Pay API v3 protocol as pure code: the request signature string and Authorization
header, answer and notification signatures (serial, 5-minute skew), AEAD_AES_256_GCM, amounts
in cents, and vectors from WeChat Pay's published documentation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from cimaise.payments.gateway.state import GatewayState
from cimaise.payments.protocols import wechatpay
from cimaise.payments.tests import test_gateway_support as support

gateway_state = support.gateway_state  # the shared fixture

# Source: WeChat Pay API v3 documentation, "签名生成" / "Signature Generation"
# (pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_0.shtml; global edition
# pay.weixin.qq.com/doc/global/v3/en/4012357147): the worked example GETs /v3/certificates.
DOCUMENTED_MESSAGE = "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
DOCUMENTED_AUTHORIZATION = (
    'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
    'signature="uOVRnA4qG/MNnYzdQxJanN+zU+lTgIcnU9BxGw5dKjK+VdEUz2FeIoC+D5sB/LN+nGzX3hfZg6r5wT1pl2ZobmIc6p0ldN7J6yDg'
    "UzbX8Uk3sD4a4eZVPTBvqNDoUqcYMlZ9uuDdCvNv4TM3c1WzsXUrExwVkI1XO5jCNbgDJ25nkT/c1gIFvqoogl7MdSFGc4W4xZsqCItnqbypR3R"
    "uGIlR9h9vlRsy7zJR9PBI83X8alLDIfR1ukt1P7tMnmogZ0cuDY8cZsd8ZlCgLadmvej58SLsIkVxFJ8XyUgx9FmutKSYTmYtWBZ0+tNvfGmbX"
    'U7cob8H/4nLBiCwIUFluw==",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"'
)
# Source: the payment notification reference ("支付通知API", pay.weixin.qq.com/wiki/doc/apiv3/
# apis/chapter3_4_5.shtml): the example plaintext of a decrypted resource (abridged to the fields
# read here; the amounts and identifiers are the documentation's).
DOCUMENTED_TRANSACTION = {
    "transaction_id": "1217752501201407033233368018",
    "amount": {"payer_total": 100, "total": 100, "currency": "CNY", "payer_currency": "CNY"},
    "mchid": "1230000109",
    "trade_state": "SUCCESS",
    "bank_type": "CMC",
    "success_time": "2018-06-08T10:34:56+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "out_trade_no": "1217752501201407033233368018",
    "appid": "wxd678efh567hg6787",
    "trade_state_desc": "支付成功",
    "trade_type": "MICROPAY",
}
NOW = dt.datetime(2019, 4, 2, 12, 34, 20, tzinfo=dt.UTC)  # 1554208460
API_V3_KEY = b"0123456789abcdef0123456789ABCDEF"
SIGNER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_the_documented_example_gives_the_documented_signature_string() -> None:
    message = wechatpay.request_message(
        "GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", ""
    )
    assert message == DOCUMENTED_MESSAGE


def test_the_documented_authorization_header_reads_back_field_by_field() -> None:
    fields = wechatpay.authorization_parse(DOCUMENTED_AUTHORIZATION)
    assert (fields["mchid"], fields["timestamp"], fields["serial_no"]) == (
        "1900009191",
        "1554208460",
        "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
    )
    assert fields["nonce_str"] == "593BEC0C930BF1AFEB40B4A08C8FB242" and fields["signature"].endswith(
        "Fluw=="
    )


def test_our_header_has_the_documented_shape_and_verifies(gateway_state: GatewayState) -> None:
    key = gateway_state.wechat_platform_key
    header = wechatpay.authorization(
        mchid="1900009191", serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", private_key=key,
        method="GET", url="/v3/certificates", body="", timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )  # fmt: skip
    fields = wechatpay.authorization_parse(header)
    assert header.startswith(
        'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242"'
    )
    assert header == DOCUMENTED_AUTHORIZATION.replace(
        wechatpay.authorization_parse(DOCUMENTED_AUTHORIZATION)["signature"], fields["signature"]
    )
    from cimaise.payments.protocols import rsa_verify

    assert rsa_verify(key.public_key(), DOCUMENTED_MESSAGE.encode(), fields["signature"])
    assert not rsa_verify(
        key.public_key(), DOCUMENTED_MESSAGE.replace("GET", "POST").encode(), fields["signature"]
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        'WECHATPAY2-SHA256-RSA2048 mchid="1"',
        'WECHATPAY2-SHA256-RSA1024 mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="x"',
        "WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str=n,signature=s,timestamp=1,serial_no=x",
    ],
)
def test_a_header_that_is_not_one_is_refused(header: str) -> None:
    with pytest.raises(ValueError):
        wechatpay.authorization_parse(header)


def signed(state: GatewayState, body: bytes, now: dt.datetime = NOW) -> dict[str, str]:
    headers = wechatpay.signed_headers(
        private_key=state.wechat_platform_key, serial_no=state.wechat_platform_serial, body=body, now=now
    )
    return {name.lower(): value for name, value in headers.items()}


def check(state: GatewayState, headers: dict[str, str], body: bytes, now: dt.datetime = NOW) -> None:
    keys = {state.wechat_platform_serial: state.wechat_platform_key.public_key()}
    wechatpay.signature_check(headers, body, keys=keys, now=now)


def test_an_answer_signed_with_the_platform_key_verifies(gateway_state: GatewayState) -> None:
    body = b'{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'
    check(gateway_state, signed(gateway_state, body), body)
    check(gateway_state, signed(gateway_state, b""), b"")  # a 204 signs an empty body


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda h, b: (h, b + b" "), "body"),
        (lambda h, b: (h | {"wechatpay-serial": "00"}, b), "serial"),
        (lambda h, b: (h | {"wechatpay-nonce": "other"}, b), "nonce"),
        (lambda h, b: (h | {"wechatpay-timestamp": str(int(h["wechatpay-timestamp"]) + 1)}, b), "timestamp"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "wechatpay-signature"}, b), "no signature"),
    ],
)
def test_any_change_to_a_signed_answer_is_refused(
    gateway_state: GatewayState, change: object, why: str
) -> None:
    body = b'{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'
    headers, tampered = change(signed(gateway_state, body), body)  # type: ignore[operator]
    with pytest.raises(wechatpay.WechatPayError) as caught:
        check(gateway_state, headers, tampered)
    assert caught.value.code == "bad_signature", why


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_signature_more_than_five_minutes_away_is_refused(gateway_state: GatewayState, skew: int) -> None:
    headers = signed(gateway_state, b"{}", now=NOW + dt.timedelta(seconds=skew))
    with pytest.raises(wechatpay.WechatPayError):
        check(gateway_state, headers, b"{}")
    check(gateway_state, signed(gateway_state, b"{}", now=NOW + dt.timedelta(seconds=skew // 2)), b"{}")


def test_a_resource_decrypts_with_the_apiv3_key_only() -> None:
    plaintext = json.dumps(DOCUMENTED_TRANSACTION, ensure_ascii=False).encode()
    resource = wechatpay.resource_encrypt(
        API_V3_KEY, plaintext, associated_data="transaction", original_type="transaction"
    )
    assert resource["algorithm"] == "AEAD_AES_256_GCM" and len(resource["nonce"]) == 12
    assert wechatpay.resource_decrypt(API_V3_KEY, resource) == plaintext
    tampered = [
        (API_V3_KEY[::-1], resource),
        (API_V3_KEY, resource | {"associated_data": "refund"}),
        (API_V3_KEY, resource | {"nonce": "000000000000"}),
        (API_V3_KEY, resource | {"ciphertext": resource["ciphertext"][:-6] + "AAAA=="}),
        (API_V3_KEY, resource | {"ciphertext": "not base64"}),
    ]
    for key, changed in tampered:
        with pytest.raises(wechatpay.WechatPayError) as caught:
            wechatpay.resource_decrypt(key, changed)
        assert caught.value.code == "decrypt_failed"
    with pytest.raises(wechatpay.WechatPayError):
        wechatpay.resource_decrypt(API_V3_KEY, resource | {"algorithm": "AES_128_CBC"})


def test_the_documented_transaction_reads_as_paid_in_cents() -> None:
    transaction = wechatpay.transaction_parse(DOCUMENTED_TRANSACTION)
    assert (transaction.out_trade_no, transaction.trade_state, transaction.total, transaction.currency) == (
        "1217752501201407033233368018",
        "SUCCESS",
        100,
        "CNY",
    )
    assert transaction.success_time == dt.datetime(2018, 6, 8, 2, 34, 56, tzinfo=dt.UTC)
    assert wechatpay.from_minor(transaction.total, transaction.currency) == Decimal("1.00")


@pytest.mark.parametrize(
    ("amount", "currency", "units"), [("12.50", "EUR", 1250), ("0.01", "CNY", 1), ("1500", "JPY", 1500)]
)
def test_amounts_travel_in_the_currencys_minor_unit(amount: str, currency: str, units: int) -> None:
    assert wechatpay.minor_units(Decimal(amount), currency) == units
    assert wechatpay.from_minor(units, currency) == Decimal(amount)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"amount": {"total": "100"}},
        DOCUMENTED_TRANSACTION | {"out_trade_no": 7},
        DOCUMENTED_TRANSACTION | {"amount": {"total": True}},
    ],
)
def test_a_transaction_missing_a_field_is_malformed(data: object) -> None:
    with pytest.raises(wechatpay.WechatPayError) as caught:
        wechatpay.transaction_parse(data)
    assert caught.value.code == "malformed"


tokens = st.text(alphabet="0123456789ABCDEFabcdef_-", min_size=1, max_size=40)


@given(mchid=tokens, serial=tokens, nonce=tokens, timestamp=st.integers(min_value=0, max_value=2**40))
def test_every_header_we_write_reads_back(mchid: str, serial: str, nonce: str, timestamp: int) -> None:
    header = wechatpay.authorization(
        mchid=mchid, serial_no=serial, private_key=SIGNER, method="POST", url="/v3/x", body="{}",
        timestamp=str(timestamp), nonce=nonce,
    )  # fmt: skip
    fields = wechatpay.authorization_parse(header)
    assert (fields["mchid"], fields["serial_no"], fields["nonce_str"], fields["timestamp"]) == (
        mchid,
        serial,
        nonce,
        str(timestamp),
    )
