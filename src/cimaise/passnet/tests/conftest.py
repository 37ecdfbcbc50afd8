"""A pass network: the operator (``pmp``) with its pass-operator persona, three products (2 days
in 48 hours, 4 days in 96 hours, 6 consecutive calendar days), four partner sites (Orsay of
institution B, the Louvre's Pyramide of institution A, the Orangerie and Versailles), each with
its API key; and the first scan's time ``T0`` (a Tuesday, 10:00 Paris)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client

from cimaise.core.models import Institution, Site
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.passnet.issuance import Issue, passes_issue
from cimaise.passnet.models import PartnerSite, Pass, PassProduct
from cimaise.passnet.network import key_issue
from cimaise.passnet.scans import Scan, ScanResult, pass_scan

PARIS = ZoneInfo("Europe/Paris")
T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
OPEN_EVERY_DAY = {str(day): ["09:00", "18:00"] for day in range(7)}
_nonces = itertools.count(1)


def nonce() -> str:
    return f"pn-{next(_nonces)}"


@dataclass
class Network:
    cast: Cast
    operator: Institution
    pass_operator: Persona
    products: dict[str, PassProduct]
    sites: dict[str, PartnerSite]
    keys: dict[str, str] = field(default_factory=dict)

    def issue(self, product: str = "PMP2", quantity: int = 1, **kw: str) -> list[Pass]:
        channel = kw.pop("channel", "web")
        issue = Issue(product=product, quantity=quantity, channel=channel, **kw)
        return passes_issue(actor=self.pass_operator.actor, issue=issue, now=T0 - dt.timedelta(days=3))

    def scan(
        self,
        site: str,
        code: str,
        at: dt.datetime,
        *,
        direction: str = "in",
        area: str = "",
        nonce_: str = "",
    ) -> ScanResult:
        scan = Scan(
            code=code, lane="L1", direction=direction, nonce=nonce_ or nonce(), scanned_at=at, area=area
        )
        return pass_scan(site=self.sites[site], scan=scan, who="test", now=at)

    def key_client(self, site: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.keys[site]}"})


SITES = [
    # code, name, institution ("a", "b" or a new one), lat, lon
    ("ORSAY", "Musée d'Orsay", "b", "48.859961", "2.326561"),
    ("LOUVRE-PYR", "Louvre, Pyramide", "a", "48.861147", "2.335803"),
    ("ORANGERIE", "Musée de l'Orangerie", "orangerie", "48.863788", "2.322672"),
    ("VERSAILLES", "Château de Versailles", "versailles", "48.804865", "2.120355"),
]


def _institution(cast: Cast, which: str) -> Institution:
    if which == "a":
        return cast.institution_a
    if which == "b":
        return cast.institution_b
    return Institution.objects.get_or_create(code=which, defaults={"name": which.title()})[0]


def make_network(cast: Cast) -> Network:
    operator = Institution.objects.create(
        code="pmp", name="Paris Museum Pass", kind=Institution.Kind.PASS_OPERATOR
    )
    office = Site.objects.create(institution=operator, code="PMP-HQ", name="Office")
    persona = make_persona("pass-operator-t", operator, [Role.PASS_OPERATOR], office)
    products = {
        "PMP2": PassProduct.objects.create(
            operator=operator, code="PMP2", name="2 days", days=2, validity_hours=48, price=Decimal("62.00")
        ),
        "PMP4": PassProduct.objects.create(
            operator=operator, code="PMP4", name="4 days", days=4, validity_hours=96, price=Decimal("77.00")
        ),
        "PMP6C": PassProduct.objects.create(
            operator=operator,
            code="PMP6C",
            name="6 calendar days",
            days=6,
            mode=PassProduct.Mode.CALENDAR,
            validity_hours=144,
            price=Decimal("92.00"),
        ),
    }
    network = Network(cast, operator, persona, products, {})
    for code, name, which, lat, lon in SITES:
        site = PartnerSite.objects.create(
            operator=operator,
            institution=_institution(cast, which),
            code=code,
            name=name,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            excluded_areas=["EXPO"],
        )
        site.products.set(products.values())
        network.sites[code] = site
        with transaction.atomic():
            network.keys[code] = key_issue(site, label=code, who="test", now=T0 - dt.timedelta(days=5)).raw
    return network


@pytest.fixture
def network(cast: Cast) -> Network:
    return make_network(cast)
