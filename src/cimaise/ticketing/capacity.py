"""Opening days, slot generation and capacity edits (the ticketing manager's side)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cimaise.access.models import Entrance
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.ticketing import facts, holds
from cimaise.ticketing.locking import lock_quotas
from cimaise.ticketing.models import OpeningException, OpeningHours, Product, Quota, QuotaKey, Slot

PARIS = ZoneInfo("Europe/Paris")
MAX_DAYS = 400
MAX_CAPACITY = 1_000_000
YEARS = (2000, 2100)


def check_day(day: dt.date, field: str) -> None:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise InvalidInput(f"choose a day between {YEARS[0]} and {YEARS[1]}", field=field)


@dataclass(frozen=True)
class OpeningDay:
    day: dt.date
    opens: dt.time
    last_entry: dt.time


def opening_days(institution: Institution, first: dt.date, last: dt.date) -> list[OpeningDay]:
    """The days the institution opens between ``first`` and ``last``, with their hours: the weekly
    pattern, changed by the exceptions (closed days, late openings)."""
    weekly = {h.weekday: h for h in OpeningHours.objects.filter(institution=institution)}
    exceptions = {
        e.date: e for e in OpeningException.objects.filter(institution=institution, date__range=(first, last))
    }
    days: list[OpeningDay] = []
    for day in _days(first, last):
        exception = exceptions.get(day)
        if exception is not None:
            if not exception.closed and exception.opens and exception.last_entry:
                days.append(OpeningDay(day, exception.opens, exception.last_entry))
            continue
        hours = weekly.get(day.weekday())
        if hours is not None:
            days.append(OpeningDay(day, hours.opens, hours.last_entry))
    return days


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def slot_starts(day: OpeningDay, minutes: int = 30) -> list[dt.datetime]:
    """The starts of a day's slots, every ``minutes`` from opening to the last entry."""
    start = dt.datetime.combine(day.day, day.opens, tzinfo=PARIS)
    last = dt.datetime.combine(day.day, day.last_entry, tzinfo=PARIS)
    starts = []
    while start <= last:
        starts.append(start)
        start += dt.timedelta(minutes=minutes)
    return starts


@dataclass(frozen=True)
class SlotPlan:
    """Which slots to open: a product at entrances over days, with the capacities of each slot,
    of each entrance per half-hour (shared by products), and of the exhibition per half-hour
    (shared by its products; None for a museum entry)."""

    product: str
    entrances: Sequence[str]
    first_day: dt.date
    last_day: dt.date
    slot_capacity: int
    entrance_capacity: int
    exhibition_capacity: int | None = None
    minutes: int = 30


@dataclass(frozen=True)
class Generated:
    created: int
    existing: int


def slots_generate(*, actor: Actor, plan: SlotPlan, now: dt.datetime | None = None) -> Generated:
    institution = own_institution(actor)
    require_permission(actor, "ticketing.add_slot")
    return slots_generate_unchecked(institution=institution, plan=plan, who=actor.label, now=now)


def _check_plan(institution: Institution, plan: SlotPlan) -> tuple[Product, list[Entrance]]:
    product = (
        Product.objects.filter(institution=institution, code=plan.product)
        .select_related("exhibition")
        .first()
    )
    if product is None:
        raise InvalidInput(f"no product {plan.product!r}", field="product")
    entrances = list(Entrance.objects.filter(institution=institution, code__in=plan.entrances, active=True))
    missing = sorted(set(plan.entrances) - {e.code for e in entrances})
    if missing or not entrances:
        raise InvalidInput(f"no active entrance {', '.join(missing) or '(none given)'}", field="entrances")
    check_day(plan.first_day, "first_day")
    check_day(plan.last_day, "last_day")
    if plan.last_day < plan.first_day or (plan.last_day - plan.first_day).days >= MAX_DAYS:
        raise InvalidInput(f"the last day must be within {MAX_DAYS} days after the first", field="last_day")
    for name in ("slot_capacity", "entrance_capacity", "exhibition_capacity"):
        value = getattr(plan, name)
        if value is not None and not 0 <= value <= MAX_CAPACITY:
            raise InvalidInput(f"a capacity is between 0 and {MAX_CAPACITY}", field=name)
    if product.exhibition is not None and plan.exhibition_capacity is None:
        raise InvalidInput(
            "an exhibition product needs the exhibition's capacity", field="exhibition_capacity"
        )
    if plan.minutes not in (15, 20, 30, 60):
        raise InvalidInput("slots last 15, 20, 30 or 60 minutes", field="minutes")
    return product, entrances


