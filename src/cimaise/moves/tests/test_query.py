"""``GET /api/v1/epcis/events``: each filter of the SimpleEventQuery subset, paging by ``next``
links to the end, and who may ask."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, make_persona
from cimaise.moves.tests.factories import Transfer, at, document, full_journey, object_event
from cimaise.moves.tests.test_export import EX, schema_errors

pytestmark = pytest.mark.django_db

URL = "/api/v1/epcis/events"
# full_journey's events, by index: 0 inspecting the works, 1-2 packing the crates, 3 loading,
# 4 departing, 5 arriving, 6 unloading, 7 acclimatising, 8-9 unpacking, 10 storing.
INSPECTING, PACK_0, PACK_1, LOADING, DEPARTING, ARRIVING, UNLOADING = range(7)
ACCLIMATISING, UNPACK_0, UNPACK_1, STORING = range(7, 11)


def capture(
    client: Client, events: list[dict[str, Any]], prefixes: dict[str, str] | None = None
) -> list[str]:
    payload = document(events)
    if prefixes:
        payload["@context"].append(prefixes)
    response = client.post(
        "/api/v1/epcis/capture", data=json.dumps(payload), content_type="application/ld+json"
    )
    assert response.status_code == 201, response.content
    ids: list[str] = response.json()["eventIDs"]
    return ids


@pytest.fixture
def journey(cast: Cast, transfer: Transfer) -> list[str]:
    """The eventIDs of a whole journey captured by the registrar, in full_journey's order."""
    return capture(cast.registrar_a.client(), full_journey(transfer))


def query(client: Client, **params: Any) -> Any:
    return client.get(URL, params)


def next_link(response: Any) -> str | None:
    """The next page from the ``Link: <…>; rel="next"`` header, as a path."""
    link: str | None = response.headers.get("Link")
    if link is None:
        return None
    url, _, rel = link.partition(">; ")
    assert rel == 'rel="next"'
    return url.removeprefix("<http://testserver")


