"""The sandbox gateway sends notifications as the real ones do: again at growing intervals until
the shop acknowledges (Alipay: the text ``success``; WeChat Pay: a 2xx), each WeChat Pay attempt
signed afresh, one deliberate duplicate afterwards, giving up after the last interval, and never
beyond this machine. It serves loopback only and refuses stale or foreign signatures."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from cimaise.core.tests.personas import Cast
from cimaise.payments import services
from cimaise.payments.gateway.app import Running, check_loopback
from cimaise.payments.gateway.delivery import loopback
from cimaise.payments.gateway.state import GatewayState, shop_settings
from cimaise.payments.protocols import alipay, http_send, private_key_load, wechatpay
from cimaise.payments.tests import test_gateway_support as support
from cimaise.payments.tests.conftest import Shop, start

pytestmark = pytest.mark.django_db
gateway_state, gateway = support.gateway_state, support.gateway  # the shared fixtures


class FakeShop:
    """A notify endpoint answering from a script (the last answer repeats), keeping what came."""

    def __init__(self, answers: list[tuple[int, bytes]]) -> None:
        self.answers = answers
        self.received: list[tuple[dict[str, str], bytes]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                shop.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, text = shop.answers[min(len(shop.received), len(shop.answers)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_shop(request: pytest.FixtureRequest) -> Iterator[FakeShop]:
    shop = FakeShop(request.param)
    yield shop
    shop.close()


def notifying(settings: Any, state: GatewayState, gateway: Running, shop_url: str) -> None:
    support.configure(settings, shop_settings(state, gateway.base_url), notify_base=shop_url)


def paid_at_gateway(cast: Cast, provider: str) -> str:
    payment = start(cast.institution_a, provider=provider).payment
    qr = services.payment_open(payment_id=payment.pk).qr
    assert qr is not None and support.post_form(qr, {"action": "pay"}).status == 303
    return payment.pk


def deliveries(gateway: Running, provider: str, payment_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = support.trade_status(gateway.base_url, provider, payment_id)["deliveries"]
    return rows


@pytest.mark.parametrize("fake_shop", [[(200, b"fail"), (500, b"oops"), (200, b"success")]], indirect=True)
def test_alipay_sends_again_until_it_reads_success_then_once_more(
    settings: Any, cast: Cast, shop: Shop, gateway_state: GatewayState, gateway: Running, fake_shop: FakeShop
) -> None:
    notifying(settings, gateway_state, gateway, fake_shop.url)
    payment_id = paid_at_gateway(cast, "alipay")
    support.eventually(
        lambda: len(deliveries(gateway, "alipay", payment_id)) == 2 and len(fake_shop.received) == 4
    )
    original, duplicate = deliveries(gateway, "alipay", payment_id)
    assert [answer[1] for answer in original["answers"]] == ["fail", "oops", "success"]
    assert (original["acknowledged"], duplicate["duplicate"], duplicate["answers"]) == (
        1,
        1,
        [[200, "success"]],
    )
    bodies = {body for _headers, body in fake_shop.received}
    assert len(bodies) == 1  # the same notification (same notify_id) every time
    fields = alipay.form_parse(bodies.pop())
    assert fields["out_trade_no"] == payment_id and fields["trade_status"] == "TRADE_SUCCESS"
    assert alipay.notification_verify(fields, gateway_state.alipay_private_key.public_key())


@pytest.mark.parametrize(
    "fake_shop", [[(500, b'{"code":"FAIL","message":"busy"}'), (204, b"")]], indirect=True
)
def test_wechatpay_sends_again_until_a_2xx_signing_each_attempt_afresh(
    settings: Any, cast: Cast, shop: Shop, gateway_state: GatewayState, gateway: Running, fake_shop: FakeShop
) -> None:
    notifying(settings, gateway_state, gateway, fake_shop.url)
    payment_id = paid_at_gateway(cast, "wechatpay")
    support.eventually(lambda: len(fake_shop.received) == 3)
    nonces = {headers["wechatpay-nonce"] for headers, _body in fake_shop.received}
    assert len(nonces) == 3 and len({body for _headers, body in fake_shop.received}) == 1
    keys = {gateway_state.wechat_platform_serial: gateway_state.wechat_platform_key.public_key()}
    for headers, body in fake_shop.received:
        wechatpay.signature_check(headers, body, keys=keys, now=dt.datetime.now(dt.UTC))
    envelope = json.loads(fake_shop.received[0][1])
    plaintext = wechatpay.resource_decrypt(gateway_state.wechat_api_v3_key, envelope["resource"])
    assert wechatpay.transaction_parse(json.loads(plaintext)).out_trade_no == payment_id
    support.eventually(
        lambda: [d["acknowledged"] for d in deliveries(gateway, "wechatpay", payment_id)] == [1, 1]
    )


@pytest.mark.parametrize("fake_shop", [[(503, b"down")]], indirect=True)
def test_the_gateway_gives_up_after_the_last_interval(
    settings: Any, cast: Cast, shop: Shop, gateway_state: GatewayState, gateway: Running, fake_shop: FakeShop
) -> None:
    notifying(settings, gateway_state, gateway, fake_shop.url)
    payment_id = paid_at_gateway(cast, "alipay")
    support.eventually(lambda: deliveries(gateway, "alipay", payment_id)[0]["next_at"] is None)
    (delivery,) = deliveries(gateway, "alipay", payment_id)
    assert (delivery["attempts"], delivery["acknowledged"], len(fake_shop.received)) == (
        4,
        0,
        4,
    )  # 1 + 3 retries


def test_the_gateway_never_notifies_beyond_this_machine(
    settings: Any, cast: Cast, shop: Shop, gateway_state: GatewayState, gateway: Running
) -> None:
    notifying(settings, gateway_state, gateway, "http://192.0.2.10")
    payment_id = paid_at_gateway(cast, "wechatpay")
    support.eventually(lambda: bool(deliveries(gateway, "wechatpay", payment_id)[0]["answers"]))
    assert deliveries(gateway, "wechatpay", payment_id)[0]["answers"][0][0] == "refused"
    assert (
        loopback("http://localhost:8000/x") and loopback("http://[::1]/") and not loopback("http://10.0.0.1/")
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org"])  # noqa: S104  (refused)
def test_the_sandbox_listens_on_loopback_only(tmp_path: Path, host: str) -> None:
    with pytest.raises(ValueError):
        check_loopback(host)
    with pytest.raises(CommandError):
        call_command("payments", "sandbox", "--listen", f"{host}:0", "--state", str(tmp_path))


def test_a_wechatpay_request_signed_more_than_five_minutes_ago_is_refused(
    gateway_state: GatewayState, gateway: Running
) -> None:
    key = private_key_load(Path(gateway_state.files["wechatpay_private_key_file"]).read_bytes())
    path = f"/v3/global/transactions/out-trade-no/{'a' * 32}?mchid={gateway_state.wechat_mchid}"
    for age, status in [(dt.timedelta(minutes=6), 401), (dt.timedelta(0), 404)]:
        header = wechatpay.authorization(
            mchid=gateway_state.wechat_mchid, serial_no=gateway_state.wechat_merchant_serial, private_key=key,
            method="GET", url=path, body="", timestamp=str(int((dt.datetime.now(dt.UTC) - age).timestamp())),
            nonce=wechatpay.nonce_new(),
        )  # fmt: skip
        answer = http_send(
            "GET", f"{gateway.base_url}{path}", body=None, headers={"Authorization": header}, timeout=10
        )
        assert answer.status == status
        assert json.loads(answer.body)["code"] == ("SIGN_ERROR" if status == 401 else "ORDER_NOT_EXIST")


def test_the_sandbox_command_verifies_the_key_files_the_settings_point_to(
    settings: Any, tmp_path: Path, gateway_state: GatewayState
) -> None:
    ours = gateway_state.files["alipay_private_key_file"]
    settings.CIMAISE_PAYMENTS = settings.CIMAISE_PAYMENTS | {
        "alipay": {"app_id": "2021001122334455", "private_key_file": ours, "private_key_env": ""}
    }
    state = tmp_path / "state"
    call_command(
        "payments", "sandbox", "--listen", "127.0.0.1:0", "--state", str(state), "--max-seconds", "0.1"
    )
    written = json.loads((state / "settings.json").read_text())["CIMAISE_PAYMENTS"]
    assert written["alipay"]["app_id"] == "2021001122334455"
    assert "private_key_file" not in written["alipay"]  # ours, not one the gateway made
    assert "private_key_file" in written["wechatpay"] and not (state / "merchant-alipay-private.pem").exists()
