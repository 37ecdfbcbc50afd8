"""The registry of works: CSV import (all or nothing, per-row errors), export, search, API."""

from __future__ import annotations

import pytest

from cimaise.collection.csvio import COLUMNS, export_csv
from cimaise.collection.models import Work
from cimaise.collection.services import works_import
from cimaise.core import services
from cimaise.core.errors import PermissionDenied
from cimaise.core.services import PlaceSpec
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact

pytestmark = pytest.mark.django_db

HEADER = (
    "inventory,title,department,artist,date,height_cm,width_cm,depth_cm,weight_kg,fragility,"
    "normal_place,barcode,insurance_value\n"
)
GOOD = (
    HEADER
    + 'INV 7523,Portrait de femme,PEI,Anonyme,vers 1500,77,53,5,"8,5",high,R1,W0001,1500000\n'
    + "E 3217,Statuette,AE,,,20.5,8,6,1.2,medium,,W0002,\n"
    + "RF 1977 12,Étude,AG,,,,,,,low,,,\n"
)


@pytest.fixture
def room(cast: Cast) -> None:
    actor = cast.registrar_a.actor
    b = services.place_create(actor=actor, spec=PlaceSpec("B", "Building", "building", cast.site_a))
    services.place_create(actor=actor, spec=PlaceSpec("R1", "Réserve 1", "room", cast.site_a, b))


def test_a_good_file_imports_every_row_with_a_fact_each(cast: Cast, room: None) -> None:
    report = works_import(actor=cast.registrar_a.actor, text=GOOD)
    assert report.ok and (report.created, report.updated) == (3, 0)
    work = Work.objects.get(inventory="INV 7523")
    assert str(work.weight_kg) == "8.50" and work.normal_place is not None and work.normal_place.code == "R1"
    assert work.uri == "urn:cimaise:work:louvre:INV%207523"
    assert Fact.objects.filter(type="collection.work.registered").count() == 3


def test_one_bad_row_imports_nothing_and_every_problem_is_reported(cast: Cast, room: None) -> None:
    bad = GOOD + "OA 10528,,XX,,,-3,,,heavy,brittle,NOWHERE,W0001,\n"
    report = works_import(actor=cast.registrar_a.actor, text=bad)
    assert not report.ok
    found = {(e.line, e.column) for e in report.errors}
    assert {(5, "title"), (5, "department"), (5, "height_cm"), (5, "weight_kg"), (5, "fragility"),
            (5, "normal_place"), (5, "barcode")} <= found  # fmt: skip
    assert Work.objects.count() == 0 and not Fact.objects.filter(type__startswith="collection").exists()


def test_an_unknown_or_missing_column_is_refused(cast: Cast) -> None:
    report = works_import(actor=cast.registrar_a.actor, text="inventory,colour\nINV 1,red\n")
    assert {(e.line, e.column, e.message) for e in report.errors} == {
        (1, "colour", "unknown column"), (1, "title", "required column missing"),
        (1, "department", "required column missing"),
    }  # fmt: skip


def test_a_reimport_updates_changed_works_only_and_records_the_change(cast: Cast, room: None) -> None:
    works_import(actor=cast.registrar_a.actor, text=GOOD)
    changed = GOOD.replace("Statuette,AE", "Statuette de scribe,AE")
    report = works_import(actor=cast.registrar_a.actor, text=changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    fact = Fact.objects.get(type="collection.work.changed")
    assert "Statuette de scribe" in fact.body and fact.stream == "collection.work:louvre:E 3217"


def test_export_reimports_unchanged(cast: Cast, room: None) -> None:
    works_import(actor=cast.registrar_a.actor, text=GOOD)
    exported = export_csv(Work.objects.select_related("normal_place").order_by("inventory"))
    assert exported.splitlines()[0] == ",".join(COLUMNS)
    report = works_import(actor=cast.registrar_a.actor, text=exported)
    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 0, 3)


def test_only_registrars_import(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        works_import(actor=cast.gate_agent_a.actor, text=GOOD)


class TestApi:
    @pytest.fixture(autouse=True)
    def works(self, cast: Cast, room: None) -> None:
        works_import(actor=cast.registrar_a.actor, text=GOOD)

    def test_a_registrar_lists_searches_and_reads_works(self, cast: Cast) -> None:
        client = cast.registrar_a.client()
        page = client.get("/api/v1/works").json()
        assert page["count"] == 3
        assert client.get("/api/v1/works?department=AE").json()["items"][0]["inventory"] == "E 3217"
        assert client.get("/api/v1/works?q=portrait").json()["count"] == 1
        assert client.get("/api/v1/works?place=B").json()["count"] == 1  # under the building
        one = client.get("/api/v1/works/INV 7523").json()
        assert one["uri"] == "urn:cimaise:work:louvre:INV%207523" and one["normal_place"]["code"] == "R1"
        assert one["place"] is None  # no custody event yet: the current place is unknown

    def test_another_institution_and_other_roles_see_nothing(self, cast: Cast) -> None:
        assert cast.partner_b.client().get("/api/v1/works/INV 7523").status_code == 404
        assert cast.partner_b.client().get("/api/v1/works").json()["count"] == 0
        assert cast.gate_agent_a.client().get("/api/v1/works/INV 7523").status_code == 403
        assert cast.gate_agent_a.client().get("/api/v1/works").json()["count"] == 0
        assert cast.registrar_a.client().get("/api/v1/works?department=XX").status_code == 422