def slots_generate_unchecked(
    *, institution: Institution, plan: SlotPlan, who: str, now: dt.datetime | None = None
) -> Generated:
    """Open the slots of a plan; slots that exist already are left as they are (with their
    capacities), so running it twice changes nothing."""
    product, entrances = _check_plan(institution, plan)
    first, last = plan.first_day, plan.last_day
    if product.exhibition is not None:
        first, last = max(first, product.exhibition.opens_on), min(last, product.exhibition.closes_on)
    starts = [s for day in opening_days(institution, first, last) for s in slot_starts(day, plan.minutes)]
    with transaction.atomic(durable=True):
        created, existing = _create_slots(institution, product, entrances, starts, plan)
        body = {
            "product": product.code,
            "entrances": sorted(e.code for e in entrances),
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "slots_created": created,
            "slot_capacity": plan.slot_capacity,
            "entrance_capacity": plan.entrance_capacity,
            "exhibition_capacity": plan.exhibition_capacity,
        }
        facts_append([facts.draft(institution, facts.SLOTS_GENERATED.name, body, who)], now=now)
    return Generated(created=created, existing=existing)


def _create_slots(
    institution: Institution,
    product: Product,
    entrances: list[Entrance],
    starts: list[dt.datetime],
    plan: SlotPlan,
) -> tuple[int, int]:
    length = dt.timedelta(minutes=plan.minutes)
    wanted: dict[str, tuple[str, dt.datetime, int]] = {}
    slots: list[tuple[Entrance, dt.datetime, list[str]]] = []
    for entrance in entrances:
        for start in starts:
            iso = start.isoformat()
            own = QuotaKey.slot(product, entrance, iso)
            keys = [own, QuotaKey.entrance(entrance, iso)]
            wanted[own] = (Quota.Kind.SLOT, start, plan.slot_capacity)
            wanted[keys[1]] = (Quota.Kind.ENTRANCE, start, plan.entrance_capacity)
            if product.exhibition is not None and plan.exhibition_capacity is not None:
                keys.append(QuotaKey.exhibition(product.exhibition, iso))
                wanted[keys[2]] = (Quota.Kind.EXHIBITION, start, plan.exhibition_capacity)
            slots.append((entrance, start, keys))
    quotas = _ensure_quotas(institution, wanted, length)
    existing = set(
        Slot.objects.filter(product=product, starts_at__in=starts, entrance__in=entrances).values_list(
            "entrance_id", "starts_at"
        )
    )
    todo = [(e, s, k) for e, s, k in slots if (e.pk, s) not in existing]
    new = Slot.objects.bulk_create(
        [
            Slot(
                institution=institution,
                product=product,
                entrance=e,
                starts_at=s,
                ends_at=s + length,
                own_quota=quotas[k[0]],
            )
            for e, s, k in todo
        ],
        batch_size=2000,
    )
    links = [
        Slot.quotas.through(slot_id=slot.pk, quota_id=quotas[key].pk)
        for slot, (_, _, keys) in zip(new, todo, strict=True)
        for key in keys
    ]
    Slot.quotas.through.objects.bulk_create(links, batch_size=5000)
    return len(new), len(slots) - len(new)


def _ensure_quotas(
    institution: Institution, wanted: dict[str, tuple[str, dt.datetime, int]], length: dt.timedelta
) -> dict[str, Quota]:
    found: dict[str, Quota] = {}
    keys = list(wanted)
    for i in range(0, len(keys), 2000):
        found.update(
            (q.key, q) for q in Quota.objects.filter(institution=institution, key__in=keys[i : i + 2000])
        )
    missing = [
        Quota(
            institution=institution,
            kind=kind,
            key=key,
            starts_at=start,
            ends_at=start + length,
            capacity=capacity,
        )
        for key, (kind, start, capacity) in wanted.items()
        if key not in found
    ]
    for quota in Quota.objects.bulk_create(missing, batch_size=2000):
        found[quota.key] = quota
    if any(q.pk is None for q in found.values()):  # backends that do not return ids on bulk insert
        found = {q.key: q for q in Quota.objects.filter(institution=institution, key__in=keys)}
    return found


