"""The planning routes over HTTP: a registrar starts, proposes, applies, pauses and resumes an
addressing run, sets a target by hand, reads fill rates and packs a convoy; a gate agent is
refused (403), another institution sees nothing (404), an anonymous caller must authenticate.

The routes are served here by a test API carrying the project's authentication and error
handlers, so these tests do not depend on where ``config/api.py`` mounts the router."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cimaise.config import api as project_api
from cimaise.core.auth import API_AUTH
from cimaise.core.errors import DomainError
from cimaise.core.tests.personas import Cast
from cimaise.moves.api_planning import router
from cimaise.moves.models import Assignment
from cimaise.moves.tests.test_planning_services import (
    Centre,
    add_collection,
    add_crates,
    add_work,
    make_centre,
    make_convoy,
)

test_api = NinjaAPI(auth=API_AUTH, urls_namespace="planning-test")
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
BASE = "/api/v1/programmes/P-CCL"
RUN = {"sources": ["PAL-R1"], "destinations": ["CCL-Z1", "CCL-Z2"], "department_zones": {"PEI": "CCL-Z2"}}


@pytest.fixture
def centre(cast: Cast) -> Centre:
    centre = make_centre(cast)
    add_collection(centre, 12)
    return centre


def post(client: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def test_a_registrar_addresses_a_programme_batch_by_batch(cast: Cast, centre: Centre) -> None:
    client = cast.registrar_a.client()
    started = post(client, f"{BASE}/addressing", RUN | {"batch_size": 5})
    assert started.status_code == 201, started.json()
    assert started.json()["state"] == "running" and started.json()["headroom"] == "0.15"
    proposal = client.get(f"{BASE}/addressing/proposal").json()
    assert len(proposal["targets"]) == 5 and proposal["left"] == 7
    assert not Assignment.objects.exists()  # a proposal writes nothing
    first = post(client, f"{BASE}/addressing/batches", {"batch": 1})
    assert first.status_code == 201 and first.json()["assigned"] == 5
    assert {(t["inventory"], t["target"]) for t in proposal["targets"]} == set(
        Assignment.objects.values_list("work__inventory", "target__code")
    )
    resent = post(client, f"{BASE}/addressing/batches", {"batch": 1})
    assert resent.status_code == 200 and resent.json()["batch"] == 1
    paused = post(client, f"{BASE}/addressing/pause", {"reason": "confinement"})
    assert paused.json()["state"] == "paused" and paused.json()["pause_reason"] == "confinement"
    refused = post(client, f"{BASE}/addressing/batches")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "paused"
    assert post(client, f"{BASE}/addressing/resume").json()["state"] == "running"
    post(client, f"{BASE}/addressing/batches")
    last = post(client, f"{BASE}/addressing/batches").json()
    assert last["run"]["state"] == "done" and last["run"]["assigned"] == 12
    assert client.get(f"{BASE}/addressing").json()["batches"] == 3
    assert client.get(f"{BASE}/addressing/flags").json()["count"] == 0
    zones = client.get(f"{BASE}/fill-rates").json()["items"]
    assert [z["code"] for z in zones] == ["CCL-Z1", "CCL-Z2"] and sum(z["works"] for z in zones) == 12
    shelves = client.get(f"{BASE}/fill-rates", {"level": "shelf", "limit": "500"}).json()
    assert shelves["count"] == 12 and all(s["load_pct"] <= 85 for s in shelves["items"])


def test_starting_with_bad_settings_names_the_field(cast: Cast, centre: Centre) -> None:
    client = cast.registrar_a.client()
    unknown = post(client, f"{BASE}/addressing", RUN | {"destinations": ["NOPE"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["field"] == "destinations"
    wrong_zone = post(client, f"{BASE}/addressing", RUN | {"department_zones": {"PEI": "PAL-R1"}})
    assert wrong_zone.json()["error"]["details"] == {"field": "department_zones"}
    too_much = post(client, f"{BASE}/addressing", RUN | {"headroom": "0.95"})
    assert too_much.status_code == 422 and too_much.json()["error"]["details"][0]["field"] == "data.headroom"
    assert post(client, f"{BASE}/addressing", RUN).status_code == 201
    twice = post(client, f"{BASE}/addressing", RUN)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "run_open"


def test_a_target_set_by_hand_that_does_not_fit_is_refused_naming_the_field(
    cast: Cast, centre: Centre
) -> None:
    client = cast.registrar_a.client()
    post(client, f"{BASE}/addressing", RUN)
    post(client, f"{BASE}/addressing/batches")
    add_work(centre, 99, "SCU", (45, 45, 45), "1")
    url = f"{BASE}/works/INV%2099/target"
    refused = client.put(url, {"target": "CCL-Z1-U1-S1"}, content_type="application/json")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "too_large" and error["details"]["field"] == "target"
    assert error["details"]["limit"] == "inner_dimensions"
    nowhere = client.put(url, {"target": "CCL-Z9"}, content_type="application/json")
    assert nowhere.status_code == 422 and nowhere.json()["error"]["details"]["field"] == "target"
    ok = client.put(url, {"target": "CCL-Z1-U1", "reason": "trop grand"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {
        "inventory": "INV 99",
        "source": "PAL-R1-S1",
        "target": "CCL-Z1-U1",
    }


def test_a_registrar_packs_a_convoy_and_reads_its_packing_list(cast: Cast, centre: Centre) -> None:
    works = [add_work(centre, n, "AE", (40, 30, 20), "10") for n in range(50, 55)]
    make_convoy(centre, works)
    (crate,) = add_crates(centre, 1)
    client = cast.registrar_a.client()
    proposal = client.get("/api/v1/convoys/CV-1/packing/proposal").json()
    assert proposal["recorded"] is False and [c["barcode"] for c in proposal["crates"]] == [crate.barcode]
    applied = post(client, "/api/v1/convoys/CV-1/packing")
    assert applied.status_code == 201 and applied.json()["crates"] == proposal["crates"]
    assert post(client, "/api/v1/convoys/CV-1/packing").status_code == 200  # the same packing: unchanged
    listed = client.get("/api/v1/convoys/CV-1/packing").json()
    (packed,) = listed["crates"]
    assert packed["load_kg"] == "50.00" and len(packed["works"]) == 5 and listed["unpacked"] == []


READS = [
    f"{BASE}/addressing",
    f"{BASE}/addressing/proposal",
    f"{BASE}/addressing/flags",
    f"{BASE}/fill-rates",
    "/api/v1/convoys/CV-1/packing",
    "/api/v1/convoys/CV-1/packing/proposal",
]
WRITES = [
    ("post", f"{BASE}/addressing", RUN),
    ("post", f"{BASE}/addressing/batches", {}),
    ("post", f"{BASE}/addressing/pause", {}),
    ("post", f"{BASE}/addressing/resume", {}),
    ("put", f"{BASE}/works/INV%201/target", {"target": "CCL-Z1-U1-S1"}),
    ("post", "/api/v1/convoys/CV-1/packing", {}),
]


@pytest.fixture
def planned(cast: Cast, centre: Centre) -> None:
    make_convoy(centre, [add_work(centre, 60, "AE", (10, 10, 10), "1")])
    add_crates(centre, 1)
    client = cast.registrar_a.client()
    post(client, f"{BASE}/addressing", RUN | {"batch_size": 3})


@pytest.mark.parametrize("route", READS)
def test_a_registrar_reads_every_planning_route(cast: Cast, planned: None, route: str) -> None:
    assert cast.registrar_a.client().get(route).status_code == 200


@pytest.mark.parametrize("route", READS)
def test_a_gate_agent_is_refused_every_planning_read(cast: Cast, planned: None, route: str) -> None:
    assert cast.gate_agent_a.client().get(route).status_code == 403


@pytest.mark.parametrize(("method", "route", "body"), WRITES)
def test_a_gate_agent_is_refused_every_planning_write(
    cast: Cast, planned: None, method: str, route: str, body: dict[str, Any]
) -> None:
    response = getattr(cast.gate_agent_a.client(), method)(route, body, content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize("route", READS)
def test_another_institution_sees_no_plan_of_ours(cast: Cast, planned: None, route: str) -> None:
    assert cast.partner_b.client().get(route).status_code == 404


@pytest.mark.parametrize(("method", "route", "body"), WRITES)
def test_another_institution_changes_no_plan_of_ours(
    cast: Cast, planned: None, method: str, route: str, body: dict[str, Any]
) -> None:
    response = getattr(cast.partner_b.client(), method)(route, body, content_type="application/json")
    assert response.status_code == 404


@pytest.mark.parametrize("route", READS)
def test_an_anonymous_caller_must_authenticate_for_plans(anon_client: Any, planned: None, route: str) -> None:
    assert anon_client.get(route).status_code == 401
