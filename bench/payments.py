"""Provider notifications verified and applied per second, per provider, against the raw signature
verification of the same notifications with ``cryptography`` alone, in the same run.

Set-up (not timed): one institution (``bench``) and a test purpose (``bench.order``) whose
``on_paid`` hook only counts its calls. The sandbox gateway's identity is made in the scratch var
directory (``gateway.state.state_prepare``: fresh 2048-bit RSA keys for Alipay and for WeChat
Pay's platform, with a self-signed platform certificate, our merchant keys and a 32-byte APIv3
key, all written to files) and ``CIMAISE_PAYMENTS`` points ``alipay`` and ``wechatpay`` at those
files for the institution, as the test suite does; ``sandbox`` is enabled and signs with the
institution's Ed25519 ``payments-sandbox`` key (a 0600 file under ``KEY_DIR``). WeChat Pay's
``max_skew_seconds`` is raised to a day so that a long run's replay pass is not refused as stale
(the check costs the same). Then ``--n`` payments per provider (default 2,000; EUR, amounts
varying) through ``payment_create``, and for each payment the notification its gateway sends once
it is paid, built as the sandbox gateway builds it:

- Alipay: the form (``notify_id``, ``app_id``, ``seller_id``, ``out_trade_no``, ``trade_status``
  ``TRADE_SUCCESS``, ``total_amount``, ``trans_currency``…), RSA2-signed over the sorted
  ``k=v`` string (``protocols.alipay.notification_sign``), URL-encoded;
- WeChat Pay: the ``TRANSACTION.SUCCESS`` JSON envelope whose ``resource`` is the transaction
  encrypted AEAD_AES_256_GCM with the APIv3 key, and the ``Wechatpay-Timestamp``, ``-Nonce``,
  ``-Serial`` and ``-Signature`` headers (SHA256withRSA with the platform key);
- sandbox: its signed JSON and ``X-Sandbox-Signature`` (``providers.sandbox.notification_sign``).

Timed, per provider: ``notification_receive(provider=…, body=…, headers=…)`` for every
notification, one after another: verify the signature, parse (and decrypt), lock and match the
payment, mark it paid, call the hook, store the notification and append the fact to the ledger.

Baseline, per provider, just before: the same notifications' signatures verified with
``cryptography`` alone, everything else prepared untimed (signed message and signature bytes cut
out of each notification, keys loaded once): RSA PKCS#1 v1.5 SHA-256 ``verify`` over the sign
content (Alipay) or over ``timestamp\\nnonce\\nbody\\n`` plus the ``AESGCM.decrypt`` of the resource
(WeChat Pay), Ed25519 ``verify`` of the body (sandbox); three passes over the notifications.

Replay, per provider, timed on its own line (``payments.<provider>.replay``, same baseline):
every notification delivered again, byte for byte; each must be answered as a duplicate.

Printed: one JSON line per provider and one per replay (notifications/s, baseline
verifications/s, their ratio). Checks (exit 1 if wrong): every first delivery accepted and every
replay answered as a duplicate with the provider's success answer; every payment paid, with one
stored notification, one ``payments.payment.paid`` fact and one hook call each; the replays
wrote no fact and no notification; ``ledger_verify().ok``.
Runs in a throw-away var directory (SQLite unless ``DATABASE_URL`` says otherwise).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import secrets
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from _harness import emit, scratch_django

PROVIDERS = ("alipay", "wechatpay", "sandbox")
INSTITUTION = "bench"
PURPOSE = "bench.order"
NOWHERE = "http://127.0.0.1:9"  # nothing listens: the providers are never called here
CREATE_BATCH = 500
BASELINE_PASSES = 3
#: What each provider answers a notification it took (status, body).
ANSWERS = {"alipay": (200, b"success"), "wechatpay": (204, b""), "sandbox": (200, b'{"status":"ok"}')}
CHINA = dt.timezone(dt.timedelta(hours=8))

Delivery = tuple[bytes, dict[str, str]]


class Purpose:
    """The test purpose: its ``on_paid`` hook counts the calls per payment and does nothing else."""

    def __init__(self) -> None:
        self.paid: Counter[str] = Counter()

    def on_paid(self, payment: Any, now: dt.datetime) -> None:
        self.paid[payment.pk] += 1


def configure(var_dir: str) -> Any:
    """The gateway's keys in files under the var directory; the three providers enabled."""
    from django.conf import settings

    from cimaise.payments.gateway.state import Given, shop_settings, state_prepare

    state = state_prepare(Path(var_dir) / "gateway", Given())
    wallets = shop_settings(state, NOWHERE)
    for name, options in wallets.items():
        options |= {"institution": INSTITUTION, "notify_url": f"{NOWHERE}/api/v1/payments/{name}/notify"}
    wallets["wechatpay"]["max_skew_seconds"] = 86_400
    settings.CIMAISE_PAYMENTS = {**settings.CIMAISE_PAYMENTS, **wallets, "sandbox": {"enabled": True}}
    return state


