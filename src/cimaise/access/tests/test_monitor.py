"""The live monitor (issue 7 item 6): scans per 5 minutes per lane over two hours, the inside
count, the queue estimate and its formula, each agent's state."""

from __future__ import annotations

import datetime as dt

import pytest

from cimaise.access import monitor
from cimaise.access.models import AgentContact, Entry
from cimaise.access.services import entry_not_passed, entry_override
from cimaise.access.tests.conftest import Gate, nonce
from cimaise.access.tests.test_fraud import more_tickets
from cimaise.access.tests.test_overrides_turnstile import group_ticket
from cimaise.access.tests.test_scans import scan
from cimaise.core.tests.personas import Cast
from cimaise.ticketing.tests.ticket_factories import T0

NOW = T0 + dt.timedelta(minutes=22, seconds=30)  # 09:22:30 in Paris


def ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("accepted", "rejected", "capacity", "waiting", "wait", "saturated"),
    [
        (0, 0, 25, 0, 0.0, False),
        (50, 0, 25, 0, 0.0, False),  # ρ 0.4: Lq 0.27
        (100, 0, 25, 3, 0.1, False),  # ρ 0.8: Lq 3.2, 0.13 min
        (50, 10, 25, 1, 0.0, False),  # refusals count three times: ρ 0.64, Lq 1.14
        (119, 0, 25, 18, 0.7, True),  # ρ 0.952: capped at 0.95, Lq 18.05
        (500, 0, 25, 18, 0.7, True),
        (48, 0, 12, 3, 0.3, False),  # a handheld: ρ 0.8 at 48 in 5 minutes
    ],
)
def test_the_queue_estimate_follows_its_formula(
    accepted: int, rejected: int, capacity: int, waiting: int, wait: float, saturated: bool
) -> None:
    queue = monitor.queue_estimate(accepted=accepted, rejected=rejected, capacity_per_minute=capacity)
    assert (queue.waiting, queue.wait_minutes, queue.saturated) == (waiting, wait, saturated)
    assert queue.load == round((accepted + 3 * rejected) / (5 * capacity), 2)


def test_the_window_is_two_hours_of_five_minute_buckets_ending_with_now() -> None:
    start, end = monitor.window_for(NOW)
    assert end == T0 + dt.timedelta(minutes=25) and end - start == dt.timedelta(hours=2)
    on_the_dot = T0 + dt.timedelta(minutes=25)
    assert monitor.window_for(on_the_dot)[1] == T0 + dt.timedelta(minutes=30)


def test_scans_are_counted_per_lane_and_five_minutes(cast: Cast, gate: Gate) -> None:
    first, second = gate.tickets
    scan(cast, first.code, now=ago(20))  # 09:02:30, bucket 09:00
    scan(cast, first.code, now=ago(19))  # refused, same bucket
    scan(cast, second.code, lane="L2", now=ago(3))  # 09:19:30, bucket 09:15
    scan(cast, "FAKE", lane="L2", now=ago(1))  # 09:21:30, bucket 09:20
    scan(cast, "FAKE", now=NOW - dt.timedelta(hours=2, minutes=10))  # before the window

    now = monitor.monitor_read(institution=cast.institution_a, now=NOW)
    pyramide, richelieu = now.entrances
    assert [(e.code, [lane.code for lane in e.lanes]) for e in now.entrances] == [
        ("PYR", ["L1", "L2"]),
        ("RIC", ["R1"]),
    ]
    l1, l2 = pyramide.lanes
    assert len(l1.buckets) == 24 and l1.buckets[-1].start == T0 + dt.timedelta(minutes=20)
    by_start = {b.start: (b.accepted, b.rejected) for b in l1.buckets if b.total}
    assert by_start == {T0: (1, 1)}
    assert {b.start: (b.accepted, b.rejected) for b in l2.buckets if b.total} == {
        T0 + dt.timedelta(minutes=15): (1, 0),
        T0 + dt.timedelta(minutes=20): (0, 1),
    }
    assert (l1.recent_accepted, l1.recent_rejected) == (0, 0)
    assert (l2.recent_accepted, l2.recent_rejected) == (1, 1)
    assert l2.queue == monitor.queue_estimate(accepted=1, rejected=1, capacity_per_minute=12)
    assert sum(b.total for b in richelieu.lanes[0].buckets) == 0


