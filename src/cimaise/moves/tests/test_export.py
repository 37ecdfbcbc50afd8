"""``cimaise epcis export``: the document validates against the standard's JSON schema (checked
offline, formats included), holds every kind of event we capture, filters on record time and by
convoy, and round-trips through capture; the standard's own example documents are captured with
their published eventIDs.

The schema and examples are read from ``shared/epcis`` beside the repository; without it these
tests skip, saying so.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT7

from cimaise.collection.models import Work
from cimaise.core.tests.personas import Cast
from cimaise.core.tests.requirements import unmet
from cimaise.moves.models import Convoy, ConvoyItem, Crate, CustodyEvent
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.epcis_data import shared_epcis
from cimaise.moves.tests.factories import (
    Transfer,
    aggregation,
    at,
    document,
    full_journey,
    object_event,
    place,
)

pytestmark = pytest.mark.django_db

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CAPTURE = "/api/v1/epcis/capture"
EX = {"ex": "https://example.org/ns/"}
EXAMPLES = [
    "Example_9.6.1-ObjectEvent.jsonld",
    "Example_9.6.2-ObjectEvent.jsonld",
    "Example_9.6.3-AggregationEvent.jsonld",
    "SensorDataExample1.jsonld",
    "SensorDataExample2.jsonld",
    "SensorDataExample3.jsonld",
]


# The standard's schema, checked offline ------------------------------------------------------


def shared_json(name: str) -> Any:
    path = shared_epcis() / name
    if not path.is_file():
        unmet(f"EPCIS reference data not found: {path} (set CIMAISE_EPCIS_DATA to shared/epcis)")
    return json.loads(path.read_text(encoding="utf-8"))


_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9._~!$&'()*+,;=:@/?#\[\]-]|%[0-9A-Fa-f]{2})*")


def _is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time``, as JSON schema means it."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    """An absolute RFC 3986 URI: a scheme, then only URI characters and %-escapes."""
    return not isinstance(value, str) or bool(_URI.fullmatch(value))


def format_checker() -> FormatChecker:
    """Draft 7's format checker, with ``date-time`` and ``uri`` made real.

    jsonschema checks those two only when optional packages (rfc3339-validator, rfc3987) are
    installed, and otherwise lets any string pass, which would hide a malformed recordTime and,
    worse, every undeclared field (the schema's ``propertyNames`` accept any ``format: uri``).
    """
    checker = FormatChecker(list(Draft7Validator.FORMAT_CHECKER.checkers))
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return checker


@cache
def schema_registry() -> tuple[dict[str, Any], Registry[Any]]:
    """The schema and a registry holding it (and the JSON-LD context) under their public URLs."""
    schema: dict[str, Any] = shared_json("EPCIS-JSON-Schema.json")
    context = Resource.opaque(shared_json("epcis-context.jsonld"))
    # A registry given no ``retrieve`` fetches nothing: a reference it does not hold is an error,
    # never a download.
    registry: Registry[Any] = Registry().with_resources(
        [(schema["$id"], DRAFT7.create_resource(schema)), (EPCIS_CONTEXT, context)]
    )
    return schema, registry


@cache
def epcis_validator() -> Draft7Validator:
    schema, registry = schema_registry()
    assert validator_for(schema) is Draft7Validator, schema.get("$schema")
    return Draft7Validator(schema, registry=registry, format_checker=format_checker())


def schema_errors(document: Any) -> list[str]:
    errors = epcis_validator().iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}" for e in errors]


def assert_valid(document: Any) -> None:
    errors = schema_errors(document)
    assert not errors, "\n".join(errors[:20])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_the_epcis_schema_is_draft_7_and_every_reference_resolves_offline() -> None:
    schema, registry = schema_registry()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    resolver = registry.resolver(base_uri=schema["$id"])
    refs = set(_refs(schema))
    assert refs
    for ref in refs:
        assert resolver.lookup(ref).contents is not None, ref
    with pytest.raises(Unresolvable):
        resolver.lookup("https://ref.gs1.org/standards/epcis/2.0.0/elsewhere.json")


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_standards_examples_pass_our_schema_check(name: str) -> None:
    assert_valid(shared_json(name))


def test_the_schema_check_refuses_a_bad_time_and_an_undeclared_field() -> None:
    example = shared_json("Example_9.6.1-ObjectEvent.jsonld")
    bad_time = copy.deepcopy(example)
    bad_time["epcisBody"]["eventList"][0]["recordTime"] = "2005-04-05 10:00:00"
    assert any("recordTime" in error for error in schema_errors(bad_time))
    undeclared = copy.deepcopy(example)
    undeclared["epcisBody"]["eventList"][0]["note"] = "a field of no namespace"
    assert schema_errors(undeclared)
    no_context = copy.deepcopy(example)
    del no_context["@context"]
    assert schema_errors(no_context)


# A journey with every kind of event, captured through the API ---------------------------------


def post(client: Client, payload: Any) -> Any:
    return client.post(CAPTURE, data=json.dumps(payload), content_type="application/ld+json")


def capture(
    client: Client, events: list[dict[str, Any]], prefixes: dict[str, str] | None = None
) -> list[str]:
    payload = document(events)
    if prefixes:
        payload["@context"].append(prefixes)
    response = post(client, payload)
    assert response.status_code == 201, response.content
    ids: list[str] = response.json()["eventIDs"]
    return ids


def sensor_event(t: Transfer, minutes: float) -> dict[str, Any]:
    """The truck's climate and shock logger on the road, shaped like the standard's sensor examples."""
    metadata = {
        "deviceID": "urn:epc:id:giai:4000001.111",
        "deviceMetadata": "https://id.gs1.org/8004/4000001111",
    }
    readings = [
        ("2020-01-06T09:00:00.000Z", 19.1, 52.0, 0.2),
        ("2020-01-06T09:30:00.000Z", 19.4, 53.5, 1.8),
    ]
    return object_event(
        [t.truck],
        "transporting",
        minutes,
        disposition="in_transit",
        readPoint={"id": "urn:epc:id:sgln:4012345.00005.0"},
        bizTransactionList=[{"type": "bol", "bizTransaction": t.convoy.uri}],
        sensorElementList=[
            {
                "sensorMetadata": {**metadata, "time": time},
                "sensorReport": [
                    {"type": "Temperature", "value": celsius, "uom": "CEL"},
                    {"type": "RelativeHumidity", "value": humidity, "uom": "P1"},
                    {"type": "Acceleration", "value": shock, "uom": "MSK"},
                ],
            }
            for time, celsius, humidity, shock in readings
        ],
    )


def capture_everything(cast: Cast, t: Transfer) -> list[dict[str, Any]]:
    """Capture a journey with sensor readings, an extension field, an error declaration and its
    corrective event; the events as sent, each with its eventID, in capture order."""
    client = cast.registrar_a.client()
    sent: list[dict[str, Any]] = []
    journey = full_journey(t)
    journey.insert(5, sensor_event(t, 100))
    noted = [object_event([t.work(0)], "inspecting", 1720, **{"ex:note": "frame checked"})]
    for events, prefixes in ((journey, None), (noted, EX)):
        ids = capture(client, events, prefixes)
        sent += [{**event, "eventID": event_id} for event, event_id in zip(events, ids, strict=True)]
    stored = sent[len(journey) - 1]
    corrective = object_event(
        [w.uri for w in t.works],
        "storing",
        1701,
        bizLocation=place(t.ccl_shelf),
        readPoint=place(t.ccl_shelf),
    )
    corrective["eventID"] = "urn:uuid:6f3d2a8e-3c1b-4f4e-9a57-2b0c4d1e8f10"
    declaration = {
        **stored,
        "errorDeclaration": {
            "declarationTime": at(1800),
            "reason": "incorrect_data",
            "correctiveEventIDs": [corrective["eventID"]],
        },
    }
    capture(client, [declaration, corrective])
    return [*sent, declaration, corrective]


def export(*args: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "custody.jsonld"
    call_command("epcis", "export", *args, "-o", str(out))
    exported: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return exported


def events_of(exported: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = exported["epcisBody"]["eventList"]
    return events


def without_record_time(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in event.items() if k != "recordTime"} for event in events]


def test_an_export_validates_against_the_epcis_schema(cast: Cast, transfer: Transfer, tmp_path: Path) -> None:
    epcis_validator()  # skip before capturing anything when the schema is not there
    sent = capture_everything(cast, transfer)
    exported = export(tmp_path=tmp_path)
    assert_valid(exported)
    events = events_of(exported)
    assert len(events) == len(sent) == 15
    kinds = {(e["type"], e["action"]) for e in events}
    assert {("ObjectEvent", "OBSERVE"), ("AggregationEvent", "ADD"), ("AggregationEvent", "DELETE")} <= kinds
    assert "urn:cimaise:bizstep:acclimatising" in {e["bizStep"] for e in events}
    convoys = [t["bizTransaction"] for e in events for t in e.get("bizTransactionList", [])]
    assert transfer.convoy.uri in convoys
    readings = [r["type"] for e in events for s in e.get("sensorElementList", []) for r in s["sensorReport"]]
    assert readings == ["Temperature", "RelativeHumidity", "Acceleration"] * 2
    assert [e["ex:note"] for e in events if "ex:note" in e] == ["frame checked"]
    assert sum("errorDeclaration" in e for e in events) == 1


def test_an_export_declares_the_epcis_context_first_then_the_prefixes_its_events_use(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    capture_everything(cast, transfer)
    exported = export(tmp_path=tmp_path)
    assert next(iter(exported)) == "@context"
    assert exported["@context"] == [EPCIS_CONTEXT, EX]
    assert (exported["type"], exported["schemaVersion"]) == ("EPCISDocument", "2.0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", exported["creationDate"])
    record_times = [e["recordTime"] for e in events_of(exported)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in record_times)


def test_an_error_declaration_is_exported_beside_the_event_it_retracts(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    sent = capture_everything(cast, transfer)
    declared = sent[-2]
    events = events_of(export(tmp_path=tmp_path))
    same_id = [e for e in events if e["eventID"] == declared["eventID"]]
    assert [("errorDeclaration" in e) for e in same_id] == [False, True]
    assert same_id[1]["errorDeclaration"]["correctiveEventIDs"] == [sent[-1]["eventID"]]
    assert CustodyEvent.objects.get(event_id=declared["eventID"], is_declaration=False).retracted


def test_an_exported_document_recaptured_records_nothing_and_matches_what_was_captured(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    sent = capture_everything(cast, transfer)
    exported = export(tmp_path=tmp_path)
    assert without_record_time(events_of(exported)) == sent
    before = CustodyEvent.objects.count()
    response = post(cast.registrar_a.client(), exported)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["recorded"], body["alreadyRecorded"]) == (0, len(sent))
    assert body["eventIDs"] == [event["eventID"] for event in sent]
    assert CustodyEvent.objects.count() == before
    again = export(tmp_path=tmp_path)
    assert events_of(again) == events_of(exported)


def test_an_export_shows_its_progress_and_count_on_stderr(
    cast: Cast, transfer: Transfer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture_everything(cast, transfer)
    capsys.readouterr()
    export(tmp_path=tmp_path)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "events: 100%" in captured.err and "15/15" in captured.err
    assert captured.err.rstrip().endswith("15 events written")


def test_an_export_to_standard_output_writes_only_the_document_there(
    cast: Cast, transfer: Transfer, capsys: pytest.CaptureFixture[str]
) -> None:
    capture(cast.registrar_a.client(), full_journey(transfer))
    capsys.readouterr()
    call_command("epcis", "export", "-o", "-")
    captured = capsys.readouterr()
    assert len(events_of(json.loads(captured.out))) == 11
    assert "11 events written" in captured.err


def test_an_export_of_nothing_is_still_a_valid_document(cast: Cast, tmp_path: Path) -> None:
    exported = export(tmp_path=tmp_path)
    assert exported["@context"] == [EPCIS_CONTEXT]
    assert events_of(exported) == []
    assert_valid(exported)


def test_since_keeps_the_events_recorded_from_that_moment_whatever_their_event_time(
    cast: Cast, transfer: Transfer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actor = cast.registrar_a.actor
    journey = full_journey(transfer)
    monday, wednesday = (dt.datetime(2020, 1, day, tzinfo=dt.UTC) for day in (6, 8))
    custody_capture(actor=actor, payload=journey[:5], now=monday + dt.timedelta(hours=12))
    custody_capture(actor=actor, payload=journey[5:], now=wednesday)
    late = object_event([transfer.work(3)], "inspecting", -60)  # happened first, recorded last
    custody_capture(actor=actor, payload=[late], now=wednesday + dt.timedelta(days=1))
    capsys.readouterr()
    exported = export("--since", "2020-01-08T00:00:00Z", tmp_path=tmp_path)
    assert "7/7" in capsys.readouterr().err  # the bar counts what is exported, not everything
    events = events_of(exported)
    assert [e["bizStep"] for e in events] == [e["bizStep"] for e in [*journey[5:], late]]
    assert {e["recordTime"][:10] for e in events} == {"2020-01-08", "2020-01-09"}
    assert len(events_of(export("--since", "2020-01-08T01:00:00+01:00", tmp_path=tmp_path))) == 7
    assert len(events_of(export("--since", "2020-01-10T00:00:00Z", tmp_path=tmp_path))) == 0


def second_convoy(t: Transfer) -> tuple[Convoy, Work]:
    """Next week's convoy: the same truck, another work in a new crate."""
    work = Work.objects.create(
        institution=t.institution, inventory="INV 9001", title="Autre", department="PEI"
    )
    crate = Crate.objects.create(institution=t.institution, barcode="C900")
    convoy = Convoy.objects.create(institution=t.institution, code="CV-002", vehicle=t.vehicle)
    ConvoyItem.objects.create(convoy=convoy, work=work, crate=crate)
    return convoy, work


def test_a_convoy_export_holds_its_events_and_those_of_what_it_carried_only(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    client = cast.registrar_a.client()
    journey = full_journey(transfer)
    journey.insert(5, sensor_event(transfer, 100))
    mine = capture(client, journey)
    convoy, work = second_convoy(transfer)
    own = [{"type": "bol", "bizTransaction": convoy.uri}]
    crate = "urn:cimaise:crate:louvre:C900"
    theirs = capture(
        client,
        [
            object_event([work.uri], "inspecting", 10_000),
            aggregation(crate, [work.uri], "packing", 10_010),
            aggregation(
                transfer.truck, [crate, transfer.crate(0)], "loading", 10_020, bizTransactionList=own
            ),
            object_event([transfer.truck], "departing", 10_030, bizTransactionList=own),
        ],
    )
    exported = export("--convoy", "CV-001", tmp_path=tmp_path)
    assert [e["eventID"] for e in events_of(exported)] == mine
    # CV-002 reused crate C000: its packing and unpacking on CV-001 are events of what CV-002
    # carried, but CV-001's own events (loading, departing, arriving, unloading) are not.
    later = [e["eventID"] for e in events_of(export("--convoy", "CV-002", tmp_path=tmp_path))]
    assert set(theirs) <= set(later)
    assert not {mine[i] for i in (3, 4, 5, 6, 7)} & set(later)


def test_a_prefix_bound_to_two_namespaces_is_written_in_full_where_it_clashes(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    client = cast.registrar_a.client()
    first = object_event([transfer.work(0)], "inspecting", 0, **{"ex:note": "first"})
    second = object_event([transfer.work(1)], "inspecting", 1, **{"ex:note": "second"})
    capture(client, [first], EX)
    capture(client, [second], {"ex": "https://other.example/terms#"})
    exported = export(tmp_path=tmp_path)
    assert exported["@context"] == [EPCIS_CONTEXT, EX]
    events = events_of(exported)
    assert events[0]["ex:note"] == "first"
    assert "ex:note" not in events[1] and events[1]["https://other.example/terms#note"] == "second"
    assert_valid(exported)
    assert post(client, exported).json()["alreadyRecorded"] == 2


def test_an_unknown_convoy_a_since_without_time_zone_or_a_missing_directory_is_refused(
    cast: Cast, transfer: Transfer, tmp_path: Path
) -> None:
    out = str(tmp_path / "never.jsonld")
    with pytest.raises(CommandError, match="no convoy 'CV-404'"):
        call_command("epcis", "export", "--convoy", "CV-404", "-o", out)
    with pytest.raises(CommandError, match="time zone"):
        call_command("epcis", "export", "--since", "2020-01-08T00:00:00", "-o", out)
    with pytest.raises(CommandError, match="no directory"):
        call_command("epcis", "export", "-o", str(tmp_path / "missing" / "custody.jsonld"))
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_export_leaves_the_previous_file_as_it_was(
    cast: Cast, transfer: Transfer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture(cast.registrar_a.client(), full_journey(transfer))
    previous = export(tmp_path=tmp_path)

    def broken(out: Any, events: Any, **kwargs: Any) -> int:
        out.write('{"@context": [')
        raise OSError("disk full")

    monkeypatch.setattr("cimaise.moves.management.commands.epcis.write_document", broken)
    with pytest.raises(OSError, match="disk full"):
        export(tmp_path=tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["custody.jsonld"]
    assert json.loads((tmp_path / "custody.jsonld").read_text(encoding="utf-8")) == previous


# The standard's own examples, captured as they are published -----------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_standards_example_documents_are_captured_with_their_event_ids(cast: Cast, name: str) -> None:
    example = shared_json(name)
    published = [event["eventID"] for event in example["epcisBody"]["eventList"]]
    response = post(cast.registrar_a.client(), example)
    assert response.status_code == 201, response.content
    assert response.json()["eventIDs"] == published
    stored = CustodyEvent.objects.filter(institution=cast.institution_a).order_by("pk")
    assert [event.body for event in stored] == example["epcisBody"]["eventList"]


def test_the_standards_examples_export_as_they_were_published(cast: Cast, tmp_path: Path) -> None:
    originals = []
    for name in EXAMPLES[:5]:
        example = shared_json(name)
        assert post(cast.registrar_a.client(), example).status_code == 201
        originals += example["epcisBody"]["eventList"]
    exported = export(tmp_path=tmp_path)
    assert_valid(exported)
    assert exported["@context"] == [EPCIS_CONTEXT, {"example": "http://ns.example.com/epcis/"}]
    assert without_record_time(events_of(exported)) == originals


def test_an_ambient_sensor_report_naming_no_object_is_kept(cast: Cast) -> None:
    """SensorDataExample3 reports readings at a read point with an empty epcList (a room's climate
    logger): valid EPCIS 2.0, kept with its readings, changing no object's custody."""
    example = shared_json("SensorDataExample3.jsonld")
    assert_valid(example)
    response = post(cast.registrar_a.client(), example)
    assert response.status_code == 201, response.content
    stored = CustodyEvent.objects.get()
    assert stored.body["sensorElementList"] == example["epcisBody"]["eventList"][0]["sensorElementList"]
    assert stored.event_id == example["epcisBody"]["eventList"][0]["eventID"]