# --- capacity edits ------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityEdit:
    """Which quotas to change, and to what: a kind over a range of days, optionally one entrance,
    one product (its slots' own quotas) and a time range of day."""

    kind: str
    first_day: dt.date
    last_day: dt.date
    capacity: int
    entrance: str | None = None
    product: str | None = None
    from_time: dt.time | None = None
    to_time: dt.time | None = None


def capacity_set(*, actor: Actor, edit: CapacityEdit, now: dt.datetime | None = None) -> int:
    """Set the capacity of every quota the edit selects, in one transaction: refused as a whole,
    naming a quota, if one would end below what is already taken."""
    institution = own_institution(actor)
    require_permission(actor, "ticketing.change_quota")
    if not 0 <= edit.capacity <= MAX_CAPACITY:
        raise InvalidInput(f"a capacity is between 0 and {MAX_CAPACITY}", field="capacity")
    check_day(edit.first_day, "first_day")
    check_day(edit.last_day, "last_day")
    if edit.kind not in Quota.Kind.values:
        raise InvalidInput(f"kind must be one of {', '.join(Quota.Kind.values)}", field="kind")
    with transaction.atomic(durable=True):
        ids = list(capacity_selected(institution, edit).values_list("pk", flat=True))
        quotas = lock_quotas(ids)
        reclaimed = holds.reclaim(
            quotas, now or timezone.now(), stream=facts.stream(institution), who=actor.label
        )
        too_small = [q for q in quotas if q.taken > edit.capacity]
        if too_small:
            q = too_small[0]
            raise InvalidInput(
                f"{q.key} has {q.taken} places taken already, more than {edit.capacity}",
                field="capacity",
                code="below_taken",
                details={"field": "capacity", "quota": q.key, "taken": q.taken},
            )
        changed = [
            {"quota": q.key, "old": q.capacity, "new": edit.capacity}
            for q in quotas
            if q.capacity != edit.capacity
        ]
        Quota.objects.filter(pk__in=[q.pk for q in quotas]).update(capacity=edit.capacity)
        drafts = list(reclaimed)
        if changed:
            body = {"kind": edit.kind, "capacity": edit.capacity, "quotas": changed}
            drafts.append(facts.draft(institution, facts.CAPACITY_CHANGED.name, body, actor.label))
        facts_append(drafts, now=now)
    return len(changed)


def capacity_selected(institution: Institution, edit: CapacityEdit) -> QuerySet[Quota]:
    """The quotas an edit would change (what its preview counts)."""
    start = dt.datetime.combine(edit.first_day, dt.time.min, tzinfo=PARIS)
    end = dt.datetime.combine(edit.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=PARIS)
    quotas = Quota.objects.filter(
        institution=institution, kind=edit.kind, starts_at__gte=start, starts_at__lt=end
    )
    if edit.entrance:
        quotas = quotas.filter(slots__entrance__code=edit.entrance)
    if edit.product:
        quotas = quotas.filter(slots__product__code=edit.product)
    if edit.from_time or edit.to_time:
        local = [
            q for q in quotas.only("pk", "starts_at") if _within(q.starts_at, edit.from_time, edit.to_time)
        ]
        quotas = Quota.objects.filter(pk__in=[q.pk for q in local])
    return quotas.distinct()


def _within(when: dt.datetime, start: dt.time | None, end: dt.time | None) -> bool:
    local = timezone.localtime(when, PARIS).time()
    return (start is None or local >= start) and (end is None or local < end)


def slots_close(
    *, actor: Actor, slot_ids: Sequence[int], closed: bool, reason: str = "", now: dt.datetime | None = None
) -> int:
    """Close slots to sale (or open them again). Places already sold stay sold."""
    institution = own_institution(actor)
    require_permission(actor, "ticketing.change_slot")
    with transaction.atomic(durable=True):
        slots = Slot.objects.filter(institution=institution, pk__in=slot_ids).exclude(closed=closed)
        codes = [str(s) for s in slots.select_related("product", "entrance")]
        count = slots.update(closed=closed)
        if count:
            body = {"slots": codes, "closed": closed, "reason": reason}
            facts_append([facts.draft(institution, facts.SLOTS_CLOSED.name, body, actor.label)], now=now)
    return count