def make_payments(n: int) -> dict[str, list[Any]]:
    """``n`` payments awaiting each provider, for the test purpose."""
    from django.db import transaction

    from cimaise.core.models import Institution
    from cimaise.payments import services
    from cimaise.payments.models import Payment

    institution = Institution.objects.create(code=INSTITUTION, name="Bench museum")
    made: dict[str, list[Any]] = {}
    for provider in PROVIDERS:
        for offset in range(0, n, CREATE_BATCH):
            with transaction.atomic():
                for i in range(offset, min(offset + CREATE_BATCH, n)):
                    services.payment_create(
                        institution=institution, purpose=PURPOSE, reference=f"{provider[:2].upper()}{i:06d}",
                        amount=Decimal(10 + i % 90) + Decimal(i % 100) / 100, currency="EUR",
                        provider=provider, return_url="/orders/done", description=f"Order {i}",
                        actor="user:bench",
                    )  # fmt: skip
        rows = Payment.objects.filter(provider=provider).select_related("institution").order_by("reference")
        made[provider] = list(rows)
    return made


def alipay_notifications(state: Any, payments: Sequence[Any]) -> list[Delivery]:
    """What Alipay posts once each trade is paid (the sandbox gateway's fields)."""
    from cimaise.payments.money import amount_text
    from cimaise.payments.protocols import alipay

    now = dt.datetime.now(dt.UTC)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    made = []
    for payment in payments:
        amount = amount_text(payment.amount)
        fields = {
            "notify_time": alipay.timestamp_text(now), "notify_type": "trade_status_sync",
            "notify_id": f"2026{secrets.token_hex(15)}", "charset": "utf-8", "version": "1.0",
            "app_id": state.alipay_app_id, "auth_app_id": state.alipay_app_id,
            "seller_id": state.alipay_seller_id, "buyer_id": "2088102177846880",
            "trade_no": f"{now:%Y%m%d}{secrets.randbelow(10**20):020d}", "out_trade_no": payment.pk,
            "subject": payment.description, "trade_status": "TRADE_SUCCESS", "total_amount": amount,
            "receipt_amount": amount, "buyer_pay_amount": amount,
            "gmt_create": alipay.timestamp_text(payment.created_at),
            "gmt_payment": alipay.timestamp_text(now),
            "trans_currency": payment.currency, "settle_currency": payment.currency,
        }  # fmt: skip
        made.append((alipay.form_encode(alipay.notification_sign(fields, state.alipay_private_key)), headers))
    return made


def wechatpay_notifications(state: Any, payments: Sequence[Any]) -> list[Delivery]:
    """What WeChat Pay posts once each order is paid: the encrypted envelope, signed headers."""
    from cimaise.payments.protocols import wechatpay

    now = dt.datetime.now(dt.UTC)
    made = []
    for payment in payments:
        total = wechatpay.minor_units(payment.amount, payment.currency)
        transaction = {
            "appid": state.wechat_appid, "mchid": state.wechat_mchid, "out_trade_no": payment.pk,
            "transaction_id": f"4200{secrets.randbelow(10**24):024d}", "trade_type": "NATIVE",
            "trade_state": "SUCCESS", "trade_state_desc": "SUCCESS", "bank_type": "OTHERS",
            "payer": {"openid": "oSandboxPayer0000000000000000"},
            "amount": {"total": total, "currency": payment.currency, "payer_total": total,
                       "payer_currency": payment.currency},
            "success_time": wechatpay.time_text(now.astimezone(CHINA)),
        }  # fmt: skip
        plaintext = json.dumps(transaction, ensure_ascii=False, separators=(",", ":")).encode()
        envelope = {
            "id": f"EV-{uuid.uuid4()}", "create_time": wechatpay.time_text(now),
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
            "resource": wechatpay.resource_encrypt(
                state.wechat_api_v3_key, plaintext, associated_data="transaction", original_type="transaction"
            ),
        }  # fmt: skip
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        signed = wechatpay.signed_headers(
            private_key=state.wechat_platform_key, serial_no=state.wechat_platform_serial, body=body, now=now
        )
        made.append((body, {"Content-Type": "application/json", **signed}))
    return made


