"""``cimaise demo`` and ``cimaise token create``."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from cimaise.core.demo_data import USERS
from cimaise.core.models import ApiToken, Institution, Person, Place
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--verbosity", "0", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return (
        Institution.objects.count(),
        Place.objects.count(),
        get_user_model().objects.count(),
        Fact.objects.count(),
    )


def test_the_small_demo_loads_twice_without_duplicating() -> None:
    first_out = run_demo()
    first = counts()
    assert "registrar" in first_out and "password 'demo'" in first_out
    assert first[1] > 100
    from cimaise.collection.models import Work

    assert Work.objects.count() == 5_000
    second_out = run_demo()
    assert counts() == first
    assert "already loaded" in second_out
    assert ledger_verify().ok


def test_the_demo_has_one_user_per_role_with_the_demo_password() -> None:
    run_demo()
    for username, *_rest in USERS:
        client = Client()
        assert client.login(username=username, password="demo"), username
    orsay = Person.objects.get(user__username="partner-orsay")
    assert orsay.institution.code == "orsay"
    assert set(orsay.user.groups.values_list("name", flat=True)) == {"partner-site"}
    assert Person.objects.get(user__username="registrar").line_manager.user.username == "approver"  # type: ignore[union-attr]


def test_the_demo_refuses_a_database_with_real_users() -> None:
    get_user_model().objects.create_user(username="real-person", password="x")
    with pytest.raises(CommandError, match="not a demo database"):
        run_demo()
    assert not get_user_model().objects.filter(username="registrar").exists()


def test_token_create_prints_a_working_token() -> None:
    run_demo()
    out = io.StringIO()
    call_command("token", "create", "--user", "registrar", "--label", "handheld 3", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("cim_")
    assert ApiToken.objects.get(label="handheld 3").digest != raw
    me = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me").json()
    assert me["username"] == "registrar" and me["roles"] == ["registrar"]


def test_token_create_names_a_bad_argument() -> None:
    with pytest.raises(CommandError, match="--user: no user named 'ghost'"):
        call_command("token", "create", "--user", "ghost", "--label", "x")
