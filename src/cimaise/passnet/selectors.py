"""Reads for the pass network's pages: the operator's network view and a partner's portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound, PermissionDenied
from cimaise.core.models import Institution
from cimaise.passnet.decide import PARIS
from cimaise.passnet.models import PartnerSite, Pass, PassEntry, Settlement
from cimaise.passnet.network import operator_of
from cimaise.passnet.roles import VIEW_ENTRIES, VIEW_PASSES, VIEW_SETTLEMENTS


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)


def access_operator(actor: Actor) -> Institution:
    """The operator whose network the actor runs."""
    require_permission(actor, VIEW_PASSES)
    return operator_of(actor)


def access_partner_sites(actor: Actor) -> list[PartnerSite]:
    """The network sites of the actor's institution (a partner's portal)."""
    require_permission(actor, VIEW_ENTRIES)
    institution = own_institution(actor)
    sites = list(
        PartnerSite.objects.select_related("operator").filter(institution=institution).order_by("code")
    )
    if not sites:
        raise PermissionDenied("your institution has no site in a pass network")
    return sites


def access_statement_site(actor: Actor, code: str) -> PartnerSite:
    """A site whose statement the actor may read: any site of the operator's network, or a
    site of the partner's own institution."""
    require_permission(actor, VIEW_SETTLEMENTS)
    institution = own_institution(actor)
    query = PartnerSite.objects.select_related("operator", "institution").filter(code=code)
    if institution.kind == Institution.Kind.PASS_OPERATOR:
        site = query.filter(operator=institution).first()
    else:
        site = query.filter(institution=institution).first()
    if site is None:
        raise NotFound(f"site: no site {code!r}", field="site")
    return site


@dataclass(frozen=True)
class SiteDay:
    site: PartnerSite
    accepted: int
    rejected: int


def network_day(operator: Institution, day: dt.date) -> list[SiteDay]:
    """Each site's accepted and rejected scans of a Paris day (sites with none included)."""
    start, end = day_bounds(day)
    counts = (
        PassEntry.objects.filter(
            operator=operator, recorded_at__gte=start, recorded_at__lt=end, direction="in"
        )
        .values("site_id")
        .annotate(
            accepted=Count("id", filter=Q(result=PassEntry.Result.ACCEPTED)),
            rejected=Count("id", filter=Q(result=PassEntry.Result.REJECTED)),
        )
    )
    by_site: dict[int, tuple[int, int]] = {
        row["site_id"]: (row["accepted"], row["rejected"]) for row in counts
    }
    rows = [
        SiteDay(site, *by_site.get(site.pk, (0, 0)))
        for site in PartnerSite.objects.filter(operator=operator).order_by("code")
    ]
    return sorted(rows, key=lambda r: (-r.accepted, r.site.code))


def sales_of_month(operator: Institution, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    rows: Any = (
        Pass.objects.filter(operator=operator, issued_at__gte=start, issued_at__lt=end)
        .values("product__name", "channel")
        .annotate(n=Count("id"), revenue=Sum("price"))
        .order_by("product__name", "channel")
    )
    return list(rows)


def settlements_of(operator: Institution) -> list[Settlement]:
    return list(Settlement.objects.filter(operator=operator).order_by("-month")[:24])


def site_entries(site: PartnerSite, *, result: str, limit: int = 50) -> list[PassEntry]:
    return list(
        PassEntry.objects.filter(site=site, result=result)
        .select_related("pass_ref__product")
        .order_by("-id")[:limit]
    )


def pass_by_code_id(code_id: str) -> Pass:
    """A pass by its id, for its holder's page (the id is 128 random bits: a bearer secret)."""
    found = Pass.objects.select_related("product", "operator").filter(code_id=code_id).first()
    if found is None:
        raise NotFound("no such pass", field="pass")
    return found