def sandbox_notifications(payments: Sequence[Any]) -> list[Delivery]:
    """What the sandbox card page sends once each payment is made."""
    from cimaise.payments.providers import sandbox

    now = dt.datetime.now(dt.UTC)
    return [sandbox.notification_sign(payment=payment, status="paid", now=now) for payment in payments]


def raw_alipay(state: Any, deliveries: Sequence[Delivery]) -> Callable[[], None]:
    """RSA2 checks of the notifications' sign content with Alipay's public key (from its file)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from cimaise.payments.protocols import alipay

    public: Any = serialization.load_pem_public_key(Path(state.files["alipay_public_key_file"]).read_bytes())
    items = []
    for body, _headers in deliveries:
        fields = dict(parse_qsl(body.decode()))
        content = alipay.sign_content(fields, exclude=alipay.NOTIFICATION_UNSIGNED).encode()
        items.append((base64.b64decode(fields["sign"]), content))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def run() -> None:
        for signature, content in items:
            public.verify(signature, content, pkcs1, sha256)

    return run


def raw_wechatpay(state: Any, deliveries: Sequence[Delivery]) -> Callable[[], None]:
    """RSA checks of ``timestamp\\nnonce\\nbody\\n`` with the platform certificate's key, then the
    resource's AES-256-GCM decryption with the APIv3 key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    certificate = Path(state.files["platform_certificate_file"]).read_bytes()
    public: Any = x509.load_pem_x509_certificate(certificate).public_key()
    aead = AESGCM(state.wechat_api_v3_key)
    items = []
    for body, headers in deliveries:
        message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n".encode() + body + b"\n"
        resource = json.loads(body)["resource"]
        sealed = (
            resource["nonce"].encode(),
            base64.b64decode(resource["ciphertext"]),
            resource["associated_data"].encode(),
        )
        items.append((base64.b64decode(headers["Wechatpay-Signature"]), message, sealed))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def run() -> None:
        for signature, message, (nonce, ciphertext, associated) in items:
            public.verify(signature, message, pkcs1, sha256)
            aead.decrypt(nonce, ciphertext, associated)

    return run


def raw_sandbox(deliveries: Sequence[Delivery]) -> Callable[[], None]:
    """Ed25519 checks of the bodies with the institution's public key."""
    from cimaise.core import keys
    from cimaise.core.models import SigningKey
    from cimaise.payments.providers import sandbox

    header = sandbox.SIGNATURE_HEADER
    kid = deliveries[0][1][header].partition(":")[0]
    public = keys.public_key(SigningKey.objects.get(kid=kid))
    items = [(keys.b64url_decode(headers[header].partition(":")[2]), body) for body, headers in deliveries]

    def run() -> None:
        for signature, body in items:
            public.verify(signature, body)

    return run


def build(provider: str, state: Any, payments: Sequence[Any]) -> tuple[list[Delivery], Callable[[], None]]:
    """The provider's notifications about ``payments`` and the raw check of their signatures."""
    if provider == "alipay":
        made = alipay_notifications(state, payments)
        return made, raw_alipay(state, made)
    if provider == "wechatpay":
        made = wechatpay_notifications(state, payments)
        return made, raw_wechatpay(state, made)
    made = sandbox_notifications(payments)
    return made, raw_sandbox(made)


def bench_raw(run: Callable[[], None]) -> float:
    """Seconds for ``BASELINE_PASSES`` passes of the raw checks."""
    start = time.perf_counter()
    for _ in range(BASELINE_PASSES):
        run()
    return time.perf_counter() - start


def deliver(provider: str, deliveries: Sequence[Delivery]) -> tuple[float, list[Any]]:
    """Seconds to receive every notification, one after another, and the outcomes."""
    from cimaise.payments.notifications import notification_receive

    outcomes = []
    start = time.perf_counter()
    for body, headers in deliveries:
        outcomes.append(notification_receive(provider=provider, body=body, headers=headers))
    return time.perf_counter() - start, outcomes


