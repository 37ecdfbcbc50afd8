"""What entrance agents sync over HTTP: the public keys that sign ticket codes, and the revoked
codes as a feed read page by page with ``since``/``next``. Each institution sees only its own;
the gate and ticketing roles may read the feed, others get 403, anonymous callers 401.

The routes are served by a test API carrying the project's authentication and error handlers,
so these tests do not depend on where ``config/api.py`` mounts the router."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cimaise.config import api as project_api
from cimaise.core.auth import API_AUTH
from cimaise.core.errors import DomainError
from cimaise.core.keys import b64url_decode
from cimaise.core.roles import Role
from cimaise.core.services import roles_sync
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.ticketing.api_tickets import router
from cimaise.ticketing.codes import code_verify, key_tag, ticket_keys_rotate
from cimaise.ticketing.models import Ticket
from cimaise.ticketing.tests.ticket_factories import PAID_AT, catalogue_for, make_paid_order, slot_for
from cimaise.ticketing.tickets import tickets_issue, tickets_revoke

test_api = NinjaAPI(auth=API_AUTH, urls_namespace="tickets-feed-test")
for _error, _handler in (
    (DomainError, project_api._domain_error),
    (ValidationError, project_api._validation_error),
    (AuthenticationError, project_api._authentication_error),
    (HttpError, project_api._http_error),
):
    test_api.add_exception_handler(_error, _handler)  # type: ignore[arg-type]
test_api.add_router("/", router)
urlpatterns = [path("api/v1/", test_api.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
FEED = "/api/v1/ticketing/revocations"
KEYS = "/api/v1/ticketing/keys"


@pytest.fixture(autouse=True)
def _roles(db: Any) -> None:
    roles_sync()  # the groups hold the grants of roles_tickets, however the suite was started


def revoked_tickets(cast: Cast, count: int, *, b: bool = False, reason: str = "cancelled") -> list[Ticket]:
    """``count`` tickets of one order of institution A (or B), revoked one by one."""
    institution, site = (cast.institution_b, cast.site_b) if b else (cast.institution_a, cast.site_a)
    catalogue = catalogue_for(institution, site)
    order = make_paid_order(catalogue, slot_for(catalogue), lines=[("full", count)])
    tickets = tickets_issue(order=order, actor="system:test", now=PAID_AT)
    for minutes, ticket in enumerate(tickets):
        when = PAID_AT + dt.timedelta(minutes=minutes)
        tickets_revoke(tickets=[ticket], reason=reason, actor="system:test", now=when)
    return tickets


def gate_agent_b(cast: Cast) -> Persona:
    return make_persona("gate-agent-b", cast.institution_b, [Role.GATE_AGENT], cast.site_b)


def test_a_gate_agent_reads_the_feed_page_by_page(cast: Cast) -> None:
    tickets = revoked_tickets(cast, 5)
    client = cast.gate_agent_a.client()
    first = client.get(FEED, {"limit": 2})
    assert first.status_code == 200, first.content
    body = first.json()
    assert [r["code_id"] for r in body["revocations"]] == [t.code_id for t in tickets[:2]]
    assert body["revocations"][0]["reason"] == "cancelled" and body["more"] is True
    assert body["next"] == body["revocations"][-1]["cursor"]
    assert dt.datetime.fromisoformat(body["revocations"][1]["revoked_at"]) == PAID_AT + dt.timedelta(
        minutes=1
    )
    seen = [r["code_id"] for r in body["revocations"]]
    cursor = body["next"]
    while True:
        page = client.get(FEED, {"since": cursor, "limit": 2}).json()
        seen += [r["code_id"] for r in page["revocations"]]
        cursor = page["next"]
        if not page["more"]:
            break
    assert seen == [t.code_id for t in tickets]
    idle = client.get(FEED, {"since": cursor}).json()
    assert idle == {"revocations": [], "next": cursor, "more": False}


def test_a_new_revocation_comes_after_the_cursor_an_agent_holds(cast: Cast) -> None:
    client = cast.gate_agent_a.client()
    revoked_tickets(cast, 2)
    cursor = client.get(FEED).json()["next"]
    revoked_tickets(cast, 1, b=True)
    (ticket,) = revoked_tickets(cast, 1, reason="refunded")
    page = client.get(FEED, {"since": cursor}).json()
    assert [(r["code_id"], r["reason"]) for r in page["revocations"]] == [(ticket.code_id, "refunded")]


def test_each_institution_sees_only_its_own_revocations(cast: Cast) -> None:
    ours = revoked_tickets(cast, 2)
    theirs = revoked_tickets(cast, 3, b=True)
    a_feed = cast.gate_agent_a.client().get(FEED).json()
    b_feed = gate_agent_b(cast).client().get(FEED).json()
    assert [r["code_id"] for r in a_feed["revocations"]] == [t.code_id for t in ours]
    assert [r["code_id"] for r in b_feed["revocations"]] == [t.code_id for t in theirs]


@pytest.mark.parametrize("who", ["gate_agent_a", "ticketing_manager_a", "admin_a"])
def test_the_gate_and_ticketing_roles_may_read_the_feed(cast: Cast, who: str) -> None:
    revoked_tickets(cast, 1)
    persona: Persona = getattr(cast, who)
    assert len(persona.client().get(FEED).json()["revocations"]) == 1
    assert persona.session_client().get(FEED).status_code == 200


def test_a_gate_supervisor_may_read_the_feed(cast: Cast) -> None:
    supervisor = make_persona("supervisor-a", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)
    assert supervisor.client().get(FEED).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "registrar_a", "partner_b"])
def test_other_roles_are_refused_the_feed(cast: Cast, who: str) -> None:
    revoked_tickets(cast, 1)
    response = getattr(cast, who).client().get(FEED)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_an_anonymous_caller_must_authenticate(cast: Cast, anon_client: Any) -> None:
    for url in (FEED, KEYS):
        response = anon_client.get(url)
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 1001}, {"since": -1}, {"since": "x"}])
def test_a_bad_cursor_or_limit_is_a_422_naming_the_field(cast: Cast, query: dict[str, Any]) -> None:
    response = cast.gate_agent_a.client().get(FEED, query)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] in {"limit", "since"}


# --- keys --------------------------------------------------------------------------------------


def test_the_keys_verify_the_codes_retired_ones_included(cast: Cast) -> None:
    before = revoked_tickets(cast, 1)[0]
    ticket_keys_rotate(institution=cast.institution_a, now=PAID_AT)
    revoked_tickets(cast, 1, b=True)  # B's key is not A's business
    response = cast.gate_agent_a.client().get(KEYS)
    assert response.status_code == 200, response.content
    keys = response.json()["keys"]
    assert [k["retired_at"] is not None for k in keys] == [True, False]
    assert all(k["algorithm"] == "Ed25519" and k["tag"] == key_tag(k["kid"]).hex() for k in keys)
    assert keys[0]["kid"] == before.kid
    published = {k["kid"]: Ed25519PublicKey.from_public_bytes(b64url_decode(k["public_key"])) for k in keys}
    assert code_verify(before.code, published).code_id == before.code_id


@pytest.mark.parametrize("who", ["registrar_a", "gate_agent_a", "ticketing_manager_a"])
def test_any_staff_of_the_institution_reads_its_keys(cast: Cast, who: str) -> None:
    revoked_tickets(cast, 1)
    assert len(getattr(cast, who).session_client().get(KEYS).json()["keys"]) == 1


def test_someone_without_a_role_is_refused_the_keys_and_another_institution_sees_its_own(cast: Cast) -> None:
    revoked_tickets(cast, 1)
    assert cast.outsider.client().get(KEYS).status_code == 403
    assert cast.partner_b.client().get(KEYS).json() == {"keys": []}
