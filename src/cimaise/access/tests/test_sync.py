"""The entrance agents' feed and upload (issue 7 item 3, central side): the cursor follows every
table without skipping, the upload is idempotent, records the agent's decision with the central
answer beside it, and refuses a bad batch whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from cimaise.access.models import AgentContact, Entry, EntryRule
from cimaise.access.services import entry_not_passed
from cimaise.access.sync import PAGE, Cursor, OfflineEntry, entrance_feed, entries_upload
from cimaise.access.tests.conftest import Gate, nonce
from cimaise.access.tests.test_scans import IN_TIME, scan
from cimaise.core.errors import InvalidInput, NotFound, PermissionDenied
from cimaise.core.tests.personas import Cast
from cimaise.ticketing.tickets import tickets_revoke


def feed(cast: Cast, since: str = "", entrance: str = "PYR", now: dt.datetime = IN_TIME, queued: int = 0):  # type: ignore[no-untyped-def]
    return entrance_feed(
        actor=cast.gate_agent_a.actor, entrance=entrance, since=since, now=now, queued=queued
    )


def test_the_first_page_has_keys_rules_lanes_and_the_days_entries(cast: Cast, gate: Gate) -> None:
    EntryRule.objects.create(entrance=gate.pyramide, tolerance_before_minutes=15, reentry_after_minutes=60)
    scan(cast, gate.tickets[0].code)
    scan(cast, "garbage")  # refused: not in the feed
    page = feed(cast, queued=3)
    assert page.entrance == gate.pyramide and page.server_time == IN_TIME
    assert [k["kid"] for k in page.keys] and all(len(k["public_key"]) == 43 for k in page.keys)
    assert page.rules == [
        {"product": None, "tolerance_before_minutes": 15, "entries_per_day": 1, "reentry_after_exit": False,
         "reentry_after_minutes": 60, "admits_other_entrances": False}
    ]  # fmt: skip
    assert {lane["code"] for lane in page.lanes} == {"L1", "L2"}
    assert [e["code_id"] for e in page.entries] == [gate.tickets[0].code_id]
    assert page.revocations == [] and page.cancellations == [] and not page.more
    contact = AgentContact.objects.get(entrance=gate.pyramide)
    assert (contact.last_sync_at, contact.queued) == (IN_TIME, 3)


def test_the_cursor_gives_only_what_is_new_in_each_table(cast: Cast, gate: Gate) -> None:
    first_nonce = nonce()
    scan(cast, gate.tickets[0].code, nonce_=first_nonce)
    cursor = str(feed(cast).cursor)
    assert feed(cast, cursor).entries == []
    scan(cast, gate.tickets[1].code, entrance="RIC", lane="R1")  # wrong entrance: refused, not fed
    entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce=first_nonce, now=IN_TIME)
    with transaction.atomic():
        tickets_revoke(tickets=[gate.tickets[1]], reason="cancelled", actor="system:test", now=IN_TIME)
    page = feed(cast, cursor)
    assert page.cancellations == [first_nonce]
    assert page.revocations == [gate.tickets[1].code_id]
    assert page.entries == []
    assert str(feed(cast, str(page.cursor)).cursor) == str(page.cursor)


def test_entries_of_other_entrances_and_of_earlier_days_in_the_feed(cast: Cast, gate: Gate) -> None:
    EntryRule.objects.create(entrance=gate.richelieu, admits_other_entrances=True)
    scan(cast, gate.tickets[0].code, entrance="RIC", lane="R1")
    page = feed(cast)
    assert [(e["code_id"], e["entrance"]) for e in page.entries] == [
        (gate.tickets[0].code_id, gate.richelieu.pk)
    ]
    assert feed(cast, now=IN_TIME + dt.timedelta(days=1)).entries == []  # yesterday's entries do not matter


def test_the_feed_pages(cast: Cast, gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cimaise.access.sync.PAGE", 1)
    scan(cast, gate.tickets[0].code)
    scan(cast, gate.tickets[1].code)
    first = feed(cast)
    assert len(first.entries) == 1 and first.more
    second = feed(cast, str(first.cursor))
    assert len(second.entries) == 1 and second.entries != first.entries
    assert not feed(cast, str(second.cursor)).more
    assert PAGE == 5000


@pytest.mark.parametrize("since", ["x", "1.2", "1.2.3.4", "-1.0.0", "1.2.a", "9" * 19 + ".0.0"])
def test_a_bad_cursor_is_refused(cast: Cast, gate: Gate, since: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        feed(cast, since)
    assert refused.value.details == {"field": "since"}


def test_the_feed_is_for_the_institutions_gate_staff(cast: Cast, gate: Gate) -> None:
    with pytest.raises(NotFound):
        feed(cast, entrance="NOPE")
    with pytest.raises(PermissionDenied):
        entrance_feed(actor=cast.registrar_a.actor, entrance="PYR", since="")
    assert Cursor.parse("") == Cursor() and str(Cursor(1, 2, 3)) == "1.2.3"


# --- upload ------------------------------------------------------------------------------------


def offline(
    code: str, *, lane: str = "L1", reason: str = "ok", at: dt.datetime = IN_TIME, **changes: Any
) -> OfflineEntry:
    values = {
        "nonce": nonce(),
        "code": code,
        "lane": lane,
        "direction": "in",
        "scanned_at": at,
        "decided_at": at,
        "reason": reason,
        **changes,
    }
    return OfflineEntry(**values)


def upload(cast: Cast, entries: list[OfflineEntry], entrance: str = "PYR"):  # type: ignore[no-untyped-def]
    return entries_upload(
        actor=cast.gate_agent_a.actor, entrance=entrance, entries=entries, now=IN_TIME + dt.timedelta(hours=1)
    )


def test_an_upload_records_what_the_agent_decided_once(cast: Cast, gate: Gate) -> None:
    item = offline(gate.ticket.code)
    (first,) = upload(cast, [item])
    assert not first.replayed and not first.conflict and first.central_reason == ""
    entry = Entry.objects.get(pk=first.entry_id)
    assert (entry.source, entry.result, entry.reason, entry.recorded_at) == (
        "offline",
        "accepted",
        "ok",
        IN_TIME,
    )
    assert entry.uploaded_at == IN_TIME + dt.timedelta(hours=1) and entry.ticket == gate.ticket
    (again,) = upload(cast, [item])
    assert again.replayed and again.entry_id == first.entry_id and Entry.objects.count() == 1


def test_a_code_let_in_at_two_entrances_during_an_outage_is_flagged_at_upload(cast: Cast, gate: Gate) -> None:
    EntryRule.objects.create(entrance=gate.richelieu, admits_other_entrances=True)
    (at_pyramide,) = upload(cast, [offline(gate.ticket.code)])
    (at_richelieu,) = upload(
        cast, [offline(gate.ticket.code, lane="R1", at=IN_TIME + dt.timedelta(minutes=4))], "RIC"
    )
    assert not at_pyramide.conflict
    assert at_richelieu.conflict and at_richelieu.central_reason == "already_used"
    entry = Entry.objects.get(pk=at_richelieu.entry_id)
    assert (entry.result, entry.central_reason) == ("accepted", "already_used")


def test_an_entry_scanned_online_during_a_slow_answer_is_not_recorded_twice(cast: Cast, gate: Gate) -> None:
    same = nonce()
    scan(cast, gate.ticket.code, nonce_=same)
    (uploaded,) = upload(cast, [offline(gate.ticket.code, nonce=same)])
    assert uploaded.replayed and Entry.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"lane": "R1"}, "entries[1].lane"), ({"direction": "up"}, "entries[1].direction"),
     ({"reason": "override"}, "entries[1].reason"), ({"reason": "welcome"}, "entries[1].reason"),
     ({"nonce": ""}, "entries[1].nonce")],
)  # fmt: skip
def test_a_bad_entry_refuses_the_whole_batch(
    cast: Cast, gate: Gate, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        upload(cast, [offline(gate.tickets[0].code), offline(gate.tickets[1].code, **changes)])
    assert refused.value.details == {"field": field}
    assert not Entry.objects.exists()


def test_times_must_be_aware_and_not_far_in_the_future(cast: Cast, gate: Gate) -> None:
    naive = offline(gate.ticket.code)
    naive = OfflineEntry(**{**naive.__dict__, "decided_at": IN_TIME.replace(tzinfo=None)})
    with pytest.raises(InvalidInput) as refused:
        upload(cast, [naive])
    assert refused.value.details == {"field": "entries[0].decided_at"}
    future = offline(gate.ticket.code, at=IN_TIME + dt.timedelta(days=2))
    with pytest.raises(InvalidInput):
        upload(cast, [future])
    skewed = offline(
        gate.ticket.code, at=IN_TIME + dt.timedelta(hours=3)
    )  # 2 h ahead of the server: tolerated
    assert not upload(cast, [skewed])[0].replayed