def found(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return [event["eventID"] for event in events]


def pick(ids: list[str], *indexes: int) -> list[str]:
    return [ids[i] for i in indexes]


def test_match_epc_finds_the_events_naming_a_work_not_those_of_its_containers(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    client = cast.registrar_a.client()
    assert found(query(client, MATCH_epc=transfer.work(0))) == pick(
        journey, INSPECTING, PACK_0, UNPACK_0, STORING
    )
    assert found(query(client, MATCH_epc=transfer.crate(0))) == pick(
        journey, LOADING, UNLOADING, ACCLIMATISING
    )
    both = found(query(client, MATCH_epc=[transfer.work(1), transfer.work(2)]))
    assert both == pick(journey, INSPECTING, PACK_0, PACK_1, UNPACK_0, UNPACK_1, STORING)


def test_match_any_epc_finds_a_crate_as_parent_too(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    response = query(cast.registrar_a.client(), MATCH_anyEPC=transfer.crate(0))
    assert found(response) == pick(journey, PACK_0, LOADING, UNLOADING, ACCLIMATISING, UNPACK_0)
    truck = found(query(cast.registrar_a.client(), MATCH_anyEPC=transfer.truck))
    assert truck == pick(journey, LOADING, DEPARTING, ARRIVING, UNLOADING)


@pytest.mark.parametrize(
    "step",
    ["packing", "https://ref.gs1.org/cbv/BizStep-packing", "urn:epcglobal:cbv:bizstep:packing"],
)
def test_eq_biz_step_takes_the_bare_name_or_a_full_uri(cast: Cast, journey: list[str], step: str) -> None:
    assert found(query(cast.registrar_a.client(), EQ_bizStep=step)) == pick(journey, PACK_0, PACK_1)


def test_eq_biz_step_takes_our_vocabulary_and_lists(cast: Cast, journey: list[str]) -> None:
    client = cast.registrar_a.client()
    ours = found(query(client, EQ_bizStep="urn:cimaise:bizstep:acclimatising"))
    assert ours == pick(journey, ACCLIMATISING)
    expected = pick(journey, INSPECTING, STORING)
    assert found(query(client, EQ_bizStep="inspecting,storing")) == expected
    assert (
        found(query(client, EQ_bizStep=["inspecting", "https://ref.gs1.org/cbv/BizStep-storing"])) == expected
    )


@pytest.mark.parametrize("step", ["teleporting", "https://ref.gs1.org/cbv/BizStep-teleporting"])
def test_an_unknown_biz_step_is_refused_naming_eq_biz_step(cast: Cast, journey: list[str], step: str) -> None:
    response = query(cast.registrar_a.client(), EQ_bizStep=step)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["field"] == "EQ_bizStep"
    assert "EQ_bizStep" in error["message"] and "teleporting" in error["message"]


def test_eq_biz_location_finds_the_events_at_a_place(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    response = query(cast.registrar_a.client(), EQ_bizLocation=transfer.ccl_dock.uri)
    assert found(response) == pick(journey, ARRIVING, UNLOADING, ACCLIMATISING, UNPACK_0, UNPACK_1)


def test_eq_biz_transaction_finds_a_convoys_events(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    response = query(cast.registrar_a.client(), EQ_bizTransaction=transfer.convoy.uri)
    assert found(response) == pick(journey, LOADING, DEPARTING, ARRIVING, UNLOADING)


def test_eq_biz_transaction_matches_any_of_an_events_transactions(cast: Cast, transfer: Transfer) -> None:
    order = "urn:example:po:4711"
    transactions = [
        {"type": "po", "bizTransaction": order},
        {"type": "bol", "bizTransaction": transfer.convoy.uri},
    ]
    ids = capture(
        cast.registrar_a.client(),
        [object_event([transfer.truck], "departing", 0, bizTransactionList=transactions)],
    )
    assert found(query(cast.registrar_a.client(), EQ_bizTransaction=order)) == ids


def test_event_time_bounds_include_ge_and_exclude_lt(cast: Cast, journey: list[str]) -> None:
    client = cast.registrar_a.client()
    window = found(query(client, GE_eventTime=at(10), LT_eventTime=at(200)))
    assert window == pick(journey, PACK_0, PACK_1, LOADING, DEPARTING)
    paris = found(
        query(client, GE_eventTime="2020-01-06T09:10:00+01:00", LT_eventTime="2020-01-06T11:20:00+01:00")
    )
    assert paris == window
    assert found(query(client, GE_eventTime=at(1700))) == pick(journey, STORING)
    assert found(query(client, LT_eventTime=at(0))) == []


def test_filters_combine_and_a_naive_time_is_refused_naming_it(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    client = cast.registrar_a.client()
    combined = query(client, MATCH_anyEPC=transfer.crate(1), EQ_bizStep="unpacking", GE_eventTime=at(1000))
    assert found(combined) == pick(journey, UNPACK_1)
    naive = query(client, GE_eventTime="2020-01-06T08:00:00")
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "GE_eventTime"


def test_paging_by_next_links_collects_every_event_once_in_event_time_order(
    cast: Cast, transfer: Transfer
) -> None:
    client = cast.registrar_a.client()
    events = full_journey(transfer)
    ids = capture(client, events[6:]) + capture(client, events[:6])  # recorded out of order
    by_time = sorted(zip(events[6:] + events[:6], ids, strict=True), key=lambda pair: pair[0]["eventTime"])
    collected: list[str] = []
    response = query(client, limit=3)
    pages = 1
    while True:
        collected += found(response)
        assert response.headers["X-Total-Count"] == "11"
        following = next_link(response)
        if following is None:
            break
        response = client.get(following)
        pages += 1
    assert pages == 4
    assert collected == [event_id for _, event_id in by_time]


def test_next_links_keep_the_filters(cast: Cast, journey: list[str]) -> None:
    client = cast.registrar_a.client()
    response = query(client, EQ_bizStep=["packing", "unpacking"], limit=1)
    collected = found(response)
    while (following := next_link(response)) is not None:
        response = client.get(following)
        collected += found(response)
    assert collected == pick(journey, PACK_0, PACK_1, UNPACK_0, UNPACK_1)


def test_another_institutions_registrar_sees_none_of_ours(
    cast: Cast, transfer: Transfer, journey: list[str]
) -> None:
    registrar_b = make_persona("registrar-b", cast.institution_b, [Role.REGISTRAR], cast.site_b)
    client = registrar_b.client()
    response = query(client)
    assert found(response) == [] and response.headers["X-Total-Count"] == "0"
    assert found(query(client, MATCH_epc=transfer.work(0))) == []
    assert found(query(client, EQ_bizTransaction=transfer.convoy.uri)) == []


def test_a_gate_agent_is_forbidden_and_an_anonymous_caller_unauthorized(
    cast: Cast, journey: list[str], anon_client: Client
) -> None:
    assert query(cast.gate_agent_a.client()).status_code == 403
    assert query(anon_client).status_code == 401


def test_an_unknown_parameter_is_refused_naming_it(cast: Cast, journey: list[str]) -> None:
    response = query(cast.registrar_a.client(), EQ_bizstep="packing")
    assert response.status_code == 400
    assert "EQ_bizstep" in response.json()["error"]["message"]


def test_a_query_page_validates_against_the_epcis_schema(cast: Cast, journey: list[str]) -> None:
    response = query(cast.registrar_a.client(), limit=3)
    assert response.status_code == 200
    errors = schema_errors(response.json())
    assert not errors, "\n".join(errors)


def test_a_query_declares_the_prefixes_of_its_events_extension_fields(cast: Cast, transfer: Transfer) -> None:
    noted = object_event([transfer.work(0)], "inspecting", 0, **{"ex:note": "frame checked"})
    capture(cast.registrar_a.client(), [noted], EX)
    body = query(cast.registrar_a.client()).json()
    assert body["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["ex:note"] == "frame checked"
    assert EX in body["@context"]
