"""Every custody route: the registrar reads, a gate agent (no custody role) is refused, another
institution's partner sees nothing of ours, an anonymous caller must authenticate."""

from __future__ import annotations

import pytest

from cimaise.core.tests.personas import Cast
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import Transfer, full_journey

pytestmark = pytest.mark.django_db

ROUTES = [
    "/api/v1/works/INV%207520/custody",
    "/api/v1/places/CCL-DOCK/contents",
    "/api/v1/anomalies",
    "/api/v1/epcis/events",
    "/api/v1/convoys/CV-001/reconciliation",
    "/api/v1/programmes/P2020/reconciliation",
    "/api/v1/programmes/P2020/reconciliation?source=PAL-DEN-R1",
    "/api/v1/crates/C000/reconciliation",
]


@pytest.fixture
def journey(cast: Cast, transfer: Transfer) -> None:
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))


@pytest.mark.parametrize("route", ROUTES)
def test_a_registrar_reads_every_custody_route(cast: Cast, journey: None, route: str) -> None:
    assert cast.registrar_a.client().get(route).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_a_gate_agent_is_refused_every_custody_route(cast: Cast, journey: None, route: str) -> None:
    assert cast.gate_agent_a.client().get(route).status_code == 403


@pytest.mark.parametrize("route", ROUTES)
def test_another_institution_sees_nothing_of_ours(cast: Cast, journey: None, route: str) -> None:
    response = cast.partner_b.client().get(route)
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("route", ROUTES)
def test_an_anonymous_caller_must_authenticate(anon_client: object, journey: None, route: str) -> None:
    assert anon_client.get(route).status_code == 401  # type: ignore[attr-defined]


def test_the_programme_and_crate_routes_answer_their_reconciliation(cast: Cast, journey: None) -> None:
    client = cast.registrar_a.client()
    programme = client.get("/api/v1/programmes/P2020/reconciliation").json()
    assert programme["summary"] == {"done": 4} and programme["discrepancies"] == []
    by_source = client.get("/api/v1/programmes/P2020/reconciliation", {"source": "PAL-DEN-R1"}).json()
    assert by_source["expected"] == 4
    crate = client.get("/api/v1/crates/C000/reconciliation").json()
    assert crate["steps"]["packed"] == {"expected": 2, "observed": 2}
    assert client.get("/api/v1/crates/NOPE/reconciliation").status_code == 404
    assert client.get("/api/v1/programmes/P2020/reconciliation", {"source": "NOPE"}).status_code == 404
