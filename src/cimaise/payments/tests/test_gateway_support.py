"""Shared by the Alipay, WeChat Pay and sandbox gateway tests (this module holds no tests): the
sandbox's keys, made once per session; settings pointing both providers at them for the test
institution (``louvre``); an in-process gateway; the gateway as a real ``cimaise payments
sandbox`` subprocess; and small HTTP helpers. Nothing here reaches beyond 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from cimaise.payments.gateway.app import Running, start
from cimaise.payments.gateway.delivery import Policy
from cimaise.payments.gateway.state import GatewayState, Given, shop_settings, state_prepare
from cimaise.payments.protocols import HttpAnswer, http_send

INSTITUTION = "louvre"
#: Nothing listens there: notifications to it are "unreachable" and retried.
NOWHERE = "http://127.0.0.1:9"
FAST = Policy(schedules={"alipay": (0.1, 0.2, 0.4), "wechatpay": (0.1, 0.2, 0.4)}, duplicate_delay=0.1)


@pytest.fixture(scope="session")
def gateway_state(tmp_path_factory: pytest.TempPathFactory) -> GatewayState:
    return state_prepare(tmp_path_factory.mktemp("sandbox-keys"), Given())


def wallet_settings(payments: dict[str, dict[str, Any]], notify_base: str) -> dict[str, dict[str, Any]]:
    """The sandbox's ``CIMAISE_PAYMENTS`` for institution ``louvre``, notifying ``notify_base``."""
    configured = {name: dict(options) for name, options in payments.items()}
    for name, options in configured.items():
        options |= {"institution": INSTITUTION, "notify_url": f"{notify_base}/api/v1/payments/{name}/notify"}
    return configured


def configure(settings: Any, payments: dict[str, dict[str, Any]], notify_base: str = NOWHERE) -> None:
    settings.CIMAISE_PAYMENTS = {**settings.CIMAISE_PAYMENTS, **wallet_settings(payments, notify_base)}


@pytest.fixture
def wallets(settings: Any, gateway_state: GatewayState) -> GatewayState:
    """Both providers enabled against the sandbox's keys; no gateway listening."""
    configure(settings, shop_settings(gateway_state, NOWHERE))
    return gateway_state


@pytest.fixture
def gateway(settings: Any, gateway_state: GatewayState, tmp_path: Path) -> Iterator[Running]:
    """A sandbox gateway serving in this process (its own store), the providers pointed at it."""
    state = dataclasses.replace(gateway_state, directory=tmp_path)
    running = start(state, host="127.0.0.1", port=0, notify_base=NOWHERE, policy=FAST)
    configure(settings, shop_settings(state, running.base_url))
    yield running
    running.shutdown()


def get(url: str) -> HttpAnswer:
    return http_send("GET", url, body=None, headers={}, timeout=10)


def post_form(url: str, fields: dict[str, str]) -> HttpAnswer:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return http_send("POST", url, body=urlencode(fields).encode(), headers=headers, timeout=10)


def trade_status(base_url: str, provider: str, out_trade_no: str) -> dict[str, Any]:
    answer = get(f"{base_url}/sandbox/trades/{provider}/{out_trade_no}")
    assert answer.status == 200, answer.body
    data: dict[str, Any] = json.loads(answer.body)
    return data


def eventually(check: Callable[[], bool], *, seconds: float = 20.0) -> None:
    """Wait until ``check()`` holds, bounded in time (the gateway works in its own threads)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {seconds} s")
        time.sleep(0.05)


@dataclasses.dataclass(frozen=True)
class SandboxProcess:
    base_url: str
    payments: dict[str, dict[str, Any]]
    log: Path


@pytest.fixture(scope="module")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """``cimaise payments sandbox`` as a real process on a free loopback port, with short retry
    intervals, stopped after the module (and by itself after 10 minutes at most)."""
    directory = tmp_path_factory.mktemp("sandbox-process")
    log = directory / "sandbox.log"
    command = [
        sys.executable, "-m", "cimaise.config.cli", "payments", "sandbox", "--listen", "127.0.0.1:0",
        "--state", str(directory), "--retry-schedule", "0.3,0.6,1.2,2.4", "--max-seconds", "600",
    ]  # fmt: skip
    env = {
        **os.environ,
        "CIMAISE_VAR_DIR": str(directory / "var"),
        "DJANGO_SETTINGS_MODULE": "cimaise.config.settings",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        settings_file = directory / "settings.json"
        eventually(lambda: settings_file.exists() or process.poll() is not None, seconds=60)
        assert process.poll() is None, log.read_text()
        written = json.loads(settings_file.read_text())
        assert get(f"{written['base_url']}/health").body == b"ok"
        yield SandboxProcess(base_url=written["base_url"], payments=written["CIMAISE_PAYMENTS"], log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
