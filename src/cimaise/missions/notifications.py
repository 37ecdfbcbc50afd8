"""E-mails of decisions on mission orders: the agent (and the other travellers) hear of every
approval and refusal, and the next validator hears that an order waits for them. Sent by a task
enqueued once the deciding transaction commits, in each recipient's language."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation

from cimaise.core.models import Person
from cimaise.core.roles import Role
from cimaise.missions.models import MissionOrder, OrderStep

TEMPLATE = "missions/emails/decision.txt"


def decision_enqueue(order_id: int, kind: str) -> None:
    """Send the e-mails of this step once the caller's transaction commits."""
    transaction.on_commit(partial(decision_send.enqueue, order_id, kind))


@task
def decision_send(order_id: int, kind: str) -> int:
    """E-mail a step of an order to whoever it concerns; how many messages were sent."""
    return decision_deliver(order_id=order_id, kind=kind)


def _validators(order: MissionOrder, kind: str) -> list[Person]:
    """Who decides next: the agent's line manager (or every approver), then the budget managers."""
    if kind == OrderStep.Kind.SUBMITTED:
        if order.agent.line_manager is not None:
            return [order.agent.line_manager]
        role = Role.APPROVER
    elif kind == OrderStep.Kind.MANAGER_APPROVED:
        role = Role.BUDGET_MANAGER
    else:
        return []
    people = Person.objects.filter(institution=order.institution_id, user__groups__name=role.value)
    return list(people.select_related("user"))


def _recipients(order: MissionOrder, kind: str) -> list[Person]:
    concerned = [order.agent, *order.travellers.select_related("user")]
    if kind == OrderStep.Kind.SUBMITTED:
        concerned = []
    people = {p.pk: p for p in [*concerned, *_validators(order, kind)]}
    return [p for p in people.values() if p.user.email]


def decision_deliver(*, order_id: int, kind: str) -> int:
    order = MissionOrder.objects.select_related(
        "agent__user", "agent__line_manager__user", "destination"
    ).get(pk=order_id)
    step = order.steps.filter(kind=kind).select_related("by__user").last()
    sent = 0
    for person in _recipients(order, kind):
        sent += _send(person.user, person.preferred_language, order, step)
    return sent


def _send(user: User, language: str, order: MissionOrder, step: OrderStep | None) -> int:
    with translation.override(language):
        context = {"user": user, "order": order, "step": step, "status": order.get_status_display()}
        text = render_to_string(TEMPLATE, context)
        subject, _, body = text.partition("\n")
    return send_mail(subject.strip(), body.strip() + "\n", settings.DEFAULT_FROM_EMAIL, [user.email])
