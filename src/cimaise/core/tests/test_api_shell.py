"""The API shell: authentication, the JSON error format, request ids, /me, tokens, places."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from cimaise.core import services
from cimaise.core.models import ApiToken, Place
from cimaise.core.services import PlaceSpec
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact

pytestmark = pytest.mark.django_db


def error_of(response: object) -> dict[str, object]:
    body = json.loads(response.content)  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert response["Content-Type"].startswith("application/json")  # type: ignore[index]
    return body["error"]  # type: ignore[no-any-return]


class TestMe:
    def test_each_persona_sees_itself_its_institution_and_roles(self, cast: Cast) -> None:
        for persona, inst, roles in [
            (cast.registrar_a, "louvre", ["registrar"]),
            (cast.gate_agent_a, "louvre", ["gate-agent"]),
            (cast.ticketing_manager_a, "louvre", ["ticketing-manager"]),
            (cast.partner_b, "orsay", ["partner-site"]),
            (cast.outsider, "orsay", []),
        ]:
            body = persona.client().get("/api/v1/me").json()
            assert body["username"] == persona.username
            assert body["institution"]["code"] == inst
            assert body["roles"] == roles
            assert body["via_token"] is True

    def test_a_session_works_too(self, cast: Cast) -> None:
        body = cast.registrar_a.session_client().get("/api/v1/me").json()
        assert body["username"] == "registrar-a" and body["via_token"] is False

    def test_anonymous_gets_401_json(self, anon_client: Client) -> None:
        response = anon_client.get("/api/v1/me")
        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer nonsense",
            "Bearer cim_00000000_xxxxxxxx",
            "Bearer ",
            "Basic abc",
            "Bearer cim_" + "x" * 300,
        ],
    )
    def test_a_malformed_or_unknown_token_gets_401_json(self, cast: Cast, header: str) -> None:
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"

    def test_a_revoked_token_stops_working_at_once(self, cast: Cast) -> None:
        client = cast.registrar_a.client()
        assert client.get("/api/v1/me").status_code == 200
        token = ApiToken.objects.get(user=cast.registrar_a.person.user)
        services.token_revoke(actor=cast.registrar_a.actor, token=token)
        assert client.get("/api/v1/me").status_code == 401

    def test_an_expired_token_is_refused(self, cast: Cast) -> None:
        issued = services.token_create(
            user=cast.registrar_a.person.user,
            label="short",
            actor="t",
            expires_at=timezone.now() + dt.timedelta(seconds=1),
        )
        ApiToken.objects.filter(pk=issued.token.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        response = Client(headers={"Authorization": f"Bearer {issued.raw}"}).get("/api/v1/me")
        assert response.status_code == 401

    def test_an_inactive_user_token_is_refused(self, cast: Cast) -> None:
        user = cast.registrar_a.person.user
        user.is_active = False
        user.save()
        assert cast.registrar_a.client().get("/api/v1/me").status_code == 401

    def test_token_use_is_recorded(self, cast: Cast) -> None:
        cast.registrar_a.client().get("/api/v1/me")
        assert ApiToken.objects.get(user=cast.registrar_a.person.user).last_used_at is not None


class TestErrors:
    def test_unknown_routes_get_json_404(self, cast: Cast) -> None:
        for path in ("/api/v1/nope", "/api/nothing", "/api/v2/me"):
            response = cast.registrar_a.client().get(path)
            assert response.status_code == 404, path
            assert error_of(response)["code"] == "not_found"

    def test_a_wrong_method_gets_json_405(self, cast: Cast) -> None:
        response = cast.registrar_a.client().put("/api/v1/me")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"

    def test_invalid_json_gets_a_400_naming_the_problem(self, cast: Cast) -> None:
        response = cast.registrar_a.client().post(
            "/api/v1/tokens", data="{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_json"

    def test_a_missing_field_is_named(self, cast: Cast) -> None:
        response = cast.registrar_a.client().post("/api/v1/tokens", data={}, content_type="application/json")
        assert response.status_code == 422
        error = error_of(response)
        assert str(error["message"]).startswith("label")
        assert error["details"][0]["field"] == "label"  # type: ignore[index]

    def test_a_naive_expiry_is_refused_with_its_field(self, cast: Cast) -> None:
        response = cast.registrar_a.client().post(
            "/api/v1/tokens",
            data={"label": "x", "expires_at": "2030-01-01T00:00:00"},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "expires_at"  # type: ignore[index]
        assert ApiToken.objects.filter(label="x").count() == 0

    def test_every_response_carries_a_request_id(self, cast: Cast, anon_client: Client) -> None:
        ok = cast.registrar_a.client().get("/api/v1/me")
        bad = anon_client.get("/api/v1/me")
        assert len(ok["X-Request-ID"]) == 32
        assert error_of(bad)["request_id"] == bad["X-Request-ID"]
        echoed = Client(headers={"X-Request-ID": "gate-7-000123"}).get("/api/v1/me")
        assert echoed["X-Request-ID"] == "gate-7-000123"

    def test_session_writes_need_the_csrf_token(self, cast: Cast) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(cast.registrar_a.person.user)
        response = client.post("/api/v1/tokens", data={"label": "x"}, content_type="application/json")
        assert response.status_code in (401, 403)
        error_of(response)
        assert not ApiToken.objects.filter(label="x").exists()

    def test_the_openapi_document_and_docs_page_work_offline(self, anon_client: Client) -> None:
        spec = anon_client.get("/api/v1/openapi.json").json()
        assert "/api/v1/me" in spec["paths"]
        docs = anon_client.get("/api/v1/docs")
        assert docs.status_code == 200
        html = docs.content.decode()
        assert "cdn" not in html.lower() and "/static/ninja/" in html


class TestTokens:
    def test_a_token_is_shown_once_and_stored_hashed(self, cast: Cast) -> None:
        response = cast.registrar_a.client().post(
            "/api/v1/tokens", data={"label": "handheld 12"}, content_type="application/json"
        )
        assert response.status_code == 201
        raw = response.json()["token"]
        stored = ApiToken.objects.get(label="handheld 12")
        assert raw not in stored.digest and raw.split("_")[1] == stored.prefix
        listed = cast.registrar_a.client().get("/api/v1/tokens").json()
        assert all("token" not in t for t in listed)
        assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me").status_code == 200
        assert Fact.objects.filter(type="core.token.created", body__contains=stored.prefix).exists()

    def test_someone_else_cannot_revoke_my_token(self, cast: Cast) -> None:
        mine = ApiToken.objects.get(user=cast.registrar_a.person.user)
        for persona in (cast.gate_agent_a, cast.partner_b, cast.outsider):
            response = persona.client().delete(f"/api/v1/tokens/{mine.pk}")
            assert response.status_code in (403, 404), persona.username
        assert ApiToken.objects.get(pk=mine.pk).revoked_at is None

    def test_an_administrator_of_the_same_institution_can_revoke(self, cast: Cast) -> None:
        mine = ApiToken.objects.get(user=cast.registrar_a.person.user)
        assert cast.admin_a.client().delete(f"/api/v1/tokens/{mine.pk}").status_code == 200
        assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
        again = cast.admin_a.client().delete(f"/api/v1/tokens/{mine.pk}")
        assert again.status_code == 409 and error_of(again)["code"] == "already_revoked"

    def test_anonymous_cannot_list_or_create(self, anon_client: Client) -> None:
        assert anon_client.get("/api/v1/tokens").status_code == 401
        assert (
            anon_client.post(
                "/api/v1/tokens", data={"label": "x"}, content_type="application/json"
            ).status_code
            == 401
        )


class TestPlaces:
    @pytest.fixture
    def shelf(self, cast: Cast) -> Place:
        actor = cast.registrar_a.actor
        building = services.place_create(
            actor=actor, spec=PlaceSpec("PAL-DEN", "Denon", "building", cast.site_a)
        )
        room = services.place_create(
            actor=actor, spec=PlaceSpec("PAL-DEN-R1", "Réserve 1", "room", cast.site_a, building)
        )
        return services.place_create(
            actor=actor,
            spec=PlaceSpec("PAL-DEN-R1-S1", "Tablette 1", "shelf", cast.site_a, room, barcode="P0001"),
        )

    def test_a_registrar_lists_and_reads_places(self, cast: Cast, shelf: Place) -> None:
        page = cast.registrar_a.client().get("/api/v1/places?limit=2").json()
        assert page["count"] == 3 and len(page["items"]) == 2 and "offset=2" in page["next"]
        one = cast.registrar_a.client().get("/api/v1/places/PAL-DEN-R1-S1").json()
        assert one["uri"] == "urn:cimaise:place:louvre:PAL-DEN-R1-S1"
        assert one["path"] == "PAL/PAL-DEN/PAL-DEN-R1/PAL-DEN-R1-S1"
        assert cast.registrar_a.client().get("/api/v1/places?q=P0001").json()["count"] == 1

    def test_a_role_without_place_rights_is_refused(self, cast: Cast, shelf: Place) -> None:
        assert cast.gate_agent_a.client().get("/api/v1/places/PAL-DEN").status_code == 403
        assert cast.gate_agent_a.client().get("/api/v1/places").json()["count"] == 0

    def test_another_institution_sees_nothing(self, cast: Cast, shelf: Place) -> None:
        assert cast.partner_b.client().get("/api/v1/places/PAL-DEN").status_code == 404
        assert cast.outsider.client().get("/api/v1/places").json()["count"] == 0

    def test_bad_paging_is_a_clear_422(self, cast: Cast) -> None:
        response = cast.registrar_a.client().get("/api/v1/places?limit=0")
        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "limit"  # type: ignore[index]


def test_health_answers_without_credentials_or_database(anon_client: Client) -> None:
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["X-Request-ID"]
