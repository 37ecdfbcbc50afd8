"""The entrance agent in process (issue 7 item 3), its central service reached through Django's
test client: online answers kept, offline decisions equal to the central ones for the data the
agent has (a seeded random walk of scans), a code never twice in at one entrance even from many
lanes at once, uploads on reconnection, clock skew, "not passed" offline."""

from __future__ import annotations

import datetime as dt
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from cimaise.access.agent.central import Central, Refused, Unreachable
from cimaise.access.agent.core import AgentError, EntranceAgent
from cimaise.access.agent.store import Store
from cimaise.access.models import AgentContact, Entry, EntryCancellation, EntryRule
from cimaise.access.services import scan_validate
from cimaise.access.tests.conftest import Gate, make_gate, nonce
from cimaise.core.tests.personas import Cast, Persona
from cimaise.ticketing.tests.ticket_factories import make_paid_order, make_slot
from cimaise.ticketing.tickets import tickets_issue, tickets_revoke


class InProcessCentral(Central):
    """The central service through Django's test client; ``down`` makes it unreachable."""

    def __init__(self, persona: Persona) -> None:
        super().__init__("http://central.test", persona.token)
        self.client = persona.client()
        self.down = False
        self.calls: list[str] = []

    def call(
        self, method: str, path: str, body: Any = None, *, timeout: float, language: str = ""
    ) -> dict[str, Any]:
        if self.down:
            raise Unreachable("connection refused")
        self.calls.append(f"{method} {path.split('?')[0]}")
        headers = {"Accept-Language": language} if language else {}
        if method == "GET":
            response = self.client.get(path, headers=headers)
        else:
            response = self.client.post(path, body, content_type="application/json", headers=headers)
        if response.status_code >= 500 or response.status_code == 429:
            raise Unreachable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise Refused(response.status_code, response.json())
        return dict(response.json())


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.at = start.timestamp()

    def __call__(self) -> float:
        return self.at

    def advance(self, minutes: float) -> None:
        self.at += minutes * 60


def now_minute() -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0)


def agent_for(
    cast: Cast, tmp_path: Path, entrance: str = "PYR", clock: Clock | None = None
) -> tuple[EntranceAgent, InProcessCentral]:
    central = InProcessCentral(cast.gate_agent_a)
    kwargs: dict[str, Any] = {"clock": clock} if clock else {}
    agent = EntranceAgent(Store(tmp_path / f"{entrance}.sqlite3"), central, entrance, **kwargs)
    return agent, central


@pytest.fixture
def live_gate(cast: Cast) -> Gate:
    """Tickets for a slot that started a minute ago (the feed gives today's entries)."""
    return make_gate(cast, now_minute() - dt.timedelta(minutes=1))


