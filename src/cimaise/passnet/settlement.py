"""Monthly settlement between the operator and its partner sites.

Visits: a site's accepted entries (direction ``in``) whose time (``recorded_at``; for an offline
entry, when the agent decided) falls in the Paris calendar month. Formula (``SettlementRule``):

- ``pro_rata``: revenue = the prices of the passes issued in the month, less those refunded;
  costs = revenue × ``cost_rate`` (rounded half-up to the cent) + ``fixed_costs``, at most the
  revenue; distributable = revenue − costs, shared in proportion to visits;
- ``per_visit``: each site gets visits × ``per_visit_amount``; distributable is their sum.

Rounding (pro rata): each site's exact share ``D × v / V`` is cut down to the cent; the cents
left over (fewer than the number of sites) go one each to the sites with the largest cut-off
remainders, ties to the site with the smaller code ("largest remainder", Hamilton's method). So
the shares sum to the distributable revenue exactly, to the cent.

An issued statement is frozen: its lines are stored, with the last entry id it counted
(``last_entry``; taken under the ledger lock, and entry ids follow commit order, so no entry can
commit later with a smaller id). Entries of an issued month with a larger id (an agent's late
upload) are added to the next statement issued as ``correction`` lines, valued at that month's
amount per visit (distributable / visits, rounded half-up to the cent per line). No entry row is
written at issue: a month of a million entries is settled by a few GROUP BYs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append, ledger_lock
from cimaise.passnet.decide import PARIS
from cimaise.passnet.facts import SETTLEMENT_ISSUED, operator_draft
from cimaise.passnet.models import (
    PartnerSite,
    Pass,
    PassEntry,
    Settlement,
    SettlementLine,
    SettlementRule,
)
from cimaise.passnet.network import operator_of
from cimaise.passnet.roles import SETTLE, VIEW_SETTLEMENTS

CENT = Decimal("0.01")


def shares_split[K: Hashable](
    distributable: Decimal, visits: Mapping[K, int], order: Mapping[K, str] | None = None
) -> dict[K, Decimal]:
    """``distributable`` (a whole number of cents) shared pro rata to ``visits`` by largest
    remainder; ties go to the smaller ``order`` key (default: the key's text). Sums exactly."""
    total = sum(visits.values())
    if total == 0 or distributable == 0:
        return {key: Decimal("0.00") for key in visits}
    cents = int((distributable / CENT).to_integral_value())
    floors = {key: cents * v // total for key, v in visits.items()}
    remainders = {key: cents * v % total for key, v in visits.items()}
    left = cents - sum(floors.values())
    names = order or {key: str(key) for key in visits}
    ranked = sorted(visits, key=lambda key: (-remainders[key], names[key]))
    for key in ranked[:left]:
        floors[key] += 1
    return {key: Decimal(n) * CENT for key, n in floors.items()}


def month_parse(text: str) -> dt.date:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
    if match is None or not 1 <= int(match[2]) <= 12 or not 1970 <= int(match[1]) <= 9998:
        raise InvalidInput("month: YYYY-MM (1970 to 9998)", field="month")
    return dt.date(int(match[1]), int(match[2]), 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The Paris calendar month as aware start and end."""
    start = dt.datetime.combine(month.replace(day=1), dt.time(0), tzinfo=PARIS)
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, dt.datetime.combine(following, dt.time(0), tzinfo=PARIS)


@dataclass
class Line:
    site: PartnerSite
    kind: str
    for_month: dt.date
    visits: int
    amount: Decimal


@dataclass
class Statement:
    """A month's settlement, issued (frozen) or a draft computed now."""

    operator: Institution
    month: dt.date
    formula: str
    revenue: Decimal
    costs: Decimal
    distributable: Decimal
    visits: int
    currency: str = "EUR"
    issued_at: dt.datetime | None = None
    lines: list[Line] = field(default_factory=list)
    last_entry: int = 0

    @property
    def status(self) -> str:
        return "issued" if self.issued_at else "draft"

    @property
    def total_due(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


def rule_of(operator: Institution) -> SettlementRule:
    return SettlementRule.objects.get_or_create(operator=operator)[0]


def _entries(operator: Institution) -> Q:
    return Q(operator=operator, result=PassEntry.Result.ACCEPTED, direction="in")


def _ids(after: int, upto: int | None) -> Q:
    q = Q(id__gt=after)
    return q & Q(id__lte=upto) if upto is not None else q


def visits_of_month(
    operator: Institution, month: dt.date, *, after: int = 0, upto: int | None = None
) -> dict[int, int]:
    """Accepted entries per site id in the month with ids in (after, upto] (one GROUP BY)."""
    start, end = month_bounds(month)
    rows = (
        PassEntry.objects.filter(
            _entries(operator), _ids(after, upto), recorded_at__gte=start, recorded_at__lt=end
        )
        .values("site_id")
        .annotate(n=Count("id"))
    )
    return {row["site_id"]: row["n"] for row in rows}


def revenue_of_month(operator: Institution, month: dt.date) -> Decimal:
    start, end = month_bounds(month)
    total = (
        Pass.objects.filter(operator=operator, issued_at__gte=start, issued_at__lt=end)
        .exclude(revoked_reason=Pass.RevokeReason.REFUNDED)
        .aggregate(total=Sum("price"))["total"]
    )
    return (total or Decimal("0")).quantize(CENT)


def _corrections(
    operator: Institution, month: dt.date, sites: dict[int, PartnerSite], upto: int | None
) -> list[Line]:
    """Entries of earlier issued months that no statement counted yet: after both their month's
    ``last_entry`` and the latest statement issued before this one."""
    issued = list(Settlement.objects.filter(operator=operator).order_by("-last_entry"))
    latest = next((s.last_entry for s in issued if s.month != month), 0)
    lines = []
    for earlier in sorted(issued, key=lambda s: s.month):
        if earlier.month >= month or earlier.visits == 0:
            continue
        after = max(latest, earlier.last_entry)
        late = visits_of_month(operator, earlier.month, after=after, upto=upto)
        rate = earlier.distributable / earlier.visits
        for site_id, n in sorted(late.items(), key=lambda item: sites[item[0]].code):
            amount = (rate * n).quantize(CENT, ROUND_HALF_UP)
            lines.append(Line(sites[site_id], SettlementLine.Kind.CORRECTION, earlier.month, n, amount))
    return lines


def statement_compute(operator: Institution, month: dt.date, *, upto: int | None = None) -> Statement:
    """The month's statement as it would be issued now (counting entry ids up to ``upto``)."""
    rule = rule_of(operator)
    visits = visits_of_month(operator, month, upto=upto)
    sites = {s.pk: s for s in PartnerSite.objects.filter(operator=operator)}
    revenue = revenue_of_month(operator, month)
    total = sum(visits.values())
    if rule.formula == SettlementRule.Formula.PER_VISIT:
        amounts = {site_id: (rule.per_visit_amount * n).quantize(CENT) for site_id, n in visits.items()}
        distributable = sum(amounts.values(), Decimal("0.00"))
        costs = max(revenue - distributable, Decimal("0.00"))
    else:
        costs = min(revenue, (revenue * rule.cost_rate).quantize(CENT, ROUND_HALF_UP) + rule.fixed_costs)
        distributable = revenue - costs
        amounts = shares_split(distributable, visits, {k: sites[k].code for k in visits})
    statement = Statement(operator, month, rule.formula, revenue, costs, distributable, total)
    statement.lines = [
        Line(sites[k], SettlementLine.Kind.VISITS, month, visits[k], amounts[k])
        for k in sorted(visits, key=lambda k: sites[k].code)
    ]
    statement.lines += _corrections(operator, month, sites, upto)
    return statement


def _frozen(settlement: Settlement) -> Statement:
    statement = Statement(
        settlement.operator,
        settlement.month,
        settlement.formula,
        settlement.revenue,
        settlement.costs,
        settlement.distributable,
        settlement.visits,
        settlement.currency,
        settlement.issued_at,
    )
    statement.last_entry = settlement.last_entry
    rows = settlement.lines.select_related("site").order_by("kind", "site__code", "for_month")
    statement.lines = [Line(r.site, r.kind, r.for_month, r.visits, r.amount) for r in rows]
    return statement


def statement_for(operator: Institution, month: dt.date) -> Statement:
    """The issued statement of the month, else a draft."""
    issued = Settlement.objects.select_related("operator").filter(operator=operator, month=month).first()
    return _frozen(issued) if issued else statement_compute(operator, month)


def settlement_read(*, actor: Actor, month: str) -> Statement:
    """The month's statement for the actor: the operator sees every line, a partner institution
    only its own sites' lines (the network totals are shared)."""
    require_permission(actor, VIEW_SETTLEMENTS)
    institution = own_institution(actor)
    when = month_parse(month)
    if institution.kind == Institution.Kind.PASS_OPERATOR:
        return statement_for(institution, when)
    operators = PartnerSite.objects.filter(institution=institution).values_list("operator_id", flat=True)
    operator = Institution.objects.filter(pk__in=operators).first()
    if operator is None:
        raise InvalidInput("your institution has no site in a pass network", field="month")
    statement = statement_for(operator, when)
    statement.lines = [line for line in statement.lines if line.site.institution_id == institution.pk]
    return statement


def settlement_issue(*, actor: Actor, month: str, now: dt.datetime | None = None) -> Statement:
    """Issue and freeze the month's statement (once, after the month has ended)."""
    require_permission(actor, SETTLE)
    operator = operator_of(actor)
    when = month_parse(month)
    now = now or timezone.now()
    if now < month_bounds(when)[1]:
        raise Conflict("month: not over yet", code="month_open", field="month")
    return _issue(operator, when, actor.label, now)


@transaction.atomic(durable=True)
def _issue(operator: Institution, month: dt.date, who: str, now: dt.datetime) -> Statement:
    ledger_lock()  # no entry is being inserted: every id up to the last is committed
    if Settlement.objects.filter(operator=operator, month=month).exists():
        raise Conflict("month: already issued", code="already_issued", field="month")
    # the corrections follow entry ids from the latest statement on: an earlier month issued
    # after a later one would leave the later month's late entries uncounted for ever
    if Settlement.objects.filter(operator=operator, month__gt=month).exists():
        raise Conflict("month: a later month is issued already", code="later_issued", field="month")
    upto = PassEntry.objects.aggregate(last=Max("id"))["last"] or 0
    statement = statement_compute(operator, month, upto=upto)
    statement.last_entry = upto
    settlement = Settlement.objects.create(
        operator=operator,
        month=month,
        issued_at=now,
        issued_by=who,
        formula=statement.formula,
        revenue=statement.revenue,
        costs=statement.costs,
        distributable=statement.distributable,
        visits=statement.visits,
        last_entry=upto,
    )
    SettlementLine.objects.bulk_create(
        SettlementLine(
            settlement=settlement,
            site=line.site,
            kind=line.kind,
            for_month=line.for_month,
            visits=line.visits,
            amount=line.amount,
        )
        for line in statement.lines
    )
    facts_append([operator_draft(operator, SETTLEMENT_ISSUED.name, _fact_body(statement), who, now)], now=now)
    statement.issued_at, statement.last_entry = now, upto
    return statement


def _fact_body(statement: Statement) -> dict[str, object]:
    return {
        "month": f"{statement.month:%Y-%m}",
        "formula": statement.formula,
        "revenue": str(statement.revenue),
        "costs": str(statement.costs),
        "distributable": str(statement.distributable),
        "visits": statement.visits,
        "last_entry": statement.last_entry,
        "lines": [
            {
                "site": line.site.code,
                "kind": line.kind,
                "month": f"{line.for_month:%Y-%m}",
                "visits": line.visits,
                "amount": str(line.amount),
            }
            for line in statement.lines
        ],
    }
