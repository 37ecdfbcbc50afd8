"""The waiting room for on-sale peaks (docs/waiting-room.md).

A visitor joins a room and gets a place in its queue. Those who joined before the announced
opening are ranked first, in a random order drawn at their arrival; everyone after is ranked in
arrival order. The room admits ranks up to its frontier (``WaitingRoom.admitted``), which grows
at ``rate_per_minute`` and by at most ``burst`` at a time. An admitted visitor gets a signed
token, valid ``session_minutes`` from admission, that cart creation checks
(:func:`admission_check`). Everything lives in the database, so a restart loses nothing.

Configuring a room is a ledger fact; joining and polling are not (see ``facts_waiting``).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import CODE_VALIDATOR, Institution
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.ticketing import facts_waiting, roles_waiting, selectors
from cimaise.ticketing.conf import lock_timeout_seconds
from cimaise.ticketing.locking import Busy
from cimaise.ticketing.models import QueueEntry, WaitingRoom

MINUTE_US = 60_000_000
STEP_EVERY = dt.timedelta(seconds=1)  # polls move the frontier at most this often
POLL_MIN, POLL_MAX = 1, 60  # seconds between polls: a tenth of the wait, within these bounds
MAX_RATE = 1_000_000
MAX_SESSION_MINUTES = 24 * 60
TOKEN_SALT = "cimaise.ticketing.waiting.admission"  # noqa: S105  (a salt names a use; the key is SECRET_KEY)
TOKEN_VERSION = "w1"  # noqa: S105  (a format version, not a secret)
TOKEN_MAX_LENGTH = 200
_COUNTERS = ["arrivals", "admitted", "admitted_at", "early_ranked"]


# --- the frontier --------------------------------------------------------------------------


def _interval(room: WaitingRoom, count: int = 1) -> dt.timedelta:
    """The time ``count`` admissions take at the room's rate."""
    return dt.timedelta(microseconds=count * MINUTE_US // room.rate_per_minute)


def _earned_from(room: WaitingRoom, now: dt.datetime) -> dt.datetime:
    """Where the admissions not yet given are earned from: the last admission's time (or the
    opening), but never more than ``burst`` admissions back, so an idle spell does not bank more."""
    start = room.admitted_at or room.opens_at
    return max(start, now - _interval(room, room.burst))


def _credit(room: WaitingRoom, now: dt.datetime) -> int:
    """How many admissions the rate allows now (0 … burst)."""
    elapsed = (now - _earned_from(room, now)) // dt.timedelta(microseconds=1)
    return max(0, min(room.burst, elapsed * room.rate_per_minute // MINUTE_US))


def _advance(room: WaitingRoom, now: dt.datetime) -> bool:
    """Move the frontier of a locked room (in memory): by what the rate earned since the last
    move, at most ``burst``, never past the last arrival. Returns whether it moved."""
    if not room.early_ranked or now < room.opens_at:
        return False
    start = _earned_from(room, now)
    gained = min(_credit(room, now), room.arrivals - room.admitted)
    if gained <= 0:
        return False
    room.admitted += gained
    room.admitted_at = start + _interval(room, gained)  # the fraction of an admission is kept
    return True


def _due(room: WaitingRoom, now: dt.datetime) -> bool:
    """Whether a poll should try to move the frontier (or rank the early ones)."""
    if now < room.opens_at:
        return False
    if not room.early_ranked:
        return True
    waiting = room.admitted < room.arrivals
    return waiting and now - _earned_from(room, now) >= max(STEP_EVERY, _interval(room))


# --- locks and ranks -----------------------------------------------------------------------


def _lock_room(room_id: int) -> WaitingRoom:
    """Lock the room row inside the caller's transaction, waiting at most the sale lock timeout."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{lock_timeout_seconds()}s"])
    try:
        return WaitingRoom.objects.select_for_update().get(pk=room_id)
    except OperationalError as exc:
        raise Busy("the waiting room is very busy; try again in a moment") from exc


def _rank_early(room: WaitingRoom) -> None:
    """Give those who joined before the opening ranks 1…E in their random order, in one
    statement, once (the room is locked). They hold sequence numbers 1…E, so later arrivals
    keep their sequence number as rank."""
    q = connection.ops.quote_name
    table, rank, seq, shuffle = q(QueueEntry._meta.db_table), q("rank"), q("seq"), q("shuffle")
    # Names come from the model, the room id is a parameter.
    sql = (
        f"UPDATE {table} SET {rank} = ranked.n FROM ("  # noqa: S608
        f"SELECT {q('id')} AS entry_id, ROW_NUMBER() OVER (ORDER BY {shuffle}, {seq}) AS n "
        f"FROM {table} WHERE {q('room_id')} = %s AND {q('early')}"
        f") AS ranked WHERE {table}.{q('id')} = ranked.entry_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [room.pk])
    room.early_ranked = True


def _open_if_due(room: WaitingRoom, now: dt.datetime) -> None:
    if not room.early_ranked and now >= room.opens_at:
        _rank_early(room)


def _try_advance(room_id: int, now: dt.datetime) -> WaitingRoom | None:
    """Rank the early ones and move the frontier unless another request is doing so right now:
    a poll never waits for the room's lock. None when the lock was taken."""
    with transaction.atomic():
        room = WaitingRoom.objects.select_for_update(skip_locked=True).filter(pk=room_id).first()
        if room is not None and _due(room, now):
            _open_if_due(room, now)
            _advance(room, now)
            room.save(update_fields=_COUNTERS)
        return room


# --- joining -------------------------------------------------------------------------------


def _entry_new(room: WaitingRoom, now: dt.datetime) -> QueueEntry:
    early = not room.early_ranked
    room.arrivals += 1
    return QueueEntry(
        room=room,
        seq=room.arrivals,
        arrived_at=now,
        early=early,
        shuffle=secrets.randbits(62) if early else 0,
        rank=None if early else room.arrivals,
    )


def room_join(*, room: WaitingRoom, now: dt.datetime | None = None) -> QueueEntry:
    """Put a visitor in the room's queue, and admit them at once when the rate allows: only when
    everyone ranked before them is admitted already. Refused (409 ``room_inactive``) when the
    room is not active; ``busy`` (429) when its lock cannot be had in time."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = _lock_room(room.pk)
        _require_active(locked)
        _open_if_due(locked, now)
        entry = _entry_new(locked, now)
        _advance(locked, now)
        locked.save(update_fields=_COUNTERS)
        if entry.rank is not None and entry.rank <= locked.admitted:
            entry.admitted_at = now
        entry.save(force_insert=True)
    return entry


def _require_active(room: WaitingRoom) -> None:
    if not room.active:
        raise Conflict(
            "this waiting room is closed: go straight to the shop",
            code="room_inactive",
            details={"field": "room", "room": room.code},
        )


# --- polling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """Where a visitor stands. ``rank`` and ``ahead`` are None for those who came before the
    opening until it passes (their order is drawn then). ``token`` is given once admitted;
    ``poll_after_seconds`` is None then (there is nothing more to wait for)."""

    rank: int | None
    ahead: int | None
    admitted: bool
    estimated_wait_seconds: int
    token: str | None
    token_expires_at: dt.datetime | None
    poll_after_seconds: int | None


def entry_status(*, entry: QueueEntry, now: dt.datetime | None = None) -> Status:
    """A visitor's place in the queue, moving the room's frontier on the way when it is due."""
    now = now or timezone.now()
    room = WaitingRoom.objects.get(pk=entry.room_id)
    if _due(room, now):
        room = _try_advance(room.pk, now) or room
    if entry.rank is None and room.early_ranked:
        entry.refresh_from_db(fields=["rank"])
    if entry.rank is not None and entry.rank <= room.admitted:
        return _admitted(room, entry, now)
    return _waiting(room, entry, now)


def _admitted(room: WaitingRoom, entry: QueueEntry, now: dt.datetime) -> Status:
    if entry.admitted_at is None:
        # the first poll that finds the visitor admitted starts the session
        QueueEntry.objects.filter(pk=entry.pk, admitted_at__isnull=True).update(admitted_at=now)
        entry.refresh_from_db(fields=["admitted_at"])
    token, expires = admission_token(room=room, entry=entry)
    return Status(
        rank=entry.rank,
        ahead=0,
        admitted=True,
        estimated_wait_seconds=0,
        token=token,
        token_expires_at=expires,
        poll_after_seconds=None,
    )


def _waiting(room: WaitingRoom, entry: QueueEntry, now: dt.datetime) -> Status:
    if entry.rank is None:  # before the opening: the expected place among the early ones so far
        wait = (room.opens_at - now) + _interval(room, (room.arrivals + 1) // 2)
        ahead = None
    else:
        # what is still to earn for this rank, less what is earned already (negative before the opening)
        wait = _interval(room, entry.rank - room.admitted) - (now - _earned_from(room, now))
        ahead = entry.rank - room.admitted - 1
    seconds = max(0, math.ceil(wait.total_seconds()))
    return Status(
        rank=entry.rank,
        ahead=ahead,
        admitted=False,
        estimated_wait_seconds=seconds,
        token=None,
        token_expires_at=None,
        poll_after_seconds=min(POLL_MAX, max(POLL_MIN, seconds // 10)),
    )


# --- admission tokens ----------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    room_id: int
    entry_id: uuid.UUID
    expires_at: dt.datetime


def _signer() -> signing.Signer:
    return signing.Signer(salt=TOKEN_SALT)


def _expiry(room: WaitingRoom, admitted_at: dt.datetime) -> dt.datetime:
    return (admitted_at + dt.timedelta(minutes=room.session_minutes)).replace(microsecond=0)


def admission_token(*, room: WaitingRoom, entry: QueueEntry) -> tuple[str, dt.datetime]:
    """The admitted visitor's token and when it expires: ``session_minutes`` after admission
    (to the second). It names the room and the entry, and is the same on every poll."""
    if entry.admitted_at is None:
        raise ValueError("the entry is not admitted")
    expires = _expiry(room, entry.admitted_at)
    payload = f"{TOKEN_VERSION}.{room.pk}.{entry.pk.hex}.{int(expires.timestamp())}"
    return _signer().sign(payload), expires


def admission_read(token: str) -> Admission | None:
    """What a token says, if its signature is good (whether it expired is the caller's check)."""
    if len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        version, room_id, entry_id, expires = _signer().unsign(token).split(".")
        if version != TOKEN_VERSION:
            return None
        when = dt.datetime.fromtimestamp(int(expires), tz=dt.UTC)
        return Admission(room_id=int(room_id), entry_id=uuid.UUID(hex=entry_id), expires_at=when)
    except (signing.BadSignature, ValueError, OverflowError):
        return None


_REFUSALS = {
    "missing": "the shop is busy: join the waiting room first",
    "invalid": "this admission is not valid here: join the waiting room",
    "expired": "your admission has expired: join the waiting room again",
}


def admission_check(
    *, institution: Institution, token: str | None, now: dt.datetime | None = None
) -> str | None:
    """Check the admission token of a visitor about to hold places. With no active room, None
    (the shop is open to all). Otherwise the admitted entry's id, or ``Conflict`` (409)
    ``admission_required`` naming the field ``admission``, the room to join and the reason
    (``missing``, ``invalid``, ``expired``)."""
    room = room_active(institution=institution)
    if room is None:
        return None
    now = now or timezone.now()
    admission = admission_read(token) if token else None
    reason = "missing" if not token else "invalid"
    if admission is not None and admission.room_id == room.pk:
        if admission.expires_at > now:
            return str(admission.entry_id)
        reason = "expired"
    raise Conflict(
        _REFUSALS[reason],
        code="admission_required",
        field="admission",
        details={"field": "admission", "room": room.code, "reason": reason},
    )


# --- selectors -----------------------------------------------------------------------------


def room_active(*, institution: Institution) -> WaitingRoom | None:
    """The institution's active waiting room, if the shop has one in front of it now."""
    return WaitingRoom.objects.filter(institution=institution, active=True).first()


def visitor_institution() -> Institution:
    """The institution whose shop this server runs (see ``selectors.visitor_institution``)."""
    return selectors.visitor_institution()


def room_for_visitors(*, institution: Institution, code: str) -> WaitingRoom:
    """A room visitors may queue in: 404 when unknown, 409 ``room_inactive`` when closed."""
    room = WaitingRoom.objects.filter(institution=institution, code=code).first()
    if room is None:
        raise NotFound(f"no waiting room {code!r}", field="room")
    _require_active(room)
    return room


class AdmissionExpired(NotFound):
    """The visitor was admitted and their session is over: they join again, at the back. A
    ``NotFound`` (the place is gone), answered 410."""

    status = 410
    code = "admission_expired"


def entry_get(*, room: WaitingRoom, entry_id: uuid.UUID, now: dt.datetime | None = None) -> QueueEntry:
    """A visitor's place in the room's queue: 404 when unknown, 410 ``admission_expired`` when
    their admission has run out."""
    entry = QueueEntry.objects.filter(room=room, pk=entry_id).first()
    if entry is None:
        raise NotFound("no such place in this queue", field="entry")
    if entry.admitted_at is not None and _expiry(room, entry.admitted_at) <= (now or timezone.now()):
        raise AdmissionExpired("your admission has expired: join the waiting room again", field="entry")
    return entry


def access_waiting_room(actor: Actor, code: str) -> WaitingRoom:
    """A room of the actor's institution, for its managers (404 elsewhere, 403 without the role)."""
    institution = own_institution(actor)
    room = WaitingRoom.objects.filter(institution=institution, code=code).first()
    if room is None:
        raise NotFound(f"no waiting room {code!r}", field="room")
    require_permission(actor, roles_waiting.VIEW)
    return room


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomSettings:
    active: bool
    opens_at: dt.datetime
    rate_per_minute: int
    burst: int
    session_minutes: int


def _check_settings(code: str, wanted: RoomSettings) -> None:
    try:
        CODE_VALIDATOR(code)
    except ValidationError as exc:
        raise InvalidInput(f"code: {exc.messages[0]}", field="code") from exc
    if len(code) > WaitingRoom._meta.get_field("code").max_length:  # type: ignore[operator]
        raise InvalidInput("code: 32 characters at most", field="code")
    if timezone.is_naive(wanted.opens_at):
        raise InvalidInput("the opening time needs its time zone", field="opens_at")
    if not 1 <= wanted.rate_per_minute <= MAX_RATE:
        raise InvalidInput(f"the rate is 1 to {MAX_RATE} admissions a minute", field="rate_per_minute")
    if not math.ceil(wanted.rate_per_minute / 60) <= wanted.burst <= MAX_RATE:
        # the frontier moves about once a second: a smaller burst could not reach the rate
        raise InvalidInput("the burst must be at least a second's admissions (rate / 60)", field="burst")
    if not 1 <= wanted.session_minutes <= MAX_SESSION_MINUTES:
        raise InvalidInput(f"a session lasts 1 to {MAX_SESSION_MINUTES} minutes", field="session_minutes")


def _changes(room: WaitingRoom, wanted: RoomSettings) -> list[str]:
    changed = [name for name, value in vars(wanted).items() if getattr(room, name) != value]
    if "opens_at" in changed and room.early_ranked:
        raise Conflict(
            "this room has opened already; open a new room for another on-sale",
            code="already_opened",
            field="opens_at",
        )
    return changed


def _refuse_two_active(room: WaitingRoom, wanted: RoomSettings) -> None:
    if not wanted.active or room.active:
        return
    other = WaitingRoom.objects.filter(institution=room.institution, active=True).exclude(pk=room.pk).first()
    if other is not None:
        raise Conflict(
            f"the room {other.code!r} is active: close it first",
            code="other_room_active",
            details={"field": "active", "room": other.code},
        )


def room_configure(
    *,
    actor: Actor,
    code: str,
    active: bool,
    opens_at: dt.datetime,
    rate_per_minute: int,
    burst: int,
    session_minutes: int,
    now: dt.datetime | None = None,
) -> WaitingRoom:
    """Create or change the institution's waiting room ``code`` (ticketing managers). The opening
    time cannot change once it has passed and ranks were drawn; one room is active at a time.
    Records ``ticketing.waiting_room.configured`` when something changed."""
    institution = own_institution(actor)
    require_permission(actor, roles_waiting.CONFIGURE)
    wanted = RoomSettings(active, opens_at, rate_per_minute, burst, session_minutes)
    _check_settings(code, wanted)
    try:
        with transaction.atomic(durable=True):
            room = WaitingRoom.objects.select_for_update().filter(institution=institution, code=code).first()
            created = room is None
            room = room or WaitingRoom(institution=institution, code=code, opens_at=opens_at)
            changed = sorted(vars(wanted)) if created else _changes(room, wanted)
            _refuse_two_active(room, wanted)
            if changed:
                for name, value in vars(wanted).items():
                    setattr(room, name, value)
                room.save()
                facts_append([_configured(room, actor, created, changed)], now=now)
    except IntegrityError as exc:  # a manager configured the same rooms at the same instant
        raise Conflict("the waiting rooms changed meanwhile; try again", field="code") from exc
    return room


def _configured(room: WaitingRoom, actor: Actor, created: bool, changed: list[str]) -> FactDraft:
    body = {
        "room": room.code,
        "created": created,
        "changed": changed,
        "active": room.active,
        "opens_at": room.opens_at,
        "rate_per_minute": room.rate_per_minute,
        "burst": room.burst,
        "session_minutes": room.session_minutes,
    }
    return FactDraft(
        type=facts_waiting.WAITING_ROOM_CONFIGURED.name,
        stream=f"ticketing.waiting_room:{room.institution.code}:{room.code}",
        body=body,
        actor=actor.label,
        institution_id=room.institution_id,
    )
