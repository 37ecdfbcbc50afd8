"""An entrance agent at a partner site checks passes online, then offline with what it synced,
and uploads its offline decisions when the link is back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from cimaise.access.agent.central import Unreachable
from cimaise.passnet.agent import PassAgent, is_pass_code
from cimaise.passnet.issuance import pass_revoke
from cimaise.passnet.models import PassEntry
from cimaise.passnet.tests.conftest import T0, Network


class Link:
    """The agent's transport over the test client; ``up`` False makes every call unreachable."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.up = True

    def __call__(self, method: str, path: str, body: Any = None, *, timeout: float) -> dict[str, Any]:
        if not self.up:
            raise Unreachable("link down")
        if method == "GET":
            response = self.client.get(path)
        else:
            response = self.client.post(path, json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content
        data: dict[str, Any] = response.json()
        return data


def test_an_agent_decides_offline_as_the_central_service_would_and_uploads_later(network: Network) -> None:
    first, second, lost = network.issue(quantity=3)
    link = Link(network.key_client("ORSAY"))
    clock = {"now": dt.datetime.now(dt.UTC).replace(microsecond=0)}
    agent = PassAgent(link, "ORSAY", clock=lambda: clock["now"])
    assert is_pass_code(first.code) and not is_pass_code("CM1:XYZ")
    network.scan("LOUVRE-PYR", second.code, clock["now"] - dt.timedelta(hours=1))  # activated elsewhere
    pass_revoke(actor=network.pass_operator.actor, code_id=lost.code_id, reason="lost")
    assert agent.sync()
    assert agent.scan(lane="H1", code=first.code).mode == "online"

    link.up = False
    clock["now"] += dt.timedelta(minutes=5)
    answers = [
        agent.scan(lane="H1", code=first.code),  # already in here, online
        agent.scan(lane="H1", code=second.code),
        agent.scan(lane="H1", code=second.code),
        agent.scan(lane="H1", code=lost.code),
        agent.scan(lane="H1", code="CP1:" + "A" * 158),
        agent.scan(lane="H1", code=second.code, area="EXPO"),
    ]
    assert [(a.mode, a.reason) for a in answers] == [
        ("offline", "already_used"),
        ("offline", "ok"),
        ("offline", "already_used"),
        ("offline", "revoked"),
        ("offline", "forged"),
        ("offline", "wrong_entrance"),
    ]
    assert agent.checker.activations[second.code_id] < clock["now"] - dt.timedelta(minutes=30)
    assert PassEntry.objects.filter(source="offline").count() == 0

    link.up = True
    assert agent.sync()
    offline = PassEntry.objects.filter(source="offline").order_by("id")
    assert [(e.reason, e.central_reason) for e in offline] == [
        ("already_used", "already_used"),
        ("ok", "ok"),
        ("already_used", "already_used"),
        ("revoked", "revoked"),
        ("forged", "forged"),
        ("wrong_entrance", "wrong_entrance"),
    ]
    assert agent.sync() and PassEntry.objects.filter(source="offline").count() == 6  # idempotent


def test_an_agent_never_synced_refuses_what_it_cannot_check(network: Network) -> None:
    (p,) = network.issue()
    link = Link(network.key_client("ORSAY"))
    link.up = False
    agent = PassAgent(link, "ORSAY", clock=lambda: T0)
    assert agent.scan(lane="H1", code=p.code).reason == "unknown"  # no network, no keys yet


def test_an_agent_restarted_while_offline_keeps_its_decisions_and_uploads_them(
    network: Network, tmp_path: Any
) -> None:
    (p,) = network.issue()
    link = Link(network.key_client("ORSAY"))
    state = str(tmp_path / "orsay-passes.json")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    agent = PassAgent(link, "ORSAY", clock=lambda: now, state_path=state)
    assert agent.sync()
    link.up = False
    assert agent.scan(lane="H1", code=p.code, nonce="off-1").reason == "ok"
    restarted = PassAgent(link, "ORSAY", clock=lambda: now, state_path=state)
    assert restarted.scan(lane="H1", code=p.code, nonce="off-2").reason == "already_used"
    assert restarted.scan(lane="H1", code=p.code, nonce="off-1").replayed
    link.up = True
    assert restarted.sync()
    assert sorted(PassEntry.objects.filter(source="offline").values_list("nonce", "reason")) == [
        ("off-1", "ok"),
        ("off-2", "already_used"),
    ]
