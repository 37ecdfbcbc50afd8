"""The demo's entrances at work: entry rules at the four entrances, then the last three hours of
a day (today when the museum has been open for a while, else its last open day) played through
the real services, so that the monitor and the fraud signals have something to show.

Tickets are sold at the desk before their slot; visitors scan in at the turnstiles of their
entrance, some scan out, a few come too early, try a used ticket again or a forged one; agents let
a few visitors through by override (one of them often); two visitors do not pass the turnstile
after their scan; during an outage the Richelieu agent lets in a code already used at the
Pyramide (found when it uploads); turnstiles report their counts, two lanes a few people more
than they admitted; the agents' last contacts make two of them online, one offline, one absent.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils import timezone

from cimaise.access import decide as d
from cimaise.access import services, sync, turnstile
from cimaise.access.models import Entrance, Entry, EntryRule, Lane
from cimaise.core.actors import Actor, actor_for
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.errors import DomainError
from cimaise.core.models import Institution
from cimaise.ticketing.capacity import SlotPlan, slots_generate_unchecked
from cimaise.ticketing.models import Slot, Ticket
from cimaise.ticketing.services import CartRequest, Item, OrderRequest, cart_create, order_create

SEED = 1190  # the Louvre was first a fortress, built around 1190
HOURS = dt.timedelta(hours=3)
ORDERS_PER_SLOT = {"small": 3, "full": 10}
PASSAGE_PERIOD = dt.timedelta(minutes=15)
TAILGATERS = {("PYR", "T2"): 4, ("CAR", "T1"): 2}  # people through without a scan, in one hour
OVERRIDE_REASONS = (
    "Phone battery dead, order shown by e-mail",
    "Group leader with the booking list",
    "Ticket printed too small to read",
    "Visitor in a wheelchair, companion's ticket lost",
    "Staff guest of the curator",
    "Booked for the wrong entrance by mistake",
    "School group, teacher has the order number",
)


@dataclass
class Staff:
    agent: Actor  # the gate agent on a handheld (a session)
    supervisor: Actor
    cashier: Actor
    devices: dict[str, Actor]  # the entrance agents' tokens, per entrance


@dataclass(order=True)
class Event:
    at: dt.datetime
    n: int
    run: Callable[[], object] = field(compare=False)


@dataclass
class Day:
    louvre: Institution
    staff: Staff
    rng: random.Random
    start: dt.datetime
    end: dt.datetime
    lanes: dict[str, list[Lane]]  # per entrance, its turnstiles going in
    events: list[Event] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def nonce(self) -> str:
        return f"demo-{next(self.counter)}"

    def at(self, when: dt.datetime, run: Callable[[], object]) -> None:
        if self.start <= when <= self.end:
            self.events.append(Event(when, next(self.counter), run))

    def scan(self, when: dt.datetime, code: str, entrance: str, lane: str, *, by: Actor | None = None) -> str:
        """Plan a scan; returns its nonce."""
        nonce, actor = self.nonce(), by or self.staff.devices[entrance]
        direction = "out" if lane == "OUT" else "in"
        self.at(
            when,
            lambda: services.scan_validate(
                actor=actor, code=code, entrance=entrance, lane=lane, direction=direction,
                nonce=nonce, scanned_at=when, now=when,
            ),
        )  # fmt: skip
        return nonce


# --- set-up --------------------------------------------------------------------------------------


def _staff() -> Staff | None:
    names = ("gate-agent", "gate-supervisor", "ticketing-manager")
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    agent, supervisor, cashier = (actor_for(users[n]) if n in users else None for n in names)
    if agent is None or supervisor is None or cashier is None:
        return None
    devices = {}
    for code in ("PYR", "RIC", "CAR", "PDL"):
        device = actor_for(agent.user, token_prefix=f"{code.lower()}-agent")
        if device is not None:
            devices[code] = device
    return Staff(agent, supervisor, cashier, devices)


def _rules(louvre: Institution) -> None:
    """Pyramide: its own tickets, back in after scanning out. The side entrances take tickets
    sold for any entrance, and a visitor back after two hours."""
    for entrance in Entrance.objects.filter(institution=louvre):
        pyramide = entrance.code == "PYR"
        EntryRule.objects.get_or_create(
            entrance=entrance,
            product=None,
            defaults={
                "tolerance_before_minutes": 15,
                "reentry_after_exit": pyramide,
                "reentry_after_minutes": None if pyramide else 120,
                "admits_other_entrances": not pyramide,
            },
        )


def _open_day(louvre: Institution, day: dt.date) -> None:
    for entrance in Entrance.objects.filter(institution=louvre).values_list("code", flat=True):
        slots_generate_unchecked(
            institution=louvre,
            plan=SlotPlan("MUSEE", [entrance], day, day, slot_capacity=300, entrance_capacity=600),
            who="system:demo",
        )


def _slots(louvre: Institution, now: dt.datetime) -> tuple[list[Slot], dt.datetime]:
    """The museum's slots of the three hours played, and the end of those hours: up to now when
    the museum has been open an hour today, else the close of its last open day."""
    today = timezone.localdate(now, d.PARIS)
    for back in range(8):
        day = today - dt.timedelta(days=back)
        if back:
            _open_day(louvre, day)
        start, end = d.day_bounds(dt.datetime.combine(day, dt.time(12), tzinfo=d.PARIS))
        of_day = Slot.objects.filter(
            institution=louvre, product__code="MUSEE", starts_at__gte=start, starts_at__lt=min(end, now)
        )
        last = of_day.order_by("-ends_at").values_list("ends_at", flat=True).first()
        if last is None or (
            back == 0 and now - of_day.earliest("starts_at").starts_at < dt.timedelta(hours=1)
        ):
            continue
        until = min(now, last)
        chosen = of_day.filter(starts_at__gte=until - HOURS - dt.timedelta(minutes=30), starts_at__lt=until)
        return list(chosen.select_related("entrance").order_by("starts_at", "entrance__code")), until
    return [], now


def _sell(
    ctx: DemoContext, louvre: Institution, slots: list[Slot], cashier: Actor, rng: random.Random
) -> list[Ticket]:
    """Desk sales, two hours before each slot; a fifth of the orders add a free under-18."""
    orders = []
    per_slot = ORDERS_PER_SLOT["full" if ctx.full else "small"]
    for slot in ctx.progress(slots, desc="access: tickets", total=len(slots)):
        for _n in range(per_slot):
            items = [Item("DESK", rng.randint(1, 3))]
            if rng.random() < 0.2:
                items.append(Item("U18", 1))
            sold_at = slot.starts_at - dt.timedelta(hours=2)
            try:
                cart = cart_create(
                    institution=louvre, request=CartRequest(slot.pk, items, channel="desk"),
                    owner=cashier.user, who=cashier.label, now=sold_at,
                )  # fmt: skip
                started = order_create(
                    request=OrderRequest(cart=cart, provider="desk", language="fr"),
                    who=cashier.label, desk=True, now=sold_at,
                )  # fmt: skip
            except DomainError:
                continue
            orders.append(started.order.pk)
    return list(
        Ticket.objects.filter(order_id__in=orders, state=Ticket.State.VALID)
        .select_related("slot__entrance")
        .order_by("slot__starts_at", "id")
    )


# --- the day's scans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    ticket: Ticket
    at: dt.datetime
    nonce: str
    lane: str

    @property
    def entrance(self) -> str:
        return self.ticket.slot.entrance.code


def _visit(day: Day, ticket: Ticket) -> Visit | None:
    """A visitor comes in through a turnstile of their entrance, perhaps too early first, perhaps
    out later, perhaps trying the ticket again somewhere else."""
    rng, code, entrance = day.rng, ticket.code, ticket.slot.entrance.code
    at = ticket.slot.starts_at + dt.timedelta(minutes=rng.uniform(-12, 25))
    if not day.start <= at <= day.end or not day.lanes.get(entrance):
        return None
    if rng.random() < 0.03:
        day.scan(at - dt.timedelta(minutes=35), code, entrance, rng.choice(day.lanes[entrance]).code)
    lane = rng.choice(day.lanes[entrance]).code
    visit = Visit(ticket, at, day.scan(at, code, entrance, lane), lane)
    if rng.random() < 0.25:
        day.scan(at + dt.timedelta(minutes=rng.uniform(50, 140)), code, rng.choice(list(day.lanes)), "OUT")
    if rng.random() < 0.05:
        other = rng.choice(list(day.lanes))
        again = at + dt.timedelta(minutes=rng.uniform(15, 60))
        day.scan(again, code, other, rng.choice(day.lanes[other]).code)
    return visit


def _forged(day: Day, genuine: str) -> None:
    """A burst of forged codes at the Carrousel in the last hour but one, and a few elsewhere."""
    hour = (day.end - dt.timedelta(minutes=75)).replace(minute=0, second=0, microsecond=0)
    tampered = genuine[:40] + ("A" if genuine[40] != "A" else "B") + genuine[41:]
    fakes = [tampered, "LOUVRE-2019-000123", "1234567890"]
    lanes = day.lanes.get("CAR", [])
    for n in range(7 if lanes else 0):
        at = hour + dt.timedelta(minutes=3 + 7 * n)
        day.scan(at, fakes[n % len(fakes)], "CAR", lanes[n % len(lanes)].code)
    for n in range(2):
        day.scan(day.start + dt.timedelta(minutes=40 + 50 * n), fakes[1], "PYR", "T1")


def _overrides(day: Day) -> None:
    """Seven overrides by the agent at the Pyramide (flagged), two by the supervisor at Richelieu."""
    span = (day.end - day.start) / 10
    who = [(day.staff.agent, "PYR")] * 7 + [(day.staff.supervisor, "RIC")] * 2
    for n, (by, entrance) in enumerate(who):
        at = day.start + span * (n + 1)
        _override(day, by, entrance, at, OVERRIDE_REASONS[n % len(OVERRIDE_REASONS)])


def _override(day: Day, by: Actor, entrance: str, at: dt.datetime, reason: str) -> None:
    people, nonce = day.rng.choice([1, 1, 2, 4]), day.nonce()
    day.at(
        at,
        lambda: services.entry_override(
            actor=by, entrance=entrance, lane="H1", reason=reason, people=people,
            nonce=nonce, scanned_at=at, now=at,
        ),
    )  # fmt: skip


def _incidents(day: Day, visits: list[Visit]) -> None:
    """A code refused again and again, two visitors who did not pass the turnstile (and scanned
    again), and a code let in a second time during an outage at Richelieu."""
    early = [v for v in visits if v.at < day.end - dt.timedelta(minutes=45)]
    if len(early) < 4 or "RIC" not in day.lanes:
        return
    again, stuck, stuck_too = day.rng.sample(early, 3)
    for minutes in (4, 7, 11):
        at = again.at + dt.timedelta(minutes=minutes)
        day.scan(at, again.ticket.code, again.entrance, "H1", by=day.staff.agent)
    for visit in (stuck, stuck_too):
        _not_passed(day, visit)
    elsewhere = [v for v in early if v.entrance != "RIC" and v not in (again, stuck, stuck_too)]
    if elsewhere:
        _outage(day, day.rng.choice(elsewhere))


def _not_passed(day: Day, visit: Visit) -> None:
    """The turnstile reports that the visitor did not pass; they scan again a minute later."""
    device, cancel_at = day.staff.devices[visit.entrance], visit.at + dt.timedelta(seconds=20)
    day.at(
        cancel_at,
        lambda: services.entry_not_passed(
            actor=device, entrance=visit.entrance, lane=visit.lane, nonce=visit.nonce, now=cancel_at
        ),
    )
    day.scan(visit.at + dt.timedelta(minutes=1), visit.ticket.code, visit.entrance, visit.lane)


def _outage(day: Day, visit: Visit) -> None:
    """The Richelieu agent, cut off, lets the code in again; it uploads twenty minutes later."""
    when, device = visit.at + dt.timedelta(minutes=15), day.staff.devices["RIC"]
    lane = day.lanes["RIC"][0].code
    offline = sync.OfflineEntry(day.nonce(), visit.ticket.code, lane, "in", when, when, d.OK)
    upload = when + dt.timedelta(minutes=20)
    day.at(upload, lambda: sync.entries_upload(actor=device, entrance="RIC", entries=[offline], now=upload))


# --- what the turnstiles counted, and the agents ---------------------------------------------------


def _quarter(when: dt.datetime) -> dt.datetime:
    """The clock's quarter of an hour holding ``when`` (never astride two hours, as the fraud
    signals count per hour)."""
    step = int(PASSAGE_PERIOD.total_seconds())
    return dt.datetime.fromtimestamp(int(when.timestamp()) // step * step, tz=dt.UTC)


def _passages(day: Day) -> None:
    """Each turnstile's count per quarter of an hour: the people it admitted, and at two lanes a
    few more in one hour (tailgating)."""
    lanes = {lane.pk: lane for lanes in day.lanes.values() for lane in lanes}
    counted: Counter[tuple[int, dt.datetime]] = Counter()
    admitted = Entry.objects.filter(
        lane_id__in=list(lanes), result=Entry.Result.ACCEPTED, direction=Entry.Direction.IN,
        cancelled_at__isnull=True, recorded_at__gte=day.start, recorded_at__lte=day.end,
    )  # fmt: skip
    for lane_id, at, people in admitted.values_list("lane_id", "recorded_at", "people"):
        counted[lane_id, _quarter(at)] += people
    hour = (day.end - dt.timedelta(minutes=100)).replace(minute=5, second=0, microsecond=0)
    for lane in lanes.values():
        for n in range(TAILGATERS.get((lane.entrance.code, lane.code), 0)):
            counted[lane.pk, _quarter(hour + dt.timedelta(minutes=10 * n))] += 1
    for (lane_id, period), count in sorted(counted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lane, end = lanes[lane_id], min(period + PASSAGE_PERIOD, day.end)
        report = turnstile.PassageReport(
            lane.entrance.code, lane.code, "in", count, period, period + PASSAGE_PERIOD, day.nonce(),
            operator=day.staff.agent.label,
        )  # fmt: skip
        turnstile.passages_report(actor=day.staff.devices[lane.entrance.code], report=report, now=end)


def _agents(day: Day, now: dt.datetime) -> None:
    """Pyramide and Carrousel agents just heard from; Richelieu's silent for eight minutes with
    three entries waiting; no agent at the Porte des Lions."""
    for code, ago, queued in (("PYR", 5, 0), ("CAR", 12, 0), ("RIC", 480, 3)):
        device, seen = day.staff.devices[code], now - dt.timedelta(seconds=ago)
        sync.entrance_feed(actor=device, entrance=code, since=None, queued=queued, now=seen)


def _turnstiles(louvre: Institution) -> dict[str, list[Lane]]:
    lanes: dict[str, list[Lane]] = {}
    found = Lane.objects.filter(
        entrance__institution=louvre, kind=Lane.Kind.TURNSTILE, direction=Lane.Direction.IN, active=True
    )
    for lane in found.select_related("entrance").order_by("entrance__code", "code"):
        lanes.setdefault(lane.entrance.code, []).append(lane)
    return lanes


def _play(ctx: DemoContext, day: Day) -> None:
    for event in ctx.progress(sorted(day.events), desc="access: scans", total=len(day.events)):
        try:
            event.run()
        except DomainError:  # a visitor the dice sent somewhere impossible: not part of the story
            continue


def load_access(ctx: DemoContext) -> None:
    louvre = Institution.objects.filter(code="louvre").first()
    staff = _staff()
    if louvre is None or staff is None or Entry.objects.filter(institution=louvre).exists():
        return
    _rules(louvre)
    now = timezone.now()
    slots, end = _slots(louvre, now)
    if not slots:
        return
    rng = random.Random(SEED)  # noqa: S311  (demo data, repeatable)
    day = Day(louvre, staff, rng, end - HOURS, end, _turnstiles(louvre))
    tickets = _sell(ctx, louvre, slots, staff.cashier, rng)
    visits = [visit for ticket in tickets if (visit := _visit(day, ticket)) is not None]
    if tickets:
        _forged(day, tickets[0].code)
    _overrides(day)
    _incidents(day, visits)
    _play(ctx, day)
    _passages(day)
    _agents(day, now)


register_loader(
    DemoLoader(
        "access.gates",
        75,
        load_access,
        "Entry rules, and the last hours of a day at the entrances: scans, overrides, counts, agents",
    )
)
