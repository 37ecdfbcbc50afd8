"""Reception at the centre: expected visitors from validated missions and convoys, lunches,
capacity warnings, badges never out twice at once (the database says so), the handover slip,
the append-only access register."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.models import Person
from cimaise.missions import orders, reception
from cimaise.missions.models import AccessRecord, Badge, BadgeIssue
from cimaise.missions.tests.conftest import MONDAY, Crew, at, trip
from cimaise.missions.tests.helpers import validated
from cimaise.moves.models import Convoy

pytestmark = pytest.mark.django_db


def test_expected_visitors_come_from_validated_missions_and_convoys(crew: Crew) -> None:
    validated(crew, zones=["réserve 3", "studio photo"])
    orders.order_file(actor=crew.colleague.actor, request=trip([crew.colleague.username]))  # not validated
    convoy = Convoy.objects.create(
        institution=crew.cast.institution_a,
        code="CV-51",
        destination=crew.ccl,
        planned_arrival=at(MONDAY, 14, 15),
        drivers=["Paul Durand", "Ali Ben Saïd"],
    )
    convoy.escorts.add(crew.colleague.person)
    day = reception.expected_day(site=crew.ccl, day=MONDAY)
    assert [(v.name, v.source, v.reference, v.lunch) for v in day.visitors] == [
        ("registrar-a", "mission", "OM-2026-00001", True),
        ("Ali Ben Saïd", "convoy", "CV-51", False),
        ("Paul Durand", "convoy", "CV-51", False),
        ("escort-a", "convoy", "CV-51", False),
    ]
    first = day.visitors[0]
    assert (first.host, first.zones) == ("reception-a", ("réserve 3", "studio photo"))
    assert (day.staff, day.people, day.lunches) == (1, 5, 2)  # the reception agent's home is the centre
    assert reception.expected_day(site=crew.ccl, day=MONDAY + dt.timedelta(days=1)).visitors == []


def test_a_warning_when_the_site_would_be_over_capacity(crew: Crew) -> None:
    crew.ccl.capacity = 2
    crew.ccl.save()
    order = validated(crew, [crew.agent.username, crew.colleague.username])
    days = reception.order_warnings(order)
    assert [(d.day, d.people) for d in days] == [(MONDAY, 3)]
    answer = crew.approver.client().get(f"/api/v1/missions/reception/CCL/expected?date={MONDAY}")
    assert answer.status_code == 403  # not reception
    seen = crew.reception.client().get(f"/api/v1/missions/reception/CCL/expected?date={MONDAY}").json()
    assert (seen["people"], seen["capacity"], seen["over_capacity"], seen["lunches"]) == (3, 2, True, 3)


def test_a_badge_is_never_issued_twice_at_once(crew: Crew) -> None:
    Badge.objects.create(site=crew.ccl, number="V-01")
    order = validated(crew, zones=["quai"])
    desk = crew.reception.actor
    issue = reception.badge_issue(
        actor=desk, site="CCL", badge="V-01", holder="registrar-a", order=order.code
    )
    assert issue.zones == ["quai"]
    with pytest.raises(Conflict) as caught:
        reception.badge_issue(actor=desk, site="CCL", badge="V-01", holder="escort-a")
    assert caught.value.code == "badge_out" and caught.value.field == "badge"
    reception.badge_return(actor=desk, site="CCL", badge="V-01")
    with pytest.raises(Conflict):
        reception.badge_return(actor=desk, site="CCL", badge="V-01")
    again = reception.badge_issue(actor=desk, site="CCL", badge="V-01", holder="escort-a")
    assert BadgeIssue.objects.filter(badge__number="V-01").count() == 2
    assert [i.holder.user.username for i in reception.badges_out(crew.ccl)] == ["escort-a"] and again.pk


def test_the_database_itself_refuses_a_second_open_issue(crew: Crew) -> None:
    badge = Badge.objects.create(site=crew.ccl, number="V-02")
    holder, desk = crew.agent.person, crew.reception.person
    BadgeIssue.objects.create(badge=badge, holder=holder, issued_at=timezone.now(), issued_by=desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        BadgeIssue.objects.create(
            badge=badge, holder=crew.colleague.person, issued_at=timezone.now(), issued_by=desk
        )
    assert BadgeIssue.objects.filter(badge=badge).count() == 1


def test_only_reception_issues_badges_and_bad_badges_name_the_field(crew: Crew) -> None:
    Badge.objects.create(site=crew.ccl, number="V-03")
    with pytest.raises(PermissionDenied):
        reception.badge_issue(actor=crew.agent.actor, site="CCL", badge="V-03", holder="registrar-a")
    with pytest.raises(InvalidInput) as caught:
        reception.badge_issue(actor=crew.reception.actor, site="CCL", badge="V-99", holder="registrar-a")
    assert caught.value.field == "badge"
    with pytest.raises(InvalidInput) as caught:
        reception.badge_issue(actor=crew.reception.actor, site="CCL", badge="V-03", holder="nobody")
    assert caught.value.field == "holder"
    assert BadgeIssue.objects.count() == 0


def test_the_access_register_is_append_only(crew: Crew) -> None:
    Badge.objects.create(site=crew.ccl, number="V-04")
    desk = crew.reception.actor
    reception.badge_issue(actor=desk, site="CCL", badge="V-04", holder="registrar-a")
    came = reception.access_record(
        actor=desk, site="CCL", person="registrar-a", direction="in", at=at(MONDAY, 9, 41)
    )
    reception.access_record(
        actor=desk, site="CCL", person="registrar-a", direction="out", at=at(MONDAY, 17, 5)
    )
    lines = [
        (r.direction, timezone.localtime(r.at).strftime("%H:%M"), r.badge.number if r.badge else None)
        for r in reception.register_day(crew.ccl, MONDAY)
    ]
    assert lines == [("in", "09:41", "V-04"), ("out", "17:05", "V-04")]
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        AccessRecord.objects.filter(pk=came.pk).update(at=at(MONDAY, 8))
    assert "append-only" in str(caught.value)
    assert timezone.localtime(AccessRecord.objects.get(pk=came.pk).at).hour == 9
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AccessRecord.objects.filter(pk=came.pk).delete()
    with pytest.raises(InvalidInput) as bad:
        reception.access_record(actor=desk, site="CCL", person="registrar-a", direction="sideways")
    assert bad.value.field == "direction"


def test_the_handover_slip_is_a_pdf_naming_the_holder(crew: Crew) -> None:
    Badge.objects.create(site=crew.ccl, number="V-05")
    order = validated(crew, zones=["réserve 3"])
    issue = reception.badge_issue(
        actor=crew.reception.actor, site="CCL", badge="V-05", holder="registrar-a", order=order.code
    )
    Person.objects.filter(pk=crew.agent.person.pk)
    client = crew.reception.session_client()
    answer = client.get(f"/missions/badges/{issue.pk}/slip.pdf", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert crew.agent.session_client().get(f"/missions/badges/{issue.pk}/slip.pdf").status_code == 404
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=answer.content, capture_output=True, check=True
        ).stdout
        assert b"V-05" in text and b"registrar-a" in text and order.code.encode() in text
