"""Staff pages: login, a home page per role with real data, the place tree, API tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from cimaise.core import services
from cimaise.core.models import ApiToken
from cimaise.core.services import PlaceSpec
from cimaise.core.tests.personas import Cast

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(anon_client: Client) -> None:
    for path in ("/", "/places/", "/tokens/"):
        response = anon_client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_login_with_the_password_lands_on_home(cast: Cast) -> None:
    client = Client()
    response = client.post("/login/", {"username": "registrar-a", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Palais du Louvre" in response.content.decode()


def test_a_wrong_password_is_refused(cast: Cast) -> None:
    response = Client().post("/login/", {"username": "registrar-a", "password": "nope"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()


def test_each_role_sees_its_own_navigation_and_panels(cast: Cast) -> None:
    registrar = cast.registrar_a.session_client().get("/").content.decode()
    assert 'href="/places/"' in registrar and 'data-panel="core.sites"' in registrar
    assert 'data-panel="ledger.head"' not in registrar
    gate = cast.gate_agent_a.session_client().get("/").content.decode()
    assert 'href="/places/"' not in gate
    admin = cast.admin_a.session_client().get("/").content.decode()
    assert 'data-panel="core.people"' in admin and 'data-panel="ledger.head"' in admin
    assert "core.token.created" in admin  # the ledger panel lists real facts


def test_the_place_tree_expands_with_htmx(cast: Cast) -> None:
    actor = cast.registrar_a.actor
    b = services.place_create(actor=actor, spec=PlaceSpec("B", "Bâtiment", "building", cast.site_a))
    services.place_create(actor=actor, spec=PlaceSpec("B-R1", "Réserve 1", "room", cast.site_a, b))
    client = cast.registrar_a.session_client()
    page = client.get("/places/").content.decode()
    assert "Bâtiment" in page and 'hx-get="/places/B/children/"' in page
    partial = client.get("/places/B/children/", headers={"HX-Request": "true"}).content.decode()
    assert "Réserve 1" in partial and "<html" not in partial
    assert "B-R1" in client.get("/places/?q=R1").content.decode()


def test_the_place_tree_is_closed_to_other_roles_and_institutions(cast: Cast) -> None:
    services.place_create(actor=cast.registrar_a.actor, spec=PlaceSpec("B", "B", "building", cast.site_a))
    assert cast.gate_agent_a.session_client().get("/places/").status_code == 403
    assert cast.partner_b.session_client().get("/places/B/children/").status_code == 404


def test_a_token_made_on_the_page_is_shown_once_and_can_be_revoked(cast: Cast) -> None:
    client = cast.gate_agent_a.session_client()
    page = client.post("/tokens/", {"label": "lane 4 handheld"}).content.decode()
    token = ApiToken.objects.get(label="lane 4 handheld")
    assert f"cim_{token.prefix}_" in page
    assert f"cim_{token.prefix}_" not in client.get("/tokens/").content.decode()
    client.post(f"/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_an_empty_token_label_is_refused_on_the_page(cast: Cast) -> None:
    response = cast.gate_agent_a.session_client().post("/tokens/", {"label": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=cast.gate_agent_a.person.user, label="").exists()


def test_pages_switch_to_french(cast: Cast) -> None:
    client = cast.registrar_a.session_client()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="fr"' in page and "Se déconnecter" in page