def test_inside_is_people_in_minus_people_out_today_without_cancelled_entries(cast: Cast, gate: Gate) -> None:
    first, second = gate.tickets
    third, fourth = more_tickets(gate, 2)
    scan(cast, first.code, now=ago(20))
    scan(cast, second.code, now=ago(19))
    scan(cast, group_ticket(gate, 5), lane="L2", now=ago(18))
    scan(cast, third.code, now=ago(17), nonce_="stuck")
    entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce="stuck", now=ago(16))
    entry_override(
        actor=cast.gate_agent_a.actor, entrance="RIC", lane="R1", reason="Lost ticket", people=3,
        nonce=nonce(), scanned_at=ago(15), now=ago(15),
    )  # fmt: skip
    scan(cast, first.code, entrance="RIC", lane="R1", direction="out", now=ago(5))
    scan(cast, fourth.code, now=ago(4))
    scan(cast, fourth.code, now=ago(3))  # refused: counts nowhere

    now = monitor.monitor_read(institution=cast.institution_a, now=NOW)
    assert (now.people_in, now.people_out, now.inside) == (1 + 1 + 5 + 3 + 1, 1, 10)
    pyramide, richelieu = now.entrances
    assert (pyramide.people_in, pyramide.people_out) == (8, 0)
    assert (richelieu.people_in, richelieu.people_out) == (3, 1)
    assert [(lane.code, lane.people_in) for lane in pyramide.lanes] == [("L1", 3), ("L2", 5)]
    tomorrow = monitor.monitor_read(institution=cast.institution_a, now=NOW + dt.timedelta(days=1))
    assert tomorrow.inside == 0


def test_an_agent_is_online_when_heard_from_in_the_last_minute(cast: Cast, gate: Gate) -> None:
    AgentContact.objects.create(
        entrance=gate.pyramide, last_seen_at=NOW - dt.timedelta(seconds=60), last_sync_at=ago(1),
        operator="user:gate-agent-a", queued=0,
    )  # fmt: skip
    AgentContact.objects.create(
        entrance=gate.richelieu, last_seen_at=NOW - dt.timedelta(seconds=61), last_sync_at=ago(9),
        last_upload_at=ago(30), operator="user:gate-agent-a", queued=4,
    )  # fmt: skip
    pyramide, richelieu = monitor.monitor_read(institution=cast.institution_a, now=NOW).entrances
    assert (pyramide.agent.state, pyramide.agent.last_sync_at) == ("online", ago(1))
    assert (richelieu.agent.state, richelieu.agent.queued, richelieu.agent.last_upload_at) == (
        "offline",
        4,
        ago(30),
    )
    AgentContact.objects.filter(entrance=gate.richelieu).delete()
    assert monitor.monitor_read(institution=cast.institution_a, now=NOW).entrances[1].agent.state == "none"


def test_the_monitor_as_json_names_every_figure(cast: Cast, gate: Gate) -> None:
    scan(cast, gate.ticket.code, now=ago(2))
    data = monitor.monitor_read(institution=cast.institution_a, now=NOW).as_dict()
    assert (data["inside"], data["bucket_minutes"], data["people_in"]) == (1, 5, 1)
    lane = data["entrances"][0]["lanes"][0]
    assert lane["code"] == "L1" and lane["last_5_minutes"] == {"accepted": 1, "rejected": 0}
    assert set(lane["queue"]) == {"load", "waiting", "wait_minutes", "saturated"}
    assert len(lane["per_5_minutes"]) == 24 and lane["per_5_minutes"][-1]["accepted"] == 1
    assert data["entrances"][0]["agent"]["state"] == "none"
    assert Entry.objects.count() == 1
