"""``cimaise payments sandbox|query|close|sweep``: run the local Alipay/WeChat Pay gateway;
ask a provider about a payment (a lost notification is recovered); close an expired one; sweep
every payment still awaiting its wallet (run it every few minutes)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from cimaise.core.errors import DomainError
from cimaise.payments import conf, services
from cimaise.payments.gateway.app import Running, start
from cimaise.payments.gateway.delivery import ALIPAY_SCHEDULE, WECHATPAY_SCHEDULE, Policy
from cimaise.payments.gateway.state import GatewayState, Given, shop_settings, state_prepare


def listen_parse(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise CommandError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]"), int(port)


def schedule_parse(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CommandError(f"--retry-schedule {text!r}: seconds separated by commas") from None
    if not values or any(value < 0 for value in values):
        raise CommandError("--retry-schedule: at least one interval, none negative")
    return values


class Command(BaseCommand):
    help = (
        "sandbox: serve a local gateway speaking the Alipay and WeChat Pay protocols (loopback only); "
        "query/close PAYMENT_ID: ask the provider about a payment / close an expired one; "
        "sweep: query every payment still awaiting its wallet, close the expired ones, check pending refunds."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sandbox = sub.add_parser("sandbox", help="serve the local Alipay/WeChat Pay gateway")
        sandbox.add_argument("--listen", required=True, help="HOST:PORT on loopback (port 0: any free port)")
        sandbox.add_argument(
            "--notify-base",
            default="http://127.0.0.1:8000",
            help="the shop, when a request names no notify_url",
        )
        sandbox.add_argument(
            "--state", default="", help="directory for keys and trades (default: a new temporary one)"
        )
        sandbox.add_argument(
            "--retry-schedule",
            default="",
            help="seconds between notification attempts, e.g. 0.2,0.5,1 (default: the real gateways')",
        )
        sandbox.add_argument(
            "--no-duplicate", action="store_true", help="do not send each notification a second time"
        )
        sandbox.add_argument(
            "--max-seconds", type=float, default=0, help="stop after this long (0: run until interrupted)"
        )
        for name in ("query", "close"):
            one = sub.add_parser(name, help=f"{name} one payment")
            one.add_argument("payment_id")
        sweep = sub.add_parser(
            "sweep", help="query awaiting payments, close expired ones, check pending refunds"
        )
        sweep.add_argument("--older-than-minutes", type=float, default=2.0)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "sandbox":
                self._sandbox(options)
            elif action == "sweep":
                self._sweep(options["older_than_minutes"])
            else:
                self._one(action, options["payment_id"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _one(self, action: str, payment_id: str) -> None:
        act = services.payment_query if action == "query" else services.payment_close
        payment = act(payment_id=payment_id)
        self.stdout.write(f"payment {payment.pk}: {payment.state}{' (late)' if payment.late else ''}")

    def _sweep(self, minutes: float) -> None:
        report = services.payments_sweep(older_than=dt.timedelta(minutes=minutes))
        self.stdout.write(services.sweep_summary(report))
        if report.errors:
            raise SystemExit(1)

    def _sandbox(self, options: dict[str, Any]) -> None:
        host, port = listen_parse(options["listen"])
        directory = (
            Path(options["state"]) if options["state"] else Path(tempfile.mkdtemp(prefix="cimaise-sandbox-"))
        )
        state = state_prepare(directory.resolve(), _given())
        schedule = schedule_parse(options["retry_schedule"]) if options["retry_schedule"] else None
        policy = Policy(
            schedules={"alipay": schedule or ALIPAY_SCHEDULE, "wechatpay": schedule or WECHATPAY_SCHEDULE},
            duplicate=not options["no_duplicate"],
            duplicate_delay=min(schedule or (1.0,)),
        )
        try:
            running = start(state, host=host, port=port, notify_base=options["notify_base"], policy=policy)
        except (ValueError, OSError) as exc:
            raise CommandError(f"--listen {options['listen']}: {exc}") from exc
        self._announce(running, state)
        previous = signal.signal(signal.SIGTERM, lambda *_: running.stop.set())
        try:
            running.stop.wait(options["max_seconds"] or None)
        except KeyboardInterrupt:
            pass
        finally:
            running.shutdown()
            signal.signal(signal.SIGTERM, previous)

    def _announce(self, running: Running, state: GatewayState) -> None:
        settings = shop_settings(state, running.base_url)
        self.stdout.write(
            f"Sandbox gateway (Alipay, WeChat Pay) at {running.base_url}: loopback only, no real money.\n"
            f"State and keys: {state.directory}\n"
            f"  Alipay's public key: {state.files['alipay_public_key_file']}\n"
            f"  WeChat Pay platform certificate: {state.files['platform_certificate_file']} "
            f"(serial {state.wechat_platform_serial})\n"
            f"Settings (also in {running.settings_file}); set each 'institution' to the code of the "
            f"institution paid:\nCIMAISE_PAYMENTS = {json.dumps(settings, indent=2)}\n"
        )
        self.stdout.flush()


def _secret(options: dict[str, Any], name: str, provider: str) -> bytes:
    try:
        return conf.secret_read(options, name, provider=provider)
    except ImproperlyConfigured:
        return b""


def _given() -> Given:
    """What the settings already say: the gateway then verifies the shop's real key files."""
    alipay = conf.provider_config("alipay") or {}
    wechat = conf.provider_config("wechatpay") or {}
    return Given(
        alipay_app_id=str(alipay.get("app_id") or ""),
        alipay_key=_secret(alipay, "private_key", "alipay"),
        wechat_mchid=str(wechat.get("mchid") or ""),
        wechat_appid=str(wechat.get("appid") or ""),
        wechat_serial=str(wechat.get("merchant_serial") or ""),
        wechat_key=_secret(wechat, "private_key", "wechatpay"),
        wechat_api_v3_key=_secret(wechat, "api_v3_key", "wechatpay"),
    )
