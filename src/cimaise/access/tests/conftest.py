"""A museum entrance with two lanes, a second entrance, and a paid order of two tickets in the
slot of 24 October 2019, 9:00 (``T0``)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from django.db import transaction

from cimaise.access.models import Entrance, Lane
from cimaise.core.tests.personas import Cast
from cimaise.ticketing.models import Order, Ticket
from cimaise.ticketing.tests.ticket_factories import T0, Catalogue, make_catalogue, make_paid_order, make_slot
from cimaise.ticketing.tickets import tickets_issue

_nonces = itertools.count(1)


def nonce() -> str:
    return f"n-{next(_nonces)}"


@dataclass
class Gate:
    catalogue: Catalogue
    pyramide: Entrance
    richelieu: Entrance
    lane_1: Lane
    lane_2: Lane
    lane_ric: Lane
    order: Order
    tickets: list[Ticket]

    @property
    def ticket(self) -> Ticket:
        return self.tickets[0]


def make_gate(cast: Cast, starts_at: dt.datetime = T0) -> Gate:
    catalogue = make_catalogue(cast.institution_a, cast.site_a)
    pyramide = catalogue.entrance
    richelieu = Entrance.objects.create(
        institution=cast.institution_a, site=cast.site_a, code="RIC", name="Richelieu"
    )
    lane_1 = Lane.objects.create(entrance=pyramide, code="L1")
    lane_2 = Lane.objects.create(entrance=pyramide, code="L2", kind=Lane.Kind.HANDHELD)
    lane_ric = Lane.objects.create(entrance=richelieu, code="R1")
    order = make_paid_order(catalogue, make_slot(catalogue, starts_at), lines=[("full", 2)])
    with transaction.atomic():
        tickets = tickets_issue(order=order, actor="system:test", now=starts_at - dt.timedelta(days=20))
    return Gate(catalogue, pyramide, richelieu, lane_1, lane_2, lane_ric, order, tickets)


@pytest.fixture
def gate(cast: Cast) -> Gate:
    return make_gate(cast)
