"""The Alipay protocol as pure code: RSA2 sign content and round trips, the exact response object
text, key formats, and vectors from Alipay's published documentation."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from cimaise.payments.gateway.state import GatewayState
from cimaise.payments.protocols import alipay, private_key_load, public_key_load, rsa_sign
from cimaise.payments.tests import test_gateway_support as support

gateway_state = support.gateway_state  # the shared fixture

# Source: Alipay open platform documentation, "异步通知验签" (verifying an asynchronous
# notification, opendocs.alipay.com/common/02mse7, also mirrored in the "使用支付宝公钥验签"
# page): the example notification received at https://api.xx.com/receive_notify.htm.
DOCUMENTED_NOTIFICATION = (
    "total_amount=2.00&buyer_id=2088102116773037&body=大乐透2.1&trade_no=2016071921001003030200089909"
    "&refund_fee=0.00&notify_time=2016-07-19 14:10:49&subject=大乐透2.1&sign_type=RSA2&charset=utf-8"
    "&notify_type=trade_status_sync&out_trade_no=0719141034-6418&gmt_close=2016-07-19 14:10:46"
    "&gmt_payment=2016-07-19 14:10:47&trade_status=TRADE_SUCCESS&version=1.0"
    "&sign=kPbQIjX+xQc8F0/A6/AocELIjhhZnGbcBN6G4MM/HmfWL4ZiHM6fWl5NQhzXJusaklZ1LFuMo+lHQUELAYeugH8LYFvxnNajOvZhuxNFbN2LhF0l/KL8ANtj8oyPM4NN7Qft2kWJTDJUpQOzCzNnV9hDxh5AaT9FPqRS6ZKxnzM="
    "&gmt_create=2016-07-19 14:10:44&app_id=2015102700040153&seller_id=2088102119685838"
    "&notify_id=4a91b7a78a503640467525113fb7d8bg8e"
)
# The string to verify, by the documented rule: drop sign and sign_type, sort by name, k=v, &.
DOCUMENTED_SIGN_CONTENT = (
    "app_id=2015102700040153&body=大乐透2.1&buyer_id=2088102116773037&charset=utf-8"
    "&gmt_close=2016-07-19 14:10:46&gmt_create=2016-07-19 14:10:44&gmt_payment=2016-07-19 14:10:47"
    "&notify_id=4a91b7a78a503640467525113fb7d8bg8e&notify_time=2016-07-19 14:10:49"
    "&notify_type=trade_status_sync&out_trade_no=0719141034-6418&refund_fee=0.00"
    "&seller_id=2088102119685838&subject=大乐透2.1&total_amount=2.00"
    "&trade_no=2016071921001003030200089909&trade_status=TRADE_SUCCESS&version=1.0"
)
# Source: Alipay's alipay.trade.precreate reference (English edition, "Sample response",
# open.alitrip.com/docs/doc.htm?articleId=104629), laid out as printed there.
DOCUMENTED_PRECREATE_RESPONSE = """{
"alipay_trade_precreate_response": {
"code": "10000",
"msg": "处理成功",
"out_trade_no": "6823789339978248",
"qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a"
},
"sign": "jfAz0Yi0OUvAPqYTzA0DLysx0ri++yf7o/lkHOHaG1Zy2fHBf3j4WM+sJWHZUuyInt6V+wn+6IP9AmwRTKi+GGdWjPrsfBjXqR7H5aBnLhMsAltV7v4cYjhuguAqh4WkaJO6v6CfdybDpzHlxE6Thoucnad+OsjdCXkNd1g3UuU="
}"""  # noqa: E501  (the documentation's text, unwrapped)
DOCUMENTED_SIGNED_OBJECT = """{
"code": "10000",
"msg": "处理成功",
"out_trade_no": "6823789339978248",
"qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a"
}"""
METHOD = "alipay.trade.precreate"


def documented_fields() -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in DOCUMENTED_NOTIFICATION.split("&"))


def test_the_documented_notification_gives_the_documented_string_to_verify() -> None:
    content = alipay.sign_content(documented_fields(), exclude=alipay.NOTIFICATION_UNSIGNED)
    assert content == DOCUMENTED_SIGN_CONTENT


def test_the_documented_notification_does_not_verify_with_another_key(gateway_state: GatewayState) -> None:
    # Its signature was made with a key Alipay did not publish: ours must refuse it.
    assert not alipay.notification_verify(documented_fields(), gateway_state.alipay_private_key.public_key())


def test_the_signed_response_object_is_taken_as_sent_from_the_documented_answer() -> None:
    members = alipay.top_level_texts(DOCUMENTED_PRECREATE_RESPONSE)
    assert members[alipay.response_key(METHOD)] == DOCUMENTED_SIGNED_OBJECT
    assert json.loads(members["sign"]).startswith("jfAz0Yi0")


def test_the_documented_answer_verifies_once_signed_with_the_gateways_key(
    gateway_state: GatewayState,
) -> None:
    key = gateway_state.alipay_private_key
    with pytest.raises(alipay.AlipayError) as caught:
        alipay.response_parse(
            DOCUMENTED_PRECREATE_RESPONSE.encode(), method=METHOD, public_key=key.public_key()
        )
    assert caught.value.code == "bad_signature"
    resigned = DOCUMENTED_PRECREATE_RESPONSE.replace(
        json.loads(alipay.top_level_texts(DOCUMENTED_PRECREATE_RESPONSE)["sign"]),
        rsa_sign(key, DOCUMENTED_SIGNED_OBJECT.encode()),
    )
    answer = alipay.response_parse(resigned.encode(), method=METHOD, public_key=key.public_key())
    assert answer["qr_code"] == "https://qr.alipay.com/bavh4wjlxf12tper3a"


def test_a_request_signs_every_parameter_but_sign_and_verifies(gateway_state: GatewayState) -> None:
    key = gateway_state.alipay_private_key
    when = dt.datetime(2019, 10, 24, 8, 0, tzinfo=dt.UTC)
    params = alipay.request_params(
        method=METHOD, app_id="2021000000000001", biz_content={"out_trade_no": "a1", "subject": "Léonard"},
        now=when, private_key=key, notify_url="https://shop.example/notify",
    )  # fmt: skip
    assert params["timestamp"] == "2019-10-24 16:00:00"  # Beijing time
    assert params["biz_content"] == '{"out_trade_no":"a1","subject":"Léonard"}'
    assert alipay.request_verify(params, key.public_key())
    for name, value in [("biz_content", '{"out_trade_no":"a2"}'), ("app_id", "x"), ("sign_type", "RSA")]:
        assert not alipay.request_verify({**params, name: value}, key.public_key()), name
    assert alipay.form_parse(alipay.form_encode(params)) == params


def test_a_notification_round_trips_and_any_change_breaks_it(gateway_state: GatewayState) -> None:
    key = gateway_state.alipay_private_key
    signed = alipay.notification_sign(documented_fields() | {"sign": ""}, key)
    assert alipay.notification_verify(signed, key.public_key())
    assert alipay.notification_verify(alipay.form_parse(alipay.form_encode(signed)), key.public_key())
    assert not alipay.notification_verify({**signed, "total_amount": "2.01"}, key.public_key())
    assert not alipay.notification_verify({**signed, "sign_type": "RSA"}, key.public_key())
    assert not alipay.notification_verify({**signed, "sign": "not base64!"}, key.public_key())


def test_an_error_answer_names_alipays_codes(gateway_state: GatewayState) -> None:
    key = gateway_state.alipay_private_key
    body = alipay.response_body(
        "alipay.trade.query",
        {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
        },
        key,
    )
    with pytest.raises(alipay.AlipayError) as caught:
        alipay.response_parse(body, method="alipay.trade.query", public_key=key.public_key())
    assert (caught.value.code, caught.value.sub_code) == ("40004", "ACQ.TRADE_NOT_EXIST")


@pytest.mark.parametrize(
    "body", [b"not json", b"[1]", b'{"a":1} trailing', b'{"alipay_trade_query_response": {"code":"10000"}}']
)
def test_unreadable_or_unsigned_answers_are_refused(gateway_state: GatewayState, body: bytes) -> None:
    with pytest.raises(alipay.AlipayError) as caught:
        alipay.response_parse(
            body, method="alipay.trade.query", public_key=gateway_state.alipay_private_key.public_key()
        )
    assert caught.value.code in ("malformed", "bad_signature")


def test_keys_load_as_pem_or_as_the_bare_base64_alipays_tool_prints() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loaded = private_key_load(base64.b64encode(der).decode())
    assert loaded.private_numbers() == key.private_numbers()
    assert public_key_load(base64.b64encode(public_der)).public_numbers() == key.public_key().public_numbers()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.sampled_from([(",", ":"), (", ", ": "), (",\n", " :  ")]),
)
def test_each_member_is_cut_out_exactly_as_written(
    members: dict[str, object], separators: tuple[str, str]
) -> None:
    text = json.dumps(members, separators=separators, ensure_ascii=False)
    cut = alipay.top_level_texts(text)
    assert {name: json.loads(value) for name, value in cut.items()} == members
    assert all(value in text for value in cut.values())
