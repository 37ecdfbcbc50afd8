"""The demo's pass network: the Paris Museum Pass (``pmp``) with three products, about sixty
partner sites with their locations and opening hours, passes sold on every channel (a reseller
batch among them, later withdrawn), a month of scans played through the real services (the
previous calendar month, so that it can be settled), a few frauds for the network view
(impossible travel, repeated use, a withdrawn batch's passes), the month's settlement issued,
and a few scans today. Each site's API key is printed nowhere: the operator rotates one to use it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cimaise.core.actors import Actor, actor_for
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.models import Institution
from cimaise.passnet.decide import PARIS
from cimaise.passnet.demo_sites import SITES
from cimaise.passnet.issuance import Issue, batch_withdraw, passes_issue
from cimaise.passnet.models import PartnerSite, Pass, PassProduct, SettlementRule
from cimaise.passnet.network import key_issue
from cimaise.passnet.scans import Scan, pass_scan
from cimaise.passnet.settlement import settlement_issue

SEED = 2004  # the Paris Museum Pass's scheme dates back decades; any fixed seed will do
PASSES = {"small": 240, "full": 1500}
HOURS = {str(day): ["09:30", "18:00"] for day in range(7) if day != 1}  # closed on Tuesdays
PRODUCTS = [
    ("PMP2", "Paris Museum Pass 2 jours", 2, "hours", 48, "62.00"),
    ("PMP4", "Paris Museum Pass 4 jours", 4, "hours", 96, "77.00"),
    ("PMP6", "Paris Museum Pass 6 jours", 6, "calendar", 144, "92.00"),
]


def _operator_actor() -> Actor:
    from django.contrib.auth.models import User

    actor = actor_for(User.objects.get(username="pass-operator"))
    assert actor is not None  # noqa: S101  (the core loader made it)
    return actor


def _sites(operator: Institution, products: list[PassProduct], now: dt.datetime) -> list[PartnerSite]:
    sites = []
    for code, name, lat, lon, institution_code in SITES:
        institution = Institution.objects.filter(code=institution_code or code.lower()).first()
        if institution is None:
            institution = Institution.objects.create(
                code=code.lower(), name=name, kind=Institution.Kind.MUSEUM, city="Paris"
            )
        site = PartnerSite.objects.create(
            operator=operator,
            institution=institution,
            code=code,
            name=name,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            opening_hours=HOURS,
            excluded_areas=["EXPO-TEMP"],
            entries_per_pass=2 if code in ("VERSAILLES", "LOUVRE") else 1,
            entrance_code="PYR" if code == "LOUVRE" else "",
        )
        site.products.set(products)
        with transaction.atomic():
            key_issue(site, label=f"{code} gates", who="system:demo", now=now)
        sites.append(site)
    return sites


def _visit(site: PartnerSite, code: str, at: dt.datetime, n: int) -> str:
    scan = Scan(code=code, lane=f"L{n % 3 + 1}", direction="in", nonce=f"demo-pn-{n}", scanned_at=at)
    return pass_scan(site=site, scan=scan, who="system:demo", now=at).reason


def _month(rng: random.Random, sites: list[PartnerSite], passes: list[Pass], start: dt.datetime) -> int:
    """Each pass holder visits 2–7 sites over their days, from 10:00 to 17:00 Paris time."""
    n = 0
    weights = [8 if s.code in ("LOUVRE", "ORSAY", "VERSAILLES", "ARC", "STE-CHAPELLE") else 1 for s in sites]
    for p in passes:
        first = start + dt.timedelta(days=rng.randrange(0, 26), hours=10, minutes=rng.randrange(0, 300))
        for visit in range(rng.randint(2, 7)):
            site = rng.choices(sites, weights)[0]
            at = first + dt.timedelta(hours=visit * rng.choice((2, 3, 20)))
            local = at.astimezone(PARIS)
            if local.hour >= 17:
                at = at + dt.timedelta(hours=16)
            _visit(site, p.code, at, n)
            n += 1
    return n


def _frauds(sites: dict[str, PartnerSite], passes: list[Pass], when: dt.datetime, n: int) -> None:
    """A pass at Orsay then Versailles 20 minutes later, one handed back at the Arc, a batch's."""
    _visit(sites["ORSAY"], passes[0].code, when, n)
    _visit(sites["VERSAILLES"], passes[0].code, when + dt.timedelta(minutes=20), n + 1)
    for k in range(3):
        _visit(sites["ARC"], passes[1].code, when + dt.timedelta(minutes=5 * k), n + 2 + k)


def _last_open_morning(now: dt.datetime) -> dt.datetime:
    """11:00 Paris on the last day before today that the sites open (they close on Tuesdays)."""
    day = now.astimezone(PARIS).date() - dt.timedelta(days=1)
    if day.weekday() == 1:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11), tzinfo=PARIS)


def load_passnet(ctx: DemoContext) -> None:
    """The pass network (see the module)."""
    operator = Institution.objects.get(code="pmp")
    rng = random.Random(SEED)  # noqa: S311  (demo data, not secrets)
    now = timezone.now()
    this_month = now.astimezone(PARIS).date().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(last_month, dt.time(0), tzinfo=PARIS)
    products = [
        PassProduct.objects.create(
            operator=operator,
            code=c,
            name=name,
            days=days,
            mode=mode,
            validity_hours=hours,
            price=Decimal(price),
        )
        for c, name, days, mode, hours, price in PRODUCTS
    ]
    SettlementRule.objects.create(operator=operator, formula="pro_rata", cost_rate=Decimal("0.18"))
    sites = _sites(operator, products, start - dt.timedelta(days=30))
    actor = _operator_actor()
    count = PASSES[ctx.scale]
    sold: list[Pass] = []
    for i, channel in enumerate(("web", "desk", "partner", "reseller")):
        issue = Issue(
            product=PRODUCTS[i % 3][0],
            quantity=count // 4,
            channel=channel,
            batch="RES-2026-A" if channel == "reseller" else "",
            reseller="Voyages Lumière" if channel == "reseller" else "",
        )
        sold += passes_issue(actor=actor, issue=issue, now=start + dt.timedelta(days=i))
    rng.shuffle(sold)
    month_passes, today_passes = sold[: count * 3 // 4], sold[count * 3 // 4 :]
    n = _month(rng, sites, month_passes, start)
    settlement_issue(actor=actor, month=f"{last_month:%Y-%m}", now=now)
    by_code = {s.code: s for s in sites}
    when = _last_open_morning(now)
    _frauds(by_code, today_passes, when - dt.timedelta(hours=1), n)
    batch = [p for p in today_passes if p.batch_id][:3]
    batch_withdraw(
        actor=actor, batch="RES-2026-A", reason="reseller's invoice unpaid", now=when - dt.timedelta(hours=1)
    )
    for k, p in enumerate(batch):
        _visit(by_code["LOUVRE"], p.code, when - dt.timedelta(minutes=30 - k), n + 10 + k)


register_loader(
    DemoLoader(
        "passnet.network",
        80,
        load_passnet,
        "The pass network: ~60 partner sites, passes sold, a month of scans and its settlement, frauds",
    )
)
