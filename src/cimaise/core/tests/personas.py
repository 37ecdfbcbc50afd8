"""The fixed cast of the tests: institution A (the Louvre) and B (a partner museum).

- ``registrar_a``, ``gate_agent_a``, ``ticketing_manager_a``, ``admin_a``: staff of A;
- ``partner_b``: the partner site of institution B;
- ``outsider``: a signed-up user of B with no role;
- anonymous: no credentials at all (``anon_client``).

Each persona has an API token (``persona.token``) and can give a bearer-authenticated client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from cimaise.core import services
from cimaise.core.actors import Actor, actor_for
from cimaise.core.models import Institution, Person, Site
from cimaise.core.roles import Role


@dataclass
class Persona:
    person: Person
    token: str

    @property
    def username(self) -> str:
        return self.person.user.get_username()

    @property
    def actor(self) -> Actor:
        actor = actor_for(self.person.user)
        assert actor is not None
        return actor

    def client(self) -> Client:
        """A client sending this persona's bearer token on every request."""
        return Client(headers={"Authorization": f"Bearer {self.token}"})

    def session_client(self) -> Client:
        client = Client()
        client.force_login(self.person.user)
        return client


@dataclass
class Cast:
    institution_a: Institution
    institution_b: Institution
    site_a: Site
    site_b: Site
    registrar_a: Persona
    gate_agent_a: Persona
    ticketing_manager_a: Persona
    admin_a: Persona
    partner_b: Persona
    outsider: Persona


def make_persona(username: str, institution: Institution, roles: list[Role], site: Site) -> Persona:
    person = services.person_enroll(
        username=username, institution=institution, roles=roles, password="pw", home_site=site
    )
    issued = services.token_create(user=person.user, label=f"{username} test token", actor="system:test")
    return Persona(person=person, token=issued.raw)


def make_cast() -> Cast:
    a = Institution.objects.create(code="louvre", name="Musée du Louvre")
    b = Institution.objects.create(code="orsay", name="Musée d'Orsay")
    site_a = Site.objects.create(institution=a, code="PAL", name="Palais du Louvre")
    site_b = Site.objects.create(institution=b, code="ORSAY", name="Musée d'Orsay")
    return Cast(
        institution_a=a,
        institution_b=b,
        site_a=site_a,
        site_b=site_b,
        registrar_a=make_persona("registrar-a", a, [Role.REGISTRAR], site_a),
        gate_agent_a=make_persona("gate-agent-a", a, [Role.GATE_AGENT], site_a),
        ticketing_manager_a=make_persona("ticketing-a", a, [Role.TICKETING_MANAGER], site_a),
        admin_a=make_persona("admin-a", a, [Role.ADMIN], site_a),
        partner_b=make_persona("partner-b", b, [Role.PARTNER_SITE], site_b),
        outsider=make_persona("outsider", b, [], site_b),
    )


@pytest.fixture
def cast(db: Any) -> Cast:
    return make_cast()


@pytest.fixture
def anon_client() -> Client:
    return Client()
