"""Shortcuts of the missions tests: a validated order for the crew's agent."""

from __future__ import annotations

from typing import Any

from cimaise.missions import orders
from cimaise.missions.models import MissionOrder
from cimaise.missions.tests.conftest import Crew, trip


def validated(crew: Crew, travellers: list[str] | None = None, **changes: Any) -> MissionOrder:
    order = orders.order_file(
        actor=crew.agent.actor, request=trip(travellers or [crew.agent.username], **changes)
    )
    orders.order_approve(actor=crew.approver.actor, code=order.code, comment="ok")
    return orders.order_approve(actor=crew.budget.actor, code=order.code, comment="ok")
