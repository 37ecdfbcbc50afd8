"""Mission orders: filing, validation (line manager, then budget manager), refusal back to the
agent, cancellation, and trips under a permanent order. Each step is an ``OrderStep`` row and a
fact in the order's stream; each decision is e-mailed to the agent once the transaction commits.

Nobody validates an order they filed or travel on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cimaise.core.models import Institution, Person, Site
from cimaise.missions import facts, notifications
from cimaise.missions.models import MissionOrder, OrderStatus, OrderStep, Purpose, Transport
from cimaise.missions.roles import APPROVE, BUDGET, VIEW_ORDERS
from cimaise.moves.models import Convoy

MAX_PERMANENT_DAYS = 366
YEARS = (2000, 2100)
MAX_MISSION = dt.timedelta(days=92)  # a longer absence is a posting, not a mission


@dataclass
class OrderRequest:
    """What an agent fills in; people are user names, the destination a site code."""

    travellers: list[str]
    destination: str
    purpose: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    transport: str
    convoy: str = ""
    car_authorisation: str = ""
    lodging: bool = False
    host: str = ""
    zones: list[str] = field(default_factory=list)
    permanent: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def stream(order: MissionOrder) -> str:
    return f"missions.order:{order.institution.code}:{order.code}"


def actor_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied("your account is not a member of staff")
    return actor.person


def _person(institution: Institution, username: str, field_name: str) -> Person:
    person = Person.objects.filter(institution=institution, user__username=username).first()
    if person is None:
        raise InvalidInput(f"no member of staff {username!r}", field=field_name)
    return person


def _check_times(request: OrderRequest) -> None:
    for name in ("starts_at", "ends_at"):
        if timezone.is_naive(getattr(request, name)):
            raise InvalidInput(f"{name} needs a time zone", field=name)
    for name in ("starts_at", "ends_at"):
        if not YEARS[0] <= getattr(request, name).year <= YEARS[1]:
            raise InvalidInput(f"{name} is out of range", field=name)
    if request.ends_at <= request.starts_at:
        raise InvalidInput("the mission must end after it starts", field="ends_at")
    if request.ends_at - request.starts_at > MAX_MISSION:
        raise InvalidInput("a mission lasts three months at most", field="ends_at")


def _check_choices(request: OrderRequest) -> None:
    if request.purpose not in Purpose.values:
        raise InvalidInput(f"purpose must be one of {', '.join(Purpose.values)}", field="purpose")
    if request.transport not in Transport.values:
        raise InvalidInput(f"transport must be one of {', '.join(Transport.values)}", field="transport")
    if request.transport == Transport.CAR and not request.car_authorisation.strip():
        raise InvalidInput(
            "a personal car needs the prior authorisation's reference", field="car_authorisation"
        )
    if not request.description.strip():
        raise InvalidInput("say what the mission is for", field="description")
    if not request.travellers:
        raise InvalidInput("name at least one traveller", field="travellers")


def _check_permanent(request: OrderRequest) -> None:
    if not request.permanent:
        return
    if len(request.travellers) != 1:
        raise InvalidInput("a permanent order is for one traveller", field="travellers")
    if request.valid_from is None or request.valid_until is None:
        raise InvalidInput("a permanent order needs its validity", field="valid_until")
    days = (request.valid_until - request.valid_from).days
    if not 0 <= days <= MAX_PERMANENT_DAYS:
        raise InvalidInput("a permanent order is valid for a year at most", field="valid_until")


@dataclass
class Resolved:
    travellers: list[Person]
    destination: Site
    convoy: Convoy | None
    host: Person | None


def _resolve(institution: Institution, request: OrderRequest) -> Resolved:
    _check_times(request)
    _check_choices(request)
    _check_permanent(request)
    destination = Site.objects.filter(institution=institution, code=request.destination).first()
    if destination is None:
        raise InvalidInput(f"no site {request.destination!r}", field="destination")
    convoy = None
    if request.convoy:
        convoy = Convoy.objects.filter(institution=institution, code=request.convoy).first()
        if convoy is None:
            raise InvalidInput(f"no convoy {request.convoy!r}", field="convoy")
    travellers = [_person(institution, name, "travellers") for name in dict.fromkeys(request.travellers)]
    host = _person(institution, request.host, "host") if request.host else None
    return Resolved(travellers, destination, convoy, host)


def _next_code(institution: Institution, year: int) -> str:
    prefix = f"OM-{year}-"
    last = MissionOrder.objects.filter(institution=institution, code__startswith=prefix).aggregate(
        m=Max("code")
    )["m"]
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:05d}"


def _filed_body(order: MissionOrder, travellers: list[Person]) -> dict[str, object]:
    return {
        "code": order.code,
        "agent": order.agent.user.get_username(),
        "travellers": [p.user.get_username() for p in travellers],
        "destination": order.destination.code,
        "purpose": order.purpose,
        "description": order.description,
        "convoy": order.convoy.code if order.convoy else None,
        "starts_at": order.starts_at.isoformat(),
        "ends_at": order.ends_at.isoformat(),
        "transport": order.transport,
        "car_authorisation": order.car_authorisation,
        "lodging": order.lodging,
        "permanent": order.permanent,
        "valid_from": order.valid_from.isoformat() if order.valid_from else None,
        "valid_until": order.valid_until.isoformat() if order.valid_until else None,
        "parent": order.parent.code if order.parent else None,
    }


def _create(
    actor: Actor, request: OrderRequest, *, now: dt.datetime, status: str, parent: MissionOrder | None = None
) -> MissionOrder:
    institution = own_institution(actor)
    agent = actor_person(actor)
    r = _resolve(institution, request)
    order = MissionOrder(
        institution=institution,
        code=_next_code(institution, request.starts_at.year),
        agent=agent,
        destination=r.destination,
        purpose=request.purpose,
        description=request.description.strip(),
        convoy=r.convoy,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        transport=request.transport,
        car_authorisation=request.car_authorisation.strip(),
        lodging=request.lodging,
        host=r.host,
        zones=[z.strip() for z in request.zones if z.strip()],
        permanent=request.permanent,
        valid_from=request.valid_from if request.permanent else None,
        valid_until=request.valid_until if request.permanent else None,
        parent=parent,
        status=status,
        created_at=now,
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as exc:
        raise Conflict("another order took this number; try again", field="code") from exc
    order.travellers.set(r.travellers)
    facts.append(
        actor, facts.ORDER_FILED.name, stream(order), _filed_body(order, r.travellers), institution.pk
    )
    return order


def _step(actor: Actor, order: MissionOrder, kind: str, comment: str, fact: str, now: dt.datetime) -> None:
    OrderStep.objects.create(order=order, kind=kind, by=actor_person(actor), comment=comment, at=now)
    body = {"code": order.code, "step": kind, "status": order.status, "comment": comment}
    facts.append(actor, fact, stream(order), body, order.institution_id)


@transaction.atomic(durable=True)
def order_file(
    *, actor: Actor, request: OrderRequest, submit: bool = True, now: dt.datetime | None = None
) -> MissionOrder:
    """File an order (as its agent) and, unless ``submit`` is false, submit it for validation."""
    now = now or timezone.now()
    order = _create(actor, request, now=now, status=OrderStatus.DRAFT)
    if submit:
        _submit(actor, order, "", now)
    return order


def _submit(actor: Actor, order: MissionOrder, comment: str, now: dt.datetime) -> None:
    order.status = OrderStatus.SUBMITTED
    order.save(update_fields=["status"])
    _step(actor, order, OrderStep.Kind.SUBMITTED, comment, facts.ORDER_SUBMITTED.name, now)
    notifications.decision_enqueue(order.pk, OrderStep.Kind.SUBMITTED)


def _locked(actor: Actor, code: str) -> MissionOrder:
    institution = own_institution(actor)
    order = (
        MissionOrder.objects.select_for_update(of=("self",))
        .select_related("institution", "agent__user", "agent__line_manager", "destination")
        .filter(institution=institution, code=code)
        .first()
    )
    if order is None:
        raise NotFound(f"no mission order {code!r}", field="order")
    return order


def _own(actor: Actor, order: MissionOrder) -> None:
    person = actor_person(actor)
    if order.agent_id != person.pk:
        raise PermissionDenied("only the agent who filed the order can do this", code="not_the_agent")


@transaction.atomic(durable=True)
def order_update(
    *, actor: Actor, code: str, request: OrderRequest, now: dt.datetime | None = None
) -> MissionOrder:
    """Change a draft or returned order (the agent), then submit it again."""
    order = _locked(actor, code)
    _own(actor, order)
    if order.status not in (OrderStatus.DRAFT, OrderStatus.RETURNED):
        raise Conflict("only a draft or returned order can be changed", code="not_editable", field="status")
    r = _resolve(order.institution, request)
    for name in (
        "purpose",
        "starts_at",
        "ends_at",
        "transport",
        "lodging",
        "permanent",
        "valid_from",
        "valid_until",
    ):
        setattr(order, name, getattr(request, name))
    order.description, order.car_authorisation = (
        request.description.strip(),
        request.car_authorisation.strip(),
    )
    order.destination, order.convoy, order.host = r.destination, r.convoy, r.host
    order.zones = [z.strip() for z in request.zones if z.strip()]
    order.save()
    order.travellers.set(r.travellers)
    facts.append(
        actor, facts.ORDER_CHANGED.name, stream(order), _filed_body(order, r.travellers), order.institution_id
    )
    _submit(actor, order, "", now or timezone.now())
    return order


def _may_decide(actor: Actor, order: MissionOrder) -> str:
    """The level the actor decides at, or PermissionDenied."""
    person = actor_person(actor)
    if order.agent_id == person.pk or order.travellers.filter(pk=person.pk).exists():
        raise PermissionDenied("nobody validates an order they filed or travel on", code="own_order")
    if order.status == OrderStatus.SUBMITTED:
        require_permission(actor, APPROVE)
        manager = order.agent.line_manager_id
        if manager is not None and manager != person.pk:
            raise PermissionDenied(
                "only the agent's line manager validates at this step", code="not_line_manager"
            )
        return "manager"
    if order.status == OrderStatus.MANAGER_APPROVED:
        require_permission(actor, BUDGET)
        return "budget"
    raise Conflict(
        f"the order is {order.get_status_display()}, there is nothing to decide",
        code="not_pending",
        field="status",
    )


@transaction.atomic(durable=True)
def order_approve(
    *, actor: Actor, code: str, comment: str = "", now: dt.datetime | None = None
) -> MissionOrder:
    """Approve at the pending level: the line manager's, then the budget manager's."""
    order = _locked(actor, code)
    level = _may_decide(actor, order)
    if level == "manager":
        order.status, kind = OrderStatus.MANAGER_APPROVED, OrderStep.Kind.MANAGER_APPROVED
    else:
        order.status, kind = OrderStatus.APPROVED, OrderStep.Kind.BUDGET_APPROVED
    order.save(update_fields=["status"])
    _step(actor, order, kind, comment.strip(), facts.ORDER_APPROVED.name, now or timezone.now())
    notifications.decision_enqueue(order.pk, kind)
    return order


@transaction.atomic(durable=True)
def order_refuse(*, actor: Actor, code: str, comment: str, now: dt.datetime | None = None) -> MissionOrder:
    """Refuse at the pending level: the order returns to the agent, who may change and resubmit."""
    if not comment.strip():
        raise InvalidInput("say why the order is refused", field="comment")
    order = _locked(actor, code)
    _may_decide(actor, order)
    order.status = OrderStatus.RETURNED
    order.save(update_fields=["status"])
    _step(
        actor, order, OrderStep.Kind.REFUSED, comment.strip(), facts.ORDER_REFUSED.name, now or timezone.now()
    )
    notifications.decision_enqueue(order.pk, OrderStep.Kind.REFUSED)
    return order


@transaction.atomic(durable=True)
def order_cancel(
    *, actor: Actor, code: str, comment: str = "", now: dt.datetime | None = None
) -> MissionOrder:
    """The agent cancels an order that has not started."""
    order = _locked(actor, code)
    _own(actor, order)
    now = now or timezone.now()
    if order.status == OrderStatus.CANCELLED or order.starts_at <= now:
        raise Conflict("this order can no longer be cancelled", code="not_cancellable", field="status")
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status"])
    _step(actor, order, OrderStep.Kind.CANCELLED, comment.strip(), facts.ORDER_CANCELLED.name, now)
    return order


@transaction.atomic(durable=True)
def trip_record(
    *,
    actor: Actor,
    code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    transport: str,
    description: str = "",
    now: dt.datetime | None = None,
) -> MissionOrder:
    """A trip of the traveller of a validated permanent order, within its validity: an order of
    its own, validated by the permanent one."""
    permanent = _locked(actor, code)
    person = actor_person(actor)
    if not permanent.permanent or permanent.status != OrderStatus.APPROVED:
        raise Conflict(
            "trips are recorded under a validated permanent order", code="not_permanent", field="order"
        )
    if not permanent.travellers.filter(pk=person.pk).exists():
        raise PermissionDenied(
            "only the traveller of a permanent order records its trips", code="not_the_traveller"
        )
    first, last = permanent.valid_from, permanent.valid_until
    local = (
        [timezone.localtime(t).date() for t in (starts_at, ends_at)] if timezone.is_aware(starts_at) else []
    )
    if local and first and last and not (first <= local[0] and local[1] <= last):
        raise InvalidInput("the trip falls outside the permanent order's validity", field="starts_at")
    request = OrderRequest(
        travellers=[person.user.get_username()],
        destination=permanent.destination.code,
        purpose=permanent.purpose,
        description=description or permanent.description,
        starts_at=starts_at,
        ends_at=ends_at,
        transport=transport,
        car_authorisation=permanent.car_authorisation,
        lodging=permanent.lodging,
        host=permanent.host.user.get_username() if permanent.host else "",
        zones=list(permanent.zones),
    )
    return _create(actor, request, now=now or timezone.now(), status=OrderStatus.APPROVED, parent=permanent)


# --- reads --------------------------------------------------------------------------------------


def access_order(actor: Actor, code: str) -> MissionOrder:
    """An order the actor may see: their own or one they travel on, or any of the institution's
    with the right to view orders."""
    institution = own_institution(actor)
    order = (
        MissionOrder.objects.select_related(
            "institution", "agent__user", "destination", "convoy", "host__user"
        )
        .filter(institution=institution, code=code)
        .first()
    )
    if order is None:
        raise NotFound(f"no mission order {code!r}", field="order")
    person = actor.person
    mine = person is not None and (
        order.agent_id == person.pk or order.travellers.filter(pk=person.pk).exists()
    )
    if not mine and not actor.can(VIEW_ORDERS):
        raise NotFound(f"no mission order {code!r}", field="order")
    return order


def orders_pending_for(actor: Actor) -> list[MissionOrder]:
    """The orders waiting for the actor's decision."""
    if actor.person is None or actor.institution is None:
        return []
    base = MissionOrder.objects.filter(institution=actor.institution).select_related(
        "agent__user", "destination"
    )
    pending: list[MissionOrder] = []
    if actor.can(APPROVE):
        mine = base.filter(status=OrderStatus.SUBMITTED).exclude(agent=actor.person)
        pending += [o for o in mine if o.agent.line_manager_id in (None, actor.person.pk)]
    if actor.can(BUDGET):
        pending += list(base.filter(status=OrderStatus.MANAGER_APPROVED).exclude(agent=actor.person))
    return [o for o in pending if not o.travellers.filter(pk=actor.person.pk).exists()]


def orders_of(person: Person) -> list[MissionOrder]:
    """The orders a person filed or travels on, latest first."""
    filed = MissionOrder.objects.filter(agent=person)
    travelling = MissionOrder.objects.filter(travellers=person)
    return list((filed | travelling).distinct().select_related("destination").order_by("-starts_at"))


def user_label(user: User) -> str:
    return user.get_full_name() or user.get_username()
