"""The waiting room: ranks (first come, first served after the opening; a fair draw among those
who came before it), the admission frontier (at the rate, never more than the burst at once),
admission tokens, configuration and the HTTP routes. The clock is always given (``now=``).

The routes are served by a test API carrying the project's authentication and error handlers,
so these tests do not depend on where ``config/api.py`` mounts the router."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pytest
from django.core import signing
from django.urls import path
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cimaise.config import api as project_api
from cimaise.core.auth import API_AUTH
from cimaise.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from cimaise.core.models import Institution
from cimaise.core.services import roles_sync
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ticketing import roles_waiting, waiting
from cimaise.ticketing.api_waiting import router
from cimaise.ticketing.models import QueueEntry, WaitingRoom
from cimaise.ticketing.waiting import admission_check, entry_status, room_configure, room_join

test_api = NinjaAPI(auth=API_AUTH, urls_namespace="waiting-test")
for _error, _handler in (
    (DomainError, project_api._domain_error),
    (ValidationError, project_api._validation_error),
    (AuthenticationError, project_api._authentication_error),
    (HttpError, project_api._http_error),
):
    test_api.add_exception_handler(_error, _handler)  # type: ignore[arg-type]
test_api.add_router("/", router)
urlpatterns = [path("api/v1/", test_api.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

T0 = dt.datetime(2019, 6, 5, 8, 0, tzinfo=dt.UTC)  # the announced opening of the on-sale
SECOND = dt.timedelta(seconds=1)
_codes = itertools.count(1)


def make_room(institution: Institution, **fields: Any) -> WaitingRoom:
    values: dict[str, Any] = {
        "code": f"room-{next(_codes)}",
        "active": True,
        "opens_at": T0,
        "rate_per_minute": 60,
        "burst": 10,
        "session_minutes": 20,
    }
    values.update(fields)
    if values["active"]:  # one active room per institution: earlier ones close
        WaitingRoom.objects.filter(institution=institution, active=True).update(active=False)
    return WaitingRoom.objects.create(institution=institution, **values)


def join(room: WaitingRoom, count: int, at: dt.datetime, every: dt.timedelta = SECOND) -> list[QueueEntry]:
    return [room_join(room=room, now=at + every * i) for i in range(count)]


def fresh(room: WaitingRoom) -> WaitingRoom:
    return WaitingRoom.objects.get(pk=room.pk)


def ranks(entries: list[QueueEntry]) -> list[int | None]:
    by_id = dict(QueueEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("pk", "rank"))
    return [by_id[e.pk] for e in entries]


@pytest.fixture
def managed(cast: Cast) -> Cast:
    """The cast, with the waiting-room grants synced to the role groups (as after a migrate)."""
    assert roles_waiting.CONFIGURE
    roles_sync()
    return cast


# --- ranks -----------------------------------------------------------------------------------


def test_visitors_after_the_opening_are_ranked_in_arrival_order(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    entries = join(room, 12, T0 + SECOND)
    assert ranks(entries) == list(range(1, 13))
    assert [e.seq for e in entries] == list(range(1, 13))
    assert not any(e.early for e in entries)


def test_those_who_came_before_the_opening_are_shuffled_and_ranked_before_everyone_after(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    early = join(room, 40, T0 - dt.timedelta(hours=2), every=dt.timedelta(minutes=1))
    assert ranks(early) == [None] * 40
    late = join(room, 10, T0 + SECOND)
    early_ranks = ranks(early)
    assert sorted(r for r in early_ranks if r is not None) == list(range(1, 41))
    assert early_ranks != list(range(1, 41))  # the order of arrival is not kept (1 chance in 40!)
    assert ranks(late) == list(range(41, 51))
    assert fresh(room).early_ranked


def test_the_draw_differs_from_one_on_sale_to_the_next(cast: Cast) -> None:
    orders = []
    for _ in range(2):
        room = make_room(cast.institution_a)
        early = join(room, 20, T0 - dt.timedelta(minutes=30))
        entry_status(entry=early[0], now=T0)
        orders.append(ranks(early))
    assert orders[0] != orders[1]
    assert all(sorted(o) == list(range(1, 21)) for o in orders)  # type: ignore[type-var]


def test_the_draw_happens_once_at_the_first_request_after_the_opening(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    early = join(room, 15, T0 - dt.timedelta(minutes=5))
    before = entry_status(entry=early[3], now=T0 - SECOND)
    assert (before.rank, before.ahead, before.admitted) == (None, None, False)
    first = entry_status(entry=early[3], now=T0)
    drawn = ranks(early)
    assert first.rank == drawn[3]
    entry_status(entry=early[7], now=T0 + 5 * SECOND)
    room_join(room=room, now=T0 + 6 * SECOND)
    assert ranks(early) == drawn


def test_a_visitor_keeps_their_rank_after_a_restart(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=6, burst=1)
    early = join(room, 10, T0 - dt.timedelta(minutes=10))
    late = join(room, 5, T0 + SECOND)
    seen = [entry_status(entry=e, now=T0 + 2 * SECOND) for e in early + late]
    # a new web process: nothing but what the database holds
    reloaded = [QueueEntry.objects.get(pk=e.pk) for e in early + late]
    again = [entry_status(entry=e, now=T0 + 2 * SECOND) for e in reloaded]
    assert [s.rank for s in again] == [s.rank for s in seen]
    assert [s.ahead for s in again] == [s.ahead for s in seen]
    assert fresh(room).arrivals == 15


# --- the frontier ----------------------------------------------------------------------------


def test_no_one_is_admitted_before_the_opening(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    early = join(room, 5, T0 - dt.timedelta(minutes=10))
    status = entry_status(entry=early[0], now=T0 - dt.timedelta(minutes=1))
    assert not status.admitted and status.token is None
    assert status.estimated_wait_seconds >= 60
    assert status.poll_after_seconds is not None and 1 <= status.poll_after_seconds <= 60
    assert fresh(room).admitted == 0


def test_the_frontier_grows_at_the_rate(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=60, burst=10)
    early = join(room, 100, T0 - dt.timedelta(hours=1), every=dt.timedelta(milliseconds=10))
    entry_status(entry=early[0], now=T0)
    assert fresh(room).admitted == 0
    entry_status(entry=early[0], now=T0 + 5 * SECOND)
    assert fresh(room).admitted == 5
    entry_status(entry=early[0], now=T0 + 5500 * dt.timedelta(milliseconds=1))
    assert fresh(room).admitted == 5  # at most one move a second
    entry_status(entry=early[0], now=T0 + 7 * SECOND)
    assert fresh(room).admitted == 7


def test_the_frontier_never_jumps_more_than_the_burst(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=60, burst=10)
    early = join(room, 100, T0 - dt.timedelta(hours=1), every=dt.timedelta(milliseconds=10))
    entry_status(entry=early[0], now=T0 + dt.timedelta(hours=1))  # nobody asked for an hour
    assert fresh(room).admitted == 10
    entry_status(entry=early[0], now=T0 + dt.timedelta(hours=1) + 3 * SECOND)
    assert fresh(room).admitted == 13


def test_the_frontier_stops_at_the_last_arrival(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=600, burst=100)
    early = join(room, 3, T0 - dt.timedelta(minutes=1))
    entry_status(entry=early[0], now=T0 + dt.timedelta(minutes=5))
    assert fresh(room).admitted == 3


def test_when_the_queue_is_short_a_newcomer_is_admitted_at_once(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=60, burst=10)
    at = T0 + dt.timedelta(hours=1)
    crowd = [room_join(room=room, now=at) for _ in range(11)]
    assert [e.admitted_at is not None for e in crowd] == [True] * 10 + [False]
    last = entry_status(entry=crowd[10], now=at)
    assert (last.rank, last.ahead, last.admitted) == (11, 0, False)
    assert last.estimated_wait_seconds == 1
    assert entry_status(entry=crowd[10], now=at + SECOND).admitted


def test_a_newcomer_is_never_admitted_ahead_of_someone_who_came_earlier(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=60, burst=2)
    entries = join(room, 6, T0 + dt.timedelta(minutes=10), every=dt.timedelta(milliseconds=100))
    admitted = [e.admitted_at is not None for e in entries]
    assert admitted == sorted(admitted, reverse=True)  # all the admitted ones come first
    status = [entry_status(entry=e, now=T0 + dt.timedelta(minutes=10, seconds=2)) for e in entries]
    assert [s.admitted for s in status] == sorted((s.admitted for s in status), reverse=True)
    assert [s.ahead for s in status if not s.admitted] == list(range(sum(not s.admitted for s in status)))


def test_the_estimated_wait_follows_the_rate(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=120, burst=2)
    early = join(room, 200, T0 - dt.timedelta(hours=1), every=dt.timedelta(milliseconds=1))
    entry_status(entry=early[0], now=T0)
    last = next(e for e in QueueEntry.objects.filter(room=room, rank=200))
    status = entry_status(entry=last, now=T0)
    assert status.ahead == 199
    assert status.estimated_wait_seconds == 100
    assert status.poll_after_seconds == 10


def _interval_us(room: WaitingRoom) -> int:
    return 60_000_000 // room.rate_per_minute


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rate=st.integers(min_value=1, max_value=1200),
    extra_burst=st.integers(min_value=0, max_value=30),
    start=st.integers(min_value=-20_000, max_value=5_000),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["join", "poll", "tick"]),
            st.integers(min_value=0, max_value=4_000),
            st.integers(min_value=0, max_value=10_000),
        ),
        max_size=40,
    ),
)
def test_any_interleaving_of_joins_polls_and_time_keeps_the_queue_fair(
    cast: Cast, rate: int, extra_burst: int, start: int, steps: list[tuple[str, int, int]]
) -> None:
    room = make_room(cast.institution_a, rate_per_minute=rate, burst=math.ceil(rate / 60) + extra_burst)
    now = T0 + dt.timedelta(milliseconds=start)
    entries: list[QueueEntry] = []
    admitted = 0
    for op, millis, pick in steps:
        now += dt.timedelta(milliseconds=millis)
        if op == "join":
            entries.append(room_join(room=room, now=now))
        elif op == "poll" and entries:
            entry_status(entry=entries[pick % len(entries)], now=now)
        state = fresh(room)
        assert admitted <= state.admitted <= state.arrivals
        assert state.admitted - admitted <= state.burst
        earned_us = max(0, (now - T0) // dt.timedelta(microseconds=1))
        assert state.admitted * _interval_us(state) <= earned_us  # never faster than the rate
        admitted = state.admitted
    if entries:
        entry_status(entry=entries[0], now=max(now, T0))
    rows = list(QueueEntry.objects.filter(room=room).order_by("seq"))
    assert sorted(r.rank for r in rows if r.rank is not None) == list(range(1, len(rows) + 1))
    early = [r.rank for r in rows if r.early]
    late = [r.rank for r in rows if not r.early]
    assert all(e < lt for e in early for lt in late if e is not None and lt is not None)
    assert late == [r.seq for r in rows if not r.early]
    state = fresh(room)
    assert all(r.rank is not None and r.rank <= state.admitted for r in rows if r.admitted_at is not None)


# --- admission tokens ------------------------------------------------------------------------


def admitted_token(room: WaitingRoom, at: dt.datetime) -> str:
    entry = room_join(room=room, now=at)
    status = entry_status(entry=entry, now=at)
    assert status.admitted and status.token is not None
    return status.token


def test_an_admission_is_valid_for_the_session_and_then_expires(cast: Cast) -> None:
    room = make_room(cast.institution_a, session_minutes=20)
    at = T0 + dt.timedelta(minutes=1)
    entry = room_join(room=room, now=at)
    status = entry_status(entry=entry, now=at + dt.timedelta(minutes=5))
    assert status.token is not None and status.token_expires_at is not None
    assert status.token_expires_at == (at + dt.timedelta(minutes=20)).replace(microsecond=0)
    institution = cast.institution_a
    assert admission_check(
        institution=institution, token=status.token, now=at + dt.timedelta(minutes=19)
    ) == str(entry.pk)
    with pytest.raises(Conflict) as refused:
        admission_check(institution=institution, token=status.token, now=at + dt.timedelta(minutes=21))
    assert refused.value.code == "admission_required"
    assert refused.value.details == {"field": "admission", "room": room.code, "reason": "expired"}


def test_once_the_session_is_over_the_place_is_gone_and_the_visitor_joins_again(cast: Cast) -> None:
    room = make_room(cast.institution_a, session_minutes=20)
    entry = room_join(room=room, now=T0 + SECOND)
    assert waiting.entry_get(room=room, entry_id=entry.pk, now=T0 + dt.timedelta(minutes=20)) == entry
    with pytest.raises(waiting.AdmissionExpired) as gone:
        waiting.entry_get(room=room, entry_id=entry.pk, now=T0 + dt.timedelta(minutes=20, seconds=1))
    assert (gone.value.status, gone.value.code) == (410, "admission_expired")
    again = room_join(room=room, now=T0 + dt.timedelta(minutes=21))
    assert again.rank == 2


def test_the_token_is_the_same_on_every_poll_and_its_session_starts_at_admission(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    entry = room_join(room=room, now=T0 + SECOND)
    first = entry_status(entry=entry, now=T0 + 2 * SECOND)
    later = entry_status(entry=entry, now=T0 + dt.timedelta(minutes=15))
    assert first.token == later.token
    assert later.token_expires_at == T0 + SECOND + dt.timedelta(minutes=20)


def test_a_session_starts_when_the_visitor_first_learns_they_are_admitted(cast: Cast) -> None:
    room = make_room(cast.institution_a, rate_per_minute=60, burst=1)
    early = join(room, 2, T0 - dt.timedelta(minutes=1))
    entry_status(entry=early[0], now=T0 + 2 * SECOND)
    seen = entry_status(entry=early[1], now=T0 + dt.timedelta(minutes=3))
    assert seen.admitted
    assert seen.token_expires_at == T0 + dt.timedelta(minutes=23)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "invalid"),
        (lambda token: token.replace("w1.", "w2.", 1), "invalid"),
        (lambda token: token.replace(".", ".9", 1), "invalid"),
        (lambda token: resign(token.split(":")[0], salt="another.use"), "invalid"),
        (lambda token: resign(token.split(":")[0].replace("w1.", "w9."), salt=waiting.TOKEN_SALT), "invalid"),
        (lambda token: "x" * 500, "invalid"),
        (lambda token: "", "missing"),
    ],
    ids=["signature", "version", "room", "other-salt", "unknown-version", "too-long", "empty"],
)
def test_a_tampered_or_missing_token_is_refused(cast: Cast, tamper: Any, reason: str) -> None:
    room = make_room(cast.institution_a)
    token = admitted_token(room, T0 + SECOND)
    with pytest.raises(Conflict) as refused:
        admission_check(institution=cast.institution_a, token=tamper(token), now=T0 + 2 * SECOND)
    assert refused.value.code == "admission_required"
    assert refused.value.status == 409
    assert refused.value.details == {"field": "admission", "room": room.code, "reason": reason}


def resign(value: str, *, salt: str) -> str:
    return signing.Signer(salt=salt).sign(value)


def test_a_token_for_another_room_or_institution_is_refused(cast: Cast) -> None:
    old = make_room(cast.institution_a)
    old_token = admitted_token(old, T0 + SECOND)
    old.active = False
    old.save()
    make_room(cast.institution_a, code="leonard-now")
    b_token = admitted_token(make_room(cast.institution_b), T0 + SECOND)
    for token in (old_token, b_token):
        with pytest.raises(Conflict) as refused:
            admission_check(institution=cast.institution_a, token=token, now=T0 + 2 * SECOND)
        assert refused.value.details == {"field": "admission", "room": "leonard-now", "reason": "invalid"}


def test_without_an_active_room_the_shop_needs_no_admission(cast: Cast) -> None:
    make_room(cast.institution_a, active=False)
    assert admission_check(institution=cast.institution_a, token=None, now=T0) is None
    assert admission_check(institution=cast.institution_a, token="garbage", now=T0) is None


def test_with_an_active_room_holding_places_needs_an_admission(cast: Cast) -> None:
    room = make_room(cast.institution_a)
    with pytest.raises(Conflict) as refused:
        admission_check(institution=cast.institution_a, token=None, now=T0)
    assert refused.value.details == {"field": "admission", "room": room.code, "reason": "missing"}
    assert admission_check(institution=cast.institution_b, token=None, now=T0) is None


def test_joining_a_closed_room_is_refused(cast: Cast) -> None:
    room = make_room(cast.institution_a, active=False)
    with pytest.raises(Conflict) as refused:
        room_join(room=room, now=T0)
    assert refused.value.code == "room_inactive"
    assert fresh(room).arrivals == 0


# --- configuration ---------------------------------------------------------------------------


def configure(cast: Cast, code: str = "leonard", **changes: Any) -> WaitingRoom:
    values: dict[str, Any] = {
        "active": True,
        "opens_at": T0,
        "rate_per_minute": 600,
        "burst": 100,
        "session_minutes": 20,
    }
    values.update(changes)
    return room_configure(
        actor=cast.ticketing_manager_a.actor, code=code, now=T0 - dt.timedelta(days=1), **values
    )


def configured_facts() -> list[dict[str, Any]]:
    import json

    return [
        json.loads(f.body)
        for f in Fact.objects.filter(type="ticketing.waiting_room.configured").order_by("id")
    ]


def test_a_ticketing_manager_opens_a_waiting_room_and_the_ledger_records_it(managed: Cast) -> None:
    room = configure(managed, rate_per_minute=300, burst=50, session_minutes=15)
    assert (room.active, room.rate_per_minute, room.burst, room.session_minutes) == (True, 300, 50, 15)
    assert waiting.room_active(institution=managed.institution_a) == room
    configure(managed, rate_per_minute=300, burst=50, session_minutes=15)  # no change: no fact
    configure(managed, rate_per_minute=900, burst=50, session_minutes=15)
    bodies = configured_facts()
    assert [b["created"] for b in bodies] == [True, False]
    assert bodies[1]["changed"] == ["rate_per_minute"]
    assert bodies[0]["opens_at"] == "2019-06-05T08:00:00.000000+00:00"
    fact = Fact.objects.filter(type="ticketing.waiting_room.configured").first()
    assert fact is not None and fact.actor == "user:ticketing-a"


def test_only_ticketing_managers_and_admins_configure_waiting_rooms(managed: Cast) -> None:
    with pytest.raises(PermissionDenied):
        room_configure(
            actor=managed.registrar_a.actor,
            code="leonard",
            active=True,
            opens_at=T0,
            rate_per_minute=600,
            burst=100,
            session_minutes=20,
        )
    room = room_configure(
        actor=managed.admin_a.actor,
        code="leonard",
        active=False,
        opens_at=T0,
        rate_per_minute=600,
        burst=100,
        session_minutes=20,
    )
    assert room.institution == managed.institution_a


def test_the_opening_time_is_fixed_once_the_room_has_opened(managed: Cast) -> None:
    room = configure(managed)
    room_join(room=room, now=T0 + SECOND)
    with pytest.raises(Conflict) as refused:
        configure(managed, opens_at=T0 + dt.timedelta(hours=1))
    assert refused.value.code == "already_opened"
    assert configure(managed, active=False).opens_at == T0


def test_one_room_is_active_at_a_time(managed: Cast) -> None:
    configure(managed, code="leonard")
    with pytest.raises(Conflict) as refused:
        configure(managed, code="louvre-pass")
    assert refused.value.code == "other_room_active"
    configure(managed, code="leonard", active=False)
    assert configure(managed, code="louvre-pass").active


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rate_per_minute": 6000, "burst": 99}, "burst"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"session_minutes": 0}, "session_minutes"),
        ({"opens_at": dt.datetime(2019, 6, 5, 8, 0)}, "opens_at"),
        ({"code": "bad code"}, "code"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    managed: Cast, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        configure(managed, **changes)
    assert refused.value.field == field
    assert not WaitingRoom.objects.exists()


# --- HTTP ------------------------------------------------------------------------------------


def live_room(institution: Institution, **fields: Any) -> WaitingRoom:
    return make_room(institution, code="leonard", opens_at=timezone.now() - dt.timedelta(hours=1), **fields)


def test_a_visitor_joins_without_an_account_and_gets_an_admission(cast: Cast, anon_client: Any) -> None:
    live_room(cast.institution_a)
    response = anon_client.post("/api/v1/waiting-rooms/leonard/entries")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "room",
        "opens_at",
        "rank",
        "ahead",
        "admitted",
        "estimated_wait_seconds",
        "poll_after_seconds",
        "token",
        "token_expires_at",
    }
    assert (body["rank"], body["ahead"], body["admitted"], body["poll_after_seconds"]) == (1, 0, True, None)
    assert (
        admission_check(institution=cast.institution_a, token=body["token"], now=timezone.now()) == body["id"]
    )
    polled = anon_client.get(f"/api/v1/waiting-rooms/leonard/entries/{body['id']}")
    assert polled.status_code == 200
    assert polled.json()["token"] == body["token"]


def test_above_the_rate_a_visitor_gets_a_place_and_polls(cast: Cast, anon_client: Any) -> None:
    room = live_room(cast.institution_a, rate_per_minute=1, burst=1)
    first = anon_client.post("/api/v1/waiting-rooms/leonard/entries").json()
    second = anon_client.post("/api/v1/waiting-rooms/leonard/entries").json()
    assert first["admitted"] and not second["admitted"]
    assert (second["rank"], second["ahead"], second["token"]) == (2, 0, None)
    assert 1 <= second["poll_after_seconds"] <= 60 and second["estimated_wait_seconds"] > 0
    polled = anon_client.get(f"/api/v1/waiting-rooms/leonard/entries/{second['id']}").json()
    assert (polled["rank"], polled["admitted"]) == (2, False)
    assert fresh(room).arrivals == 2


def test_before_the_opening_a_visitor_has_no_rank_yet(cast: Cast, anon_client: Any) -> None:
    make_room(cast.institution_a, code="leonard", opens_at=timezone.now() + dt.timedelta(hours=1))
    body = anon_client.post("/api/v1/waiting-rooms/leonard/entries").json()
    assert (body["rank"], body["ahead"], body["admitted"], body["token"]) == (None, None, False, None)
    assert body["estimated_wait_seconds"] >= 3590


def test_unknown_rooms_and_entries_are_404_and_closed_rooms_409(cast: Cast, anon_client: Any) -> None:
    room = live_room(cast.institution_a)
    other = make_room(cast.institution_a, code="other", active=False)
    stranger = room_join(room=make_room(cast.institution_b, code="leonard-b"), now=timezone.now())
    unknown = anon_client.post("/api/v1/waiting-rooms/nope/entries")
    assert (unknown.status_code, unknown.json()["error"]["details"]) == (404, {"field": "room"})
    b_room = anon_client.post("/api/v1/waiting-rooms/leonard-b/entries")
    assert b_room.status_code == 404  # visitors queue for this server's institution only
    missing = anon_client.get(f"/api/v1/waiting-rooms/{room.code}/entries/{stranger.pk}")
    assert (missing.status_code, missing.json()["error"]["details"]) == (404, {"field": "entry"})
    closed = anon_client.post(f"/api/v1/waiting-rooms/{other.code}/entries")
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "room_inactive"
    malformed = anon_client.get(f"/api/v1/waiting-rooms/{room.code}/entries/not-a-uuid")
    assert malformed.status_code == 422


def test_polling_an_expired_admission_answers_410(cast: Cast, anon_client: Any) -> None:
    room = live_room(cast.institution_a, session_minutes=1)
    entry = room_join(room=room, now=timezone.now() - dt.timedelta(minutes=2))
    response = anon_client.get(f"/api/v1/waiting-rooms/leonard/entries/{entry.pk}")
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "admission_expired"


ROOM_BODY = {"active": True, "opens_at": "2019-06-05T10:00:00+02:00", "rate_per_minute": 600, "burst": 100}


def test_a_ticketing_manager_configures_a_room_over_http(managed: Cast) -> None:
    client = managed.ticketing_manager_a.client()
    created = client.put("/api/v1/waiting-rooms/leonard", ROOM_BODY, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["session_minutes"] == 20
    changed = client.put(
        "/api/v1/waiting-rooms/leonard", {**ROOM_BODY, "session_minutes": 30}, content_type="application/json"
    )
    assert (changed.status_code, changed.json()["session_minutes"]) == (200, 30)
    shown = client.get("/api/v1/waiting-rooms/leonard").json()
    assert (shown["arrivals"], shown["admitted"], shown["waiting"]) == (0, 0, 0)
    bad = client.put(
        "/api/v1/waiting-rooms/leonard", {**ROOM_BODY, "burst": 1}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["error"]["details"]) == (422, {"field": "burst"})


def test_the_wrong_persona_cannot_configure_or_read_a_room(managed: Cast, anon_client: Any) -> None:
    make_room(managed.institution_a, code="leonard")
    body = ROOM_BODY
    assert (
        managed.registrar_a.client()
        .put("/api/v1/waiting-rooms/leonard", body, content_type="application/json")
        .status_code
        == 403
    )
    assert managed.gate_agent_a.client().get("/api/v1/waiting-rooms/leonard").status_code == 403
    assert managed.partner_b.client().get("/api/v1/waiting-rooms/leonard").status_code == 404
    assert managed.outsider.client().get("/api/v1/waiting-rooms/leonard").status_code == 404
    assert anon_client.get("/api/v1/waiting-rooms/leonard").status_code == 401
    assert (
        anon_client.put("/api/v1/waiting-rooms/leonard", body, content_type="application/json").status_code
        == 401
    )
    assert WaitingRoom.objects.get(code="leonard").rate_per_minute == 60