def counts() -> tuple[int, int]:
    from cimaise.ledger.models import Fact
    from cimaise.payments.models import Notification

    return Fact.objects.count(), Notification.objects.count()


def outcome_problems(provider: str, outcomes: Sequence[Any], *, replay: bool) -> list[str]:
    expected = (True, replay, *ANSWERS[provider])
    wrong = [o for o in outcomes if (o.accepted, o.duplicate, o.status, o.body) != expected]
    if not wrong:
        return []
    first = wrong[0]
    what = "replays" if replay else "deliveries"
    example = f"{first.status} {first.code} {first.message}"
    return [f"{provider}: {len(wrong)} {what} answered otherwise, e.g. {example}"]


def state_problems(provider: str, payments: Sequence[Any], purpose: Purpose) -> list[str]:
    from cimaise.ledger.models import Fact
    from cimaise.payments.models import Notification, Payment

    ids = [p.pk for p in payments]
    wrong = []
    unpaid = Payment.objects.filter(pk__in=ids).exclude(state="paid").count()
    if unpaid:
        wrong.append(f"{provider}: {unpaid} payments not paid")
    stored = Counter(Notification.objects.filter(provider=provider).values_list("payment_id", flat=True))
    if sorted(stored) != sorted(ids) or set(stored.values()) != {1}:
        wrong.append(f"{provider}: {sum(stored.values())} notifications stored for {len(ids)} payments")
    streams = [f"payments.payment:{INSTITUTION}:{pk}" for pk in ids]
    paid = Counter(
        Fact.objects.filter(type="payments.payment.paid", stream__in=streams).values_list("stream", flat=True)
    )
    if len(paid) != len(ids) or set(paid.values()) != {1}:
        wrong.append(f"{provider}: {sum(paid.values())} paid facts for {len(ids)} payments")
    calls = [purpose.paid[pk] for pk in ids]
    if set(calls) != {1}:
        wrong.append(f"{provider}: on_paid called {sum(calls)} times for {len(ids)} payments")
    return wrong


def bench_provider(provider: str, state: Any, payments: Sequence[Any]) -> tuple[dict[str, float], list[str]]:
    """Build the notifications, then time the raw checks, the deliveries and the replays."""
    deliveries, raw = build(provider, state, payments)
    raw_s = bench_raw(raw)
    apply_s, outcomes = deliver(provider, deliveries)
    wrong = outcome_problems(provider, outcomes, replay=False)
    before = counts()
    replay_s, replayed = deliver(provider, deliveries)
    wrong += outcome_problems(provider, replayed, replay=True)
    after = counts()
    if after != before:
        facts, notifications = after[0] - before[0], after[1] - before[1]
        wrong.append(f"{provider}: the replays wrote {facts} facts and {notifications} notifications")
    return {"raw": raw_s, "apply": apply_s, "replay": replay_s}, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description="Payment notifications applied vs raw signature checks.")
    parser.add_argument("--n", type=int, default=2_000, help="payments per provider (default 2,000)")
    args = parser.parse_args()
    purpose = Purpose()
    with scratch_django() as var_dir:
        from cimaise.ledger.verify import ledger_verify
        from cimaise.payments import hooks

        hooks.register(PURPOSE, hooks.PurposeHooks(on_paid=purpose.on_paid))
        state = configure(var_dir)
        payments = make_payments(args.n)
        times: dict[str, dict[str, float]] = {}
        wrong: list[str] = []
        for provider in PROVIDERS:
            times[provider], problems = bench_provider(provider, state, payments[provider])
            wrong += problems + state_problems(provider, payments[provider], purpose)
        if not ledger_verify().ok:
            wrong.append("ledger_verify() is not ok")
    if wrong:
        print("payments: " + "; ".join(wrong), file=sys.stderr)
        return 1
    for provider in PROVIDERS:
        baseline = BASELINE_PASSES * args.n / times[provider]["raw"]
        for name, key in ((f"payments.{provider}", "apply"), (f"payments.{provider}.replay", "replay")):
            emit(
                name,
                metric=args.n / times[provider][key],
                baseline=baseline,
                unit="notifications/s",
                n=args.n,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
