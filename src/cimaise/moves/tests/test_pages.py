"""Custody pages: works search, a work's chain of custody, a place now and at a moment, the
anomalies inbox and its resolve form (htmx and plain), who may see what, French."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cimaise.collection.models import Work
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.ledger.models import Fact
from cimaise.moves.display import sensor_readings
from cimaise.moves.models import Anomaly, CustodyEvent
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import Transfer, at, full_journey, object_event, place

pytestmark = pytest.mark.django_db

WORK = "/custody/works/INV%207520/"
READINGS = [
    {
        "sensorMetadata": {"time": at(199)},
        "sensorReport": [
            {"type": "Temperature", "value": 19.2, "uom": "CEL"},
            {"type": "gs1:RelativeHumidity", "value": 52, "uom": "P1"},
            {"type": "Acceleration", "value": 2.5, "uom": "MSK"},
        ],
    }
]


@dataclass
class Journey:
    transfer: Transfer
    travel: Anomaly  # INV 7523 seen in Paris ten minutes after it was shelved at the centre
    unknown: Anomaly  # a place code that is no place of ours (and could never be one)


@pytest.fixture
def journey(cast: Cast, transfer: Transfer) -> Journey:
    """The whole transfer captured (with climate readings on arrival), then two anomalies."""
    events = full_journey(transfer)
    events[5]["sensorElementList"] = READINGS
    actor = cast.registrar_a.actor
    custody_capture(actor=actor, payload=events)
    late = object_event([transfer.work(3)], "cycle_counting", 1710, readPoint=place(transfer.pal_shelf))
    travel = custody_capture(actor=actor, payload=[late]).anomalies[0]
    lost = object_event(
        [transfer.work(2)], "cycle_counting", 1720, readPoint={"id": "urn:cimaise:place:louvre:R%2F9"}
    )
    unknown = custody_capture(actor=actor, payload=[lost]).anomalies[0]
    return Journey(transfer, travel, unknown)


def page(client: Client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def resolve(client: Client, anomaly: Anomaly, comment: str, *, htmx: bool, next_url: str = "") -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"comment": comment, "next": next_url}
    return client.post(f"/custody/anomalies/{anomaly.pk}/resolve", data, headers=headers)


def analyst(cast: Cast) -> Persona:
    return make_persona("analyst-a", cast.institution_a, [Role.ANALYST], cast.site_a)


def test_the_custody_pages_need_a_login(anon_client: Client, journey: Journey) -> None:
    for path in ("/custody/works/", WORK, "/custody/places/CCL-B1/", "/custody/anomalies/"):
        response = anon_client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_the_works_search_shows_each_work_with_its_status_and_current_place(
    cast: Cast, journey: Journey
) -> None:
    Work.objects.create(
        institution=cast.institution_a, inventory="RF 1", title="Jamais déplacée", department="SCU"
    )
    html = page(cast.registrar_a.session_client(), "/custody/works/")
    assert "5 works" in html
    assert f'href="{WORK}"' in html and "Œuvre 0" in html and "Paintings" in html
    assert html.count('class="badge status-stored"') == 4 and "No movement yet" in html
    assert 'href="/custody/places/CCL-Z1-S1/"' in html


def test_the_works_search_filters_by_text_department_status_and_current_place(
    cast: Cast, journey: Journey
) -> None:
    client = cast.registrar_a.session_client()
    assert "1 work<" in page(client, "/custody/works/?q=INV 7521")
    assert "4 works" in page(client, "/custody/works/?department=PEI&status=stored")
    assert "0 works" in page(client, "/custody/works/?status=in_transit")
    assert "4 works" in page(client, "/custody/works/?place=CCL-Z1")  # the shelf below counts
    assert "0 works" in page(client, "/custody/works/?place=PAL-DEN")  # they left Paris


def test_a_bad_filter_is_explained_not_a_crash(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    unknown_place = client.get("/custody/works/?place=NOWHERE")
    assert unknown_place.status_code == 400 and "No place has this code." in unknown_place.content.decode()
    bad_status = client.get("/custody/works/?status=lost")
    assert bad_status.status_code == 400 and 'role="alert"' in bad_status.content.decode()
    bad_kind = client.get("/custody/anomalies/?kind=lost")
    assert bad_kind.status_code == 400 and 'role="alert"' in bad_kind.content.decode()


def test_the_work_page_says_where_the_work_is_and_when_it_was_last_seen(cast: Cast, journey: Journey) -> None:
    html = page(cast.registrar_a.session_client(), WORK)
    assert "INV 7520" in html and "Œuvre 0" in html and "Paintings" in html
    assert 'class="badge status-stored">Stored<' in html
    assert 'href="/custody/places/CCL-Z1-S1/"' in html
    assert "C000" in html and "CV-001" in html  # its last crate and convoy
    # storing at 2020-01-07 12:20 UTC is 13:20 in Paris, by the registrar
    assert "Jan. 7, 2020, 13:20" in html and "by user:registrar-a" in html


def test_the_work_page_tells_its_chain_of_custody_in_event_time(cast: Cast, journey: Journey) -> None:
    html = page(cast.registrar_a.session_client(), WORK)
    steps = re.findall(r'data-biz-step="([^"]+)"', html)
    assert steps == [
        "inspecting", "packing", "loading", "departing", "arriving", "unloading",
        "urn:cimaise:bizstep:acclimatising", "unpacking", "storing",
    ]  # fmt: skip
    assert "Jan. 6, 2020, 09:00" in html  # the condition check, 08:00 UTC, in Paris time
    assert "Condition check" in html and "Shelving" in html and "Departure" in html
    assert "Truck <code>GT-123-XZ</code>" in html and "Crate <code>C000</code>" in html  # via
    assert "In transit" in html and "Convoy <code>CV-001</code>" in html  # why
    assert 'href="/custody/places/CCL-DOCK/"' in html  # where
    for event in CustodyEvent.objects.filter(biz_step__in=["inspecting", "storing"]):
        assert event.event_id in html
    assert "19.2 °C" in html and "52 %" in html and "2.5 m/s²" in html


def test_the_work_page_lists_the_open_anomalies_about_the_work(cast: Cast, journey: Journey) -> None:
    html = page(cast.registrar_a.session_client(), "/custody/works/INV%207523/")
    assert f'id="anomaly-{journey.travel.pk}"' in html and "Seen in two places too close in time" in html
    assert f'hx-post="/custody/anomalies/{journey.travel.pk}/resolve"' in html
    assert "No open anomaly about this work." in page(cast.registrar_a.session_client(), WORK)


def test_the_place_page_shows_what_is_on_it_and_below_it_now(cast: Cast, journey: Journey) -> None:
    html = page(cast.registrar_a.session_client(), "/custody/places/CCL-B1/")
    assert "7 objects, this place and below" in html  # four works shelved, two crates and the truck
    assert f'href="{WORK}"' in html and "Œuvre 0" in html
    assert "CCL-Z1-S1" in html and "CCL-DOCK" in html and "GT-123-XZ" in html
    assert 'href="/custody/places/CCL-Z1/"' in html  # a place inside, to go down the tree


def test_the_place_page_shows_what_was_there_at_a_chosen_moment(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    before = page(client, "/custody/places/PAL-DEN/?at=2020-01-06T09:15")  # Paris time: 08:15 UTC
    assert "0 objects, this place and below" in before
    assert "6 objects on Jan. 6, 2020 at 09:15" in before and "Œuvre 3" in before and "C001" in before
    assert 'value="2020-01-06T09:15"' in before  # the picker keeps the moment
    night = page(client, "/custody/places/CCL-DOCK/?at=2020-01-07T00:00")
    assert "7 objects on Jan. 7, 2020 at 00:00" in night and "still there" in night


def test_a_moment_that_is_not_a_date_is_explained_on_the_place_page(cast: Cast, journey: Journey) -> None:
    response = cast.registrar_a.session_client().get("/custody/places/PAL-DEN/?at=yesterday")
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()


def test_the_inbox_lists_open_anomalies_with_readable_evidence(cast: Cast, journey: Journey) -> None:
    html = page(cast.registrar_a.session_client(), "/custody/anomalies/")
    assert "2 anomalies" in html
    assert "Seen in two places too close in time" in html and "Unknown identifier" in html
    assert "First seen at" in html and 'href="/custody/places/CCL-Z1-S1/"' in html  # evidence
    assert "176.2" in html and "Jan. 7, 2020, 13:20" in html  # kilometres, and when it was there
    # the event that raised it: its step, time (Paris), sender and id
    assert "Stock-take" in html and "Jan. 7, 2020, 13:30" in html and journey.travel.event_id in html
    assert "<code>R/9</code>" in html  # no page can exist for that code: shown, not linked
    kind = page(cast.registrar_a.session_client(), "/custody/anomalies/?kind=unknown_identifier&open=1")
    assert "1 anomaly" in kind and f'id="anomaly-{journey.travel.pk}"' not in kind


def test_a_registrar_resolves_an_anomaly_with_htmx_and_gets_the_row_back(
    cast: Cast, journey: Journey
) -> None:
    response = resolve(
        cast.registrar_a.session_client(), journey.travel, "Rescanned: a reader bug", htmx=True
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<tr") and "<html" not in html
    assert (
        "Resolved by user:registrar-a" in html and "Rescanned: a reader bug" in html and "<form" not in html
    )
    fact = Fact.objects.get(type="moves.anomaly.resolved")
    body = json.loads(fact.body)
    assert body["comment"] == "Rescanned: a reader bug" and body["anomaly"]["kind"] == "impossible_travel"
    assert fact.actor == "user:registrar-a"
    journey.travel.refresh_from_db()
    assert journey.travel.resolved_at is not None
    assert "1 anomaly" in page(cast.registrar_a.session_client(), "/custody/anomalies/")
    assert "2 anomalies" in page(cast.registrar_a.session_client(), "/custody/anomalies/?open=0")


def test_without_javascript_the_resolve_form_posts_and_comes_back(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    response = resolve(client, journey.travel, "Rescanned", htmx=False, next_url="/custody/works/INV%207523/")
    assert response.status_code == 302 and response["Location"] == "/custody/works/INV%207523/"
    assert "Anomaly resolved." in page(client, response["Location"])
    assert Fact.objects.filter(type="moves.anomaly.resolved").count() == 1


def test_the_resolve_form_does_not_send_people_to_another_site(cast: Cast, journey: Journey) -> None:
    response = resolve(
        cast.registrar_a.session_client(), journey.travel, "ok", htmx=False, next_url="https://x.example/"
    )
    assert response.status_code == 302 and response["Location"] == "/custody/anomalies/"


def test_an_empty_comment_is_shown_next_to_the_form(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    for htmx in (True, False):
        response = resolve(client, journey.travel, "   ", htmx=htmx)
        html = response.content.decode()
        assert response.status_code == 422 and "Say how the anomaly was resolved." in html
        assert f'id="resolve-{journey.travel.pk}-comment"' in html
        assert ("<html" in html) is not htmx  # the row for htmx, else the anomaly's own page
    assert not Fact.objects.filter(type="moves.anomaly.resolved").exists()


def test_resolving_an_anomaly_twice_says_it_is_already_resolved(cast: Cast, journey: Journey) -> None:
    first, second = cast.registrar_a.session_client(), cast.admin_a.session_client()
    assert resolve(first, journey.travel, "Rescanned", htmx=True).status_code == 200
    response = resolve(second, journey.travel, "Also rescanned", htmx=True)
    html = response.content.decode()
    assert response.status_code == 409 and "This anomaly has already been resolved." in html
    assert "Rescanned" in html and "Also rescanned" not in html
    assert Fact.objects.filter(type="moves.anomaly.resolved").count() == 1


def test_only_roles_that_may_resolve_see_the_form(cast: Cast, journey: Journey) -> None:
    reader = analyst(cast).session_client()
    html = page(reader, "/custody/anomalies/")
    assert "Seen in two places too close in time" in html and '<form class="resolve"' not in html
    assert "Waiting for a registrar." in html
    assert resolve(reader, journey.travel, "I think it is fine", htmx=True).status_code == 403
    assert Anomaly.objects.get(pk=journey.travel.pk).resolved_at is None


def test_roles_without_custody_get_403_and_other_institutions_get_404(cast: Cast, journey: Journey) -> None:
    own = ("/custody/works/", "/custody/anomalies/")
    theirs = (WORK, "/custody/places/CCL-B1/", f"/custody/anomalies/{journey.travel.pk}/resolve")
    gate = cast.gate_agent_a.session_client()
    for path in own + theirs:
        assert gate.get(path).status_code == 403, path
    for persona in (cast.partner_b, cast.outsider):
        client = persona.session_client()
        for path in own:
            assert client.get(path).status_code == 403, (persona.username, path)
        for path in theirs:
            assert client.get(path).status_code == 404, (persona.username, path)
        assert resolve(client, journey.travel, "mine now", htmx=True).status_code == 404
    assert not Fact.objects.filter(type="moves.anomaly.resolved").exists()


def test_only_custody_roles_get_the_links_and_the_home_panel(cast: Cast, journey: Journey) -> None:
    registrar = page(cast.registrar_a.session_client(), "/")
    assert 'href="/custody/works/"' in registrar and 'href="/custody/anomalies/"' in registrar
    panel = registrar.split('data-panel="moves.anomalies"')[1]
    assert '<p class="big-number">2</p>' in panel
    gate = page(cast.gate_agent_a.session_client(), "/")
    assert "/custody/" not in gate and 'data-panel="moves.anomalies"' not in gate


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_the_lists_do_not_query_once_per_row(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    before = queries(client, "/custody/works/"), queries(client, "/custody/anomalies/")
    for n in range(20):
        Work.objects.create(
            institution=cast.institution_a, inventory=f"RF {n}", title="Vase", department="OA"
        )
    strangers = [f"urn:cimaise:work:louvre:NOPE%20{n}" for n in range(20)]
    custody_capture(actor=cast.registrar_a.actor, payload=[object_event(strangers, "cycle_counting", 2000)])
    after = queries(client, "/custody/works/"), queries(client, "/custody/anomalies/")
    assert after == before
    assert "22 anomalies" in page(client, "/custody/anomalies/")


def test_the_custody_pages_speak_french(cast: Cast, journey: Journey) -> None:
    client = cast.registrar_a.session_client()
    work = html.unescape(page(client, WORK, **{"Accept-Language": "fr"}))
    assert 'lang="fr"' in work and "Chaîne de garde" in work and "Constat d'état" in work
    assert ">Rangé<" in work and "Peintures" in work and "19,2 °C" in work and "6 janvier 2020, 09:00" in work
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    inbox = page(client, "/custody/anomalies/")
    assert "Anomalies de garde" in inbox and "Vu en deux endroits trop rapprochés dans le temps" in inbox
    assert "Résoudre" in inbox
    search = page(client, "/custody/works/?status=stored")
    assert "4 œuvres" in search and "Localisation actuelle" in search


def test_sensor_readings_are_read_however_their_type_is_written() -> None:
    body = {
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2020-01-06T10:00:00Z"},
                "sensorReport": [
                    {
                        "type": "https://gs1.org/voc/Temperature",
                        "minValue": 18,
                        "maxValue": 20.5,
                        "uom": "CEL",
                    },
                    {
                        "type": "gs1:Acceleration",
                        "value": 4,
                        "uom": "K40",
                        "exception": "gs1:ALARM_CONDITION",
                    },
                    {"type": "Pressure", "value": 1, "uom": "BAR"},
                ],
            }
        ]
    }
    with translation.override("en"):
        readings = sensor_readings(body)
    assert [(r.label, r.value) for r in readings] == [
        ("Temperature", "18 – 20.5 °C"),
        ("Shock (acceleration)", "4 g"),
        ("Pressure", "1 BAR"),
    ]
    assert readings[1].exception == "ALARM_CONDITION" and readings[0].time is not None
    assert sensor_readings({"sensorElementList": ["not an element"]}) == []