def test_online_the_agent_asks_the_central_service_and_keeps_the_answer(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    agent, central = agent_for(cast, tmp_path)
    assert agent.sync() and agent.status.online
    answer = agent.scan(lane="L1", code=live_gate.ticket.code, language="fr")
    assert (answer.result, answer.reason, answer.mode) == ("accepted", "ok", "online")
    assert answer.ticket is not None and answer.ticket["code_id"] == live_gate.ticket.code_id
    assert Entry.objects.get().source == "online" and "POST /api/v1/access/scans" in central.calls
    central.down = True
    again = agent.scan(lane="L2", code=live_gate.ticket.code)
    assert (again.result, again.reason, again.mode) == ("rejected", "already_used", "offline")
    assert not agent.status.online


def test_a_nonce_resent_to_the_agent_gets_the_first_answer(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    central.down = True
    first = agent.scan(lane="L1", code=live_gate.ticket.code, nonce="lane1-0001")
    again = agent.scan(lane="L1", code=live_gate.ticket.code, nonce="lane1-0001")
    assert (first.reason, again.reason, again.replayed) == ("ok", "ok", True)


def test_offline_the_agent_knows_entries_at_other_entrances_and_revocations_up_to_its_last_sync(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    EntryRule.objects.create(entrance=live_gate.richelieu, admits_other_entrances=True)
    scan_validate(actor=cast.gate_agent_a.actor, code=live_gate.tickets[0].code, entrance="RIC", lane="R1",
                  direction="in", nonce=nonce(), scanned_at=timezone.now())  # fmt: skip
    with transaction.atomic():
        tickets_revoke(
            tickets=[live_gate.tickets[1]], reason="cancelled", actor="system:test", now=timezone.now()
        )
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    central.down = True
    assert agent.scan(lane="L1", code=live_gate.tickets[0].code).reason == "already_used"
    assert agent.scan(lane="L1", code=live_gate.tickets[1].code).reason == "revoked"
    assert agent.scan(lane="L1", code="CM1:NOT-A-CODE").reason == "forged"


def test_an_agent_that_never_synced_answers_unknown_offline(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    agent, central = agent_for(cast, tmp_path)
    central.down = True
    assert not agent.sync()
    answer = agent.scan(lane="L1", code=live_gate.ticket.code)
    assert (answer.result, answer.reason, answer.mode) == ("rejected", "unknown", "offline")


def test_offline_many_lanes_at_once_let_a_code_in_once(cast: Cast, live_gate: Gate, tmp_path: Path) -> None:
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    central.down = True
    answers: list[str] = []
    barrier = threading.Barrier(16)

    def lane(index: int) -> None:
        barrier.wait()
        answers.append(agent.scan(lane="L1" if index % 2 else "L2", code=live_gate.ticket.code).reason)

    threads = [threading.Thread(target=lane, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["already_used"] * 15 + ["ok"]


def test_offline_entries_go_up_at_the_next_sync_once(cast: Cast, live_gate: Gate, tmp_path: Path) -> None:
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    central.down = True
    agent.scan(lane="L1", code=live_gate.tickets[0].code)
    agent.scan(lane="L1", code=live_gate.tickets[0].code)
    agent.scan(lane="L2", code="garbage")
    assert agent.state()["queued"] == 3 and not Entry.objects.exists()
    central.down = False
    assert agent.sync() and agent.state()["queued"] == 0
    entries = Entry.objects.order_by("id")
    assert [(e.source, e.reason) for e in entries] == [
        ("offline", "ok"),
        ("offline", "already_used"),
        ("offline", "forged"),
    ]
    assert all(e.central_reason == "" for e in entries)
    assert AgentContact.objects.get().last_upload_at is not None
    agent.sync()
    assert Entry.objects.count() == 3


def test_the_agent_corrects_its_clock_by_the_servers(cast: Cast, live_gate: Gate, tmp_path: Path) -> None:
    ahead = Clock(timezone.now() + dt.timedelta(minutes=40))  # the agent's clock is 40 minutes fast
    agent, central = agent_for(cast, tmp_path, clock=ahead)
    agent.sync()
    assert -2460 < agent.state()["clock_offset"] < -2340
    central.down = True
    answer = agent.scan(lane="L1", code=live_gate.ticket.code)
    assert answer.reason == "ok"  # decided at the server's time, not 40 minutes into too_late
    central.down = False
    agent.sync()
    entry = Entry.objects.get()
    assert abs((entry.recorded_at - timezone.now()).total_seconds()) < 60


def test_not_passed_offline_is_queued_and_sent(cast: Cast, live_gate: Gate, tmp_path: Path) -> None:
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    online = agent.scan(lane="L1", code=live_gate.tickets[0].code)
    assert agent.not_passed(lane="L1", nonce=online.nonce)
    assert Entry.objects.get(nonce=online.nonce).cancelled_at is not None
    central.down = True
    offline = agent.scan(lane="L1", code=live_gate.tickets[1].code)
    assert agent.not_passed(lane="L1", nonce=offline.nonce)
    assert agent.scan(lane="L2", code=live_gate.tickets[1].code).reason == "ok"  # may be used again
    assert not agent.not_passed(lane="L1", nonce="never-seen")
    central.down = False
    agent.sync()
    assert EntryCancellation.objects.count() == 2 and agent.state()["queued"] == 0


def test_a_bad_lane_or_field_is_an_error_online_and_offline(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    agent, central = agent_for(cast, tmp_path)
    agent.sync()
    with pytest.raises(AgentError) as online:
        agent.scan(lane="NOPE", code=live_gate.ticket.code)
    assert (online.value.status, online.value.field) == (404, "lane")
    central.down = True
    with pytest.raises(AgentError) as offline:
        agent.scan(lane="NOPE", code=live_gate.ticket.code)
    assert (offline.value.status, offline.value.field) == (404, "lane")
    with pytest.raises(AgentError) as direction:
        agent.scan(lane="L1", code=live_gate.ticket.code, direction="up")
    assert direction.value.field == "direction"


# --- offline decisions equal the central ones --------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_offline_decisions_equal_the_central_ones_for_a_random_walk_of_scans(
    cast: Cast, tmp_path: Path, seed: int
) -> None:
    """The same scans, at the same times, decided by the central service (online) and by an
    agent alone (offline, its own record only): the same reason every time."""
    rng = random.Random(seed)
    start = now_minute()
    gate = make_gate(cast, start - dt.timedelta(minutes=1))
    EntryRule.objects.create(entrance=gate.pyramide, tolerance_before_minutes=10, reentry_after_minutes=45)
    codes = [t.code for t in gate.tickets]
    for offset in (30, -120, 240):  # too early, too late (or expired after midnight), later today
        slot = make_slot(gate.catalogue, start + dt.timedelta(minutes=offset))
        order = make_paid_order(gate.catalogue, slot, lines=[("full", 1)])
        with transaction.atomic():
            codes += [t.code for t in tickets_issue(order=order, actor="system:test", now=start)]
    ric = make_slot(gate.catalogue, start)
    ric.entrance = gate.richelieu
    ric.save()
    order = make_paid_order(gate.catalogue, ric, lines=[("full", 1)])
    with transaction.atomic():
        codes += [
            t.code for t in tickets_issue(order=order, actor="system:test", now=start)
        ]  # wrong entrance
    codes += ["garbage", codes[0][:-3] + "AAA"]
    clock = Clock(start)
    agent, central = agent_for(cast, tmp_path, clock=clock)
    agent.sync()
    central.down = True
    for step in range(60):
        clock.advance(rng.choice([0, 1, 5, 20]))
        when = dt.datetime.fromtimestamp(clock.at, dt.UTC) + dt.timedelta(
            seconds=agent.state()["clock_offset"]
        )
        code, direction = rng.choice(codes), rng.choice(["in", "in", "in", "out"])
        lane = rng.choice(["L1", "L2"])
        central_answer = scan_validate(
            actor=cast.gate_agent_a.actor,
            code=code,
            entrance="PYR",
            lane=lane,
            direction=direction,
            nonce=nonce(),
            scanned_at=when,
            now=when,
        )
        offline = agent.decide_offline(
            lane=lane, code=code, direction=direction, nonce=nonce(), scanned_at=when
        )
        assert offline.reason == central_answer.reason, f"step {step}: {code[:12]} {direction}"
    seen = set(Entry.objects.values_list("reason", flat=True))
    assert {"ok", "forged", "wrong_entrance", "already_used", "exit", "too_early"} <= seen


# --- museum passes at the same agent (the passnet app) -----------------------------------------


def test_an_entrance_agent_also_checks_museum_passes_online_and_offline(
    cast: Cast, live_gate: Gate, tmp_path: Path
) -> None:
    from cimaise.passnet.tests.conftest import make_network

    network = make_network(cast)
    first, second = network.issue(quantity=2)
    central = InProcessCentral(cast.gate_agent_a)
    agent = EntranceAgent(Store(tmp_path / "PYR.sqlite3"), central, "PYR", pass_site="LOUVRE-PYR")
    assert agent.sync()
    online = agent.scan(lane="L1", code=first.code)
    assert (online.result, online.reason, online.mode) == ("accepted", "ok", "online")
    central.down = True
    assert agent.scan(lane="L1", code=first.code).reason == "already_used"
    offline = agent.scan(lane="L2", code=second.code)
    assert (offline.result, offline.mode) == ("accepted", "offline")
    assert agent.scan(lane="L1", code=live_gate.ticket.code).reason == "ok"  # tickets as before
    central.down = False
    assert agent.sync()
    from cimaise.passnet.models import PassEntry

    assert PassEntry.objects.filter(result="accepted").count() == 2


def test_a_partner_site_agent_checks_passes_only(cast: Cast, tmp_path: Path) -> None:
    from cimaise.passnet.tests.conftest import make_network

    network = make_network(cast)
    (held,) = network.issue(quantity=1)
    central = InProcessCentral(cast.partner_b)
    central.client = network.key_client("ORSAY")
    agent = EntranceAgent(
        Store(tmp_path / "ORSAY.sqlite3"), central, "ORSAY", pass_site="ORSAY", passes_only=True
    )
    assert agent.sync()
    assert agent.scan(lane="H1", code=held.code).reason == "ok"
    ticket_like = agent.scan(lane="H1", code="CM1:ANYTHING")
    assert (ticket_like.result, ticket_like.reason) == ("rejected", "unknown")
