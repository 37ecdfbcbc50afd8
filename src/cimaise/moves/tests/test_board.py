"""The live board at /custody/board/: the map (route, track, last position), the convoys with
their open incidents, the panel htmx polls, and who may see it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, make_persona
from cimaise.moves.models import ConvoyState
from cimaise.moves.telemetry import devices
from cimaise.moves.telemetry.services import telemetry_ingest
from cimaise.moves.tests.factories import Transfer

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
PARIS, LIEVIN = (48.860611, 2.337644), (50.4186, 2.7817)


def _at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def _readings() -> list[dict[str, Any]]:
    readings: list[dict[str, Any]] = []
    for m in range(10):
        f = m * 0.005
        lat, lon = PARIS[0] + (LIEVIN[0] - PARIS[0]) * f, PARIS[1] + (LIEVIN[1] - PARIS[1]) * f
        readings.append(
            {"id": f"p{m}", "time": _at(m), "type": "position", "lat": lat, "lon": lon, "speed": 80}
        )
    readings += [{"id": f"t{m}", "time": _at(m), "type": "temperature", "value": 23.0} for m in range(5)]
    return readings


@pytest.fixture
def on_the_road(cast: Cast, transfer: Transfer) -> Transfer:
    convoy = transfer.convoy
    convoy.route = [list(PARIS), [49.3, 2.45], [49.9, 2.6], list(LIEVIN)]
    convoy.state = ConvoyState.IN_TRANSIT
    convoy.save()
    tracker = devices.tracker_register(actor=cast.admin_a.actor, vehicle=transfer.vehicle, label="T1")
    result = telemetry_ingest(
        device=tracker.device, convoy=convoy, readings=_readings(), now=T0 + dt.timedelta(hours=1)
    )
    assert [i.kind for i in result.opened] == ["temperature"]
    return transfer


def test_the_registrar_sees_the_route_the_track_and_the_incident(cast: Cast, on_the_road: Transfer) -> None:
    response = cast.registrar_a.session_client().get("/custody/board/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<polyline class="route"' in html and '<polyline class="track"' in html
    assert 'class="last"' in html and 'data-convoy="CV-001"' in html
    assert "CV-001" in html and "Temperature outside" in html
    assert 'hx-trigger="every 30s"' in html and 'hx-get="/custody/board/panel/"' in html


def test_the_panel_renders_alone(cast: Cast, on_the_road: Transfer) -> None:
    response = cast.registrar_a.session_client().get("/custody/board/panel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and '<polyline class="track"' in html and "CV-001" in html


def test_a_gate_agent_is_refused(cast: Cast, on_the_road: Transfer) -> None:
    client = cast.gate_agent_a.session_client()
    assert client.get("/custody/board/").status_code == 403
    assert client.get("/custody/board/panel/").status_code == 403


def test_another_institution_sees_none_of_ours(cast: Cast, on_the_road: Transfer) -> None:
    other = make_persona("registrar-b", cast.institution_b, [Role.REGISTRAR], cast.site_b)
    response = other.session_client().get("/custody/board/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "CV-001" not in html and "polyline" not in html and "Palais du Louvre" not in html
