"""Coverage of every need (gaps highlighted) and the renewal alerts, six and three months ahead,
sent once per contract and threshold."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.core import mail
from django.core.management import call_command
from django.test import TestCase

from cimaise.ledger.models import Fact
from cimaise.purchasing import selectors, services
from cimaise.purchasing.alerts import renewal_alerts_send
from cimaise.purchasing.models import RenewalAlert
from cimaise.purchasing.tests.conftest import Register, make_spec

PARIS = ZoneInfo("Europe/Paris")


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def statuses(register: Register, on: dt.date) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        row.need.code: (row.status, row.contract.reference if row.contract else None,
                        row.vehicle.code if row.vehicle else None)
        for row in selectors.coverage(register.cast.institution_a, on=on)
    }  # fmt: skip


def test_every_need_is_mapped_to_what_covers_it_and_gaps_come_first(register: Register) -> None:
    actor = register.officer.actor
    services.contract_save(actor=actor, spec=make_spec())
    assert statuses(register, dt.date(2025, 3, 1)) == {
        "N-CLEAN": ("gap", None, None),
        "N-TRANSPORT": ("covered", "C-1", "AC-T"),
    }
    rows = selectors.coverage(register.cast.institution_a, on=dt.date(2025, 3, 1))
    assert [row.need.code for row in rows] == ["N-CLEAN", "N-TRANSPORT"]
    # six months before the end the need is still covered, but its renewal is due
    assert statuses(register, dt.date(2026, 6, 30))["N-TRANSPORT"] == ("renewal", "C-1", "AC-T")
    assert statuses(register, dt.date(2026, 6, 29))["N-TRANSPORT"] == ("covered", "C-1", "AC-T")
    # after the end: a gap, saying since when; before the start: a gap, saying when it starts
    after = selectors.coverage(register.cast.institution_a, on=dt.date(2027, 1, 1))
    transport = next(row for row in after if row.need.code == "N-TRANSPORT")
    assert (transport.status, transport.since, transport.starts) == ("gap", dt.date(2026, 12, 31), None)
    before = selectors.coverage(register.cast.institution_a, on=dt.date(2024, 12, 31))
    transport = next(row for row in before if row.need.code == "N-TRANSPORT")
    assert (transport.status, transport.since, transport.starts) == ("gap", None, dt.date(2025, 1, 1))


def test_the_contract_running_longest_covers_a_need(register: Register) -> None:
    actor = register.officer.actor
    services.contract_save(actor=actor, spec=make_spec())
    services.contract_save(
        actor=actor,
        spec=make_spec(reference="C-2", start_on=dt.date(2026, 7, 1), end_on=dt.date(2028, 6, 30)),
    )
    assert statuses(register, dt.date(2026, 8, 1))["N-TRANSPORT"] == ("covered", "C-2", "AC-T")


def test_renewal_alerts_go_six_and_three_months_ahead_once_each(register: Register) -> None:
    actor = register.officer.actor
    # renewal date 30 June 2027: alerts due 30 December 2026 and 30 March 2027
    services.contract_save(
        actor=actor, spec=make_spec(start_on=dt.date(2025, 1, 1), end_on=dt.date(2027, 6, 30))
    )
    assert renewal_alerts_send(now=at(dt.date(2026, 12, 29))) == 0
    assert mail.outbox == []
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert renewal_alerts_send(now=at(dt.date(2026, 12, 30))) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["buyer@louvre.test"]
    assert message.subject == "Contract C-1: renewal in 6 months (2027-06-30)"
    assert "must be renewed or relaunched by 2027-06-30" in str(message.body)
    # the same day again, and the days after: nothing more
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert renewal_alerts_send(now=at(dt.date(2026, 12, 30), 18)) == 0
        assert renewal_alerts_send(now=at(dt.date(2027, 3, 29))) == 0
    assert len(mail.outbox) == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert renewal_alerts_send(now=at(dt.date(2027, 3, 30))) == 1
        assert renewal_alerts_send(now=at(dt.date(2027, 4, 2))) == 0
    assert [m.subject for m in mail.outbox] == [
        "Contract C-1: renewal in 6 months (2027-06-30)",
        "Contract C-1: renewal in 3 months (2027-06-30)",
    ]
    alerts = RenewalAlert.objects.order_by("months")
    assert [(a.months, a.due_on, a.recipients) for a in alerts] == [
        (3, dt.date(2027, 3, 30), 1),
        (6, dt.date(2026, 12, 30), 1),
    ]
    assert Fact.objects.filter(type="purchasing.renewal.alerted").count() == 2


def test_a_late_first_run_sends_only_the_most_urgent_alert_in_the_officers_language(
    register: Register,
) -> None:
    register.officer.person.preferred_language = "fr"
    register.officer.person.save(update_fields=["preferred_language"])
    services.contract_save(
        actor=register.officer.actor,
        spec=make_spec(end_on=dt.date(2027, 6, 30), renewal_on=dt.date(2027, 5, 31)),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert renewal_alerts_send(now=at(dt.date(2027, 3, 1))) == 1
    assert [m.subject for m in mail.outbox] == ["Marché C-1 : renouvellement dans 3 mois (2027-05-31)"]
    assert "doit être renouvelé ou relancé avant le 2027-05-31, dans 3 mois." in str(mail.outbox[0].body)
    assert sorted(RenewalAlert.objects.values_list("months", flat=True)) == [3, 6]
    # once the renewal date has passed nothing is sent
    services.contract_save(
        actor=register.officer.actor,
        spec=make_spec(reference="C-OLD", start_on=dt.date(2025, 1, 1), end_on=dt.date(2027, 2, 28)),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert renewal_alerts_send(now=at(dt.date(2027, 3, 1))) == 0


def test_renewals_ahead_list_contracts_within_six_months(register: Register) -> None:
    services.contract_save(actor=register.officer.actor, spec=make_spec(end_on=dt.date(2027, 6, 30)))
    institution = register.cast.institution_a
    assert selectors.renewals_ahead(institution, on=dt.date(2026, 12, 29)) == []
    [renewal] = selectors.renewals_ahead(institution, on=dt.date(2026, 12, 30))
    assert (renewal.contract.reference, renewal.renewal_on, renewal.sent) == (
        "C-1",
        dt.date(2027, 6, 30),
        frozenset(),
    )
    assert selectors.renewals_ahead(institution, on=dt.date(2027, 7, 1)) == []


def test_the_housekeeping_job_sends_the_alerts(register: Register) -> None:
    out = io.StringIO()
    call_command("housekeeping", "--list", stdout=out)
    assert "purchasing.renewals: every 3600 s" in out.getvalue()
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    assert "purchasing.renewals: sent 0 renewal alerts" in out.getvalue()
