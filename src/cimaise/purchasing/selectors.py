"""Reads of the purchasing register: the contracts, the coverage of every need (gaps first), the
renewals coming up and the yearly indicators."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cimaise.core.models import Institution
from cimaise.purchasing.models import Contract, Need, RenewalAlert, Vehicle
from cimaise.purchasing.rules import ALERT_MONTHS, alert_dates, renewal_date

COVERED = "covered"
RENEWAL = "renewal"
GAP = "gap"
STATUS_ORDER = {GAP: 0, RENEWAL: 1, COVERED: 2}


def today() -> dt.date:
    return timezone.localdate()


def contracts_of(institution: Institution) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(institution=institution)
        .select_related("vehicle", "parent")
        .prefetch_related("holders", "needs", "renewal_alerts")
    )


def contract_by_reference(institution: Institution, reference: str) -> Contract | None:
    return contracts_of(institution).filter(reference=reference).first()


def needs_of(institution: Institution) -> QuerySet[Need]:
    return Need.objects.filter(institution=institution).select_related("site")


def vehicles_of(institution: Institution) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(institution=institution).select_related("partner")


def contract_renewal(contract: Contract) -> dt.date:
    return renewal_date(contract.end_on, contract.renewal_on)


def in_force(contract: Contract, on: dt.date) -> bool:
    return contract.start_on <= on <= contract.end_on


@dataclass(frozen=True)
class Coverage:
    """How one need is covered on a day: by which contract (and so vehicle), or not at all.
    ``status`` is ``covered``, ``renewal`` (its renewal date is within six months) or ``gap``;
    ``since`` is when the last contract ended, ``starts`` when the next one begins."""

    need: Need
    status: str
    contract: Contract | None = None
    since: dt.date | None = None
    starts: dt.date | None = None

    @property
    def vehicle(self) -> Vehicle | None:
        return self.contract.vehicle if self.contract else None

    @property
    def renewal_on(self) -> dt.date | None:
        return contract_renewal(self.contract) if self.contract else None


def need_coverage(need: Need, contracts: list[Contract], on: dt.date) -> Coverage:
    """The contract in force that runs the longest covers the need; none in force is a gap."""
    current = [c for c in contracts if in_force(c, on)]
    if current:
        best = max(current, key=lambda c: (c.end_on, c.reference))
        soon = alert_dates(contract_renewal(best))[max(ALERT_MONTHS)] <= on
        return Coverage(need, RENEWAL if soon else COVERED, best)
    ended = [c.end_on for c in contracts if c.end_on < on]
    if ended and not need.recurring:  # a one-off need bought once stays covered
        return Coverage(need, COVERED, max(contracts, key=lambda c: c.end_on))
    coming = [c.start_on for c in contracts if c.start_on > on]
    return Coverage(need, GAP, since=max(ended, default=None), starts=min(coming, default=None))


def coverage(institution: Institution, *, on: dt.date | None = None) -> list[Coverage]:
    """Every need of the institution with its coverage on ``on`` (today): gaps first."""
    day = on or today()
    contracts = Prefetch("contracts", queryset=Contract.objects.select_related("vehicle"))
    rows = [
        need_coverage(need, list(need.contracts.all()), day)
        for need in needs_of(institution).prefetch_related(contracts)
    ]
    return sorted(rows, key=lambda row: (STATUS_ORDER[row.status], row.need.code))


@dataclass(frozen=True)
class Renewal:
    """A contract whose renewal date is near: when each alert is (or was) due, which went out."""

    contract: Contract
    renewal_on: dt.date
    due: dict[int, dt.date]
    sent: frozenset[int]

    @property
    def days_left(self) -> int:
        return (self.renewal_on - today()).days


def renewals_ahead(institution: Institution, *, on: dt.date | None = None) -> list[Renewal]:
    """Contracts in force whose renewal date is ``on`` or later and whose first alert (six months
    ahead) is due by then, soonest first."""
    day = on or today()
    found = []
    for contract in contracts_of(institution).filter(end_on__gte=day):
        renewal = contract_renewal(contract)
        due = alert_dates(renewal)
        if renewal >= day and due[max(ALERT_MONTHS)] <= day:
            sent = frozenset(alert.months for alert in contract.renewal_alerts.all())
            found.append(Renewal(contract, renewal, due, sent))
    return sorted(found, key=lambda r: (r.renewal_on, r.contract.reference))


def alerts_sent(institution: Institution) -> QuerySet[RenewalAlert]:
    return RenewalAlert.objects.filter(contract__institution=institution).select_related("contract")


@dataclass(frozen=True)
class YearIndicators:
    year: int
    launched: int
    notified: int
    joined: int


def indicators(institution: Institution) -> list[YearIndicators]:
    """Per year: procedures launched, contracts notified, groupings joined (every year from the
    first with a figure to the last)."""
    launched = Counter(
        d.year
        for d in Contract.objects.filter(institution=institution).values_list("launched_on", flat=True)
        if d
    )
    notified = Counter(
        d.year
        for d in Contract.objects.filter(institution=institution).values_list("notified_on", flat=True)
        if d
    )
    joined = Counter(
        d.year
        for d in vehicles_of(institution)
        .filter(kind__in=Vehicle.GROUPINGS)
        .values_list("joined_on", flat=True)
        if d
    )
    years = set(launched) | set(notified) | set(joined)
    if not years:
        return []
    return [
        YearIndicators(year, launched[year], notified[year], joined[year])
        for year in range(min(years), max(years) + 1)
    ]
