"""Pass validation through the service: activation, validity at its exact boundaries (also
across Europe/Paris clock changes), per-site limits, revocation, bad codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.passnet.codes import PREFIX
from cimaise.passnet.issuance import batch_withdraw, pass_revoke
from cimaise.passnet.models import Pass, PassEntry
from cimaise.passnet.tests.conftest import OPEN_EVERY_DAY, PARIS, T0, Network

SECOND = dt.timedelta(seconds=1)


def test_the_first_accepted_scan_activates_the_pass_where_and_when(network: Network) -> None:
    (p,) = network.issue()
    answer = network.scan("ORSAY", p.code, T0)
    assert (answer.result, answer.reason) == ("accepted", "ok")
    p.refresh_from_db()
    assert p.activated_at == T0
    assert p.activated_site == network.sites["ORSAY"]
    assert p.expires_at == T0 + dt.timedelta(hours=48)
    entry = PassEntry.objects.get(pk=answer.entry_id)
    assert entry.activated and entry.price == 0
    (fact,) = Fact.objects.filter(type="passnet.entry.accepted")
    assert json.loads(fact.body)["activated"] is True
    assert ledger_verify().ok


def test_a_pass_is_valid_until_the_last_second_of_its_hours_and_expired_at_the_boundary(
    network: Network,
) -> None:
    (p,) = network.issue()
    network.scan("ORSAY", p.code, T0)
    assert network.scan("LOUVRE-PYR", p.code, T0 + dt.timedelta(hours=48) - SECOND).reason == "ok"
    assert network.scan("ORANGERIE", p.code, T0 + dt.timedelta(hours=48)).reason == "expired"


@pytest.mark.parametrize(
    ("activated", "wall_clock_expiry"),
    [
        # summer time begins Sunday 29 March 2026 at 02:00 (→ 03:00): 48 hours read 49 on a clock
        (dt.datetime(2026, 3, 28, 10, 0, tzinfo=PARIS), dt.datetime(2026, 3, 30, 11, 0, tzinfo=PARIS)),
        # summer time ends Sunday 25 October 2026 at 03:00 (→ 02:00): 48 hours read 47
        (dt.datetime(2026, 10, 24, 10, 0, tzinfo=PARIS), dt.datetime(2026, 10, 26, 9, 0, tzinfo=PARIS)),
    ],
)
def test_hours_of_validity_are_elapsed_hours_across_a_daylight_saving_change(
    network: Network, activated: dt.datetime, wall_clock_expiry: dt.datetime
) -> None:
    (p,) = network.issue()
    network.scan("ORSAY", p.code, activated)
    p.refresh_from_db()
    assert p.expires_at == wall_clock_expiry
    assert p.expires_at - activated == dt.timedelta(hours=48)
    assert network.scan("LOUVRE-PYR", p.code, wall_clock_expiry - SECOND).reason == "ok"
    assert network.scan("ORANGERIE", p.code, wall_clock_expiry).reason == "expired"


def test_calendar_days_end_at_paris_midnight_across_the_change_to_summer_time(network: Network) -> None:
    (p,) = network.issue("PMP6C")
    activated = dt.datetime(2026, 3, 28, 17, 30, tzinfo=PARIS)  # a Saturday, the day before the change
    network.scan("ORSAY", p.code, activated)
    p.refresh_from_db()
    end = dt.datetime(2026, 4, 3, 0, 0, tzinfo=PARIS)  # 28, 29, 30, 31 March, 1 and 2 April
    assert p.expires_at == end
    assert end.astimezone(dt.UTC) - activated.astimezone(dt.UTC) == dt.timedelta(days=5, hours=5, minutes=30)
    assert network.scan("LOUVRE-PYR", p.code, end - SECOND).reason == "ok"
    assert network.scan("ORANGERIE", p.code, end).reason == "expired"


def test_a_site_admits_a_pass_as_many_times_as_it_allows(network: Network) -> None:
    (p,) = network.issue()
    assert network.scan("ORSAY", p.code, T0).reason == "ok"
    assert network.scan("ORSAY", p.code, T0 + dt.timedelta(hours=2)).reason == "already_used"
    assert network.scan("LOUVRE-PYR", p.code, T0 + dt.timedelta(hours=3)).reason == "ok"
    site = network.sites["VERSAILLES"]
    site.entries_per_pass = 2
    site.save()
    assert [network.scan("VERSAILLES", p.code, T0 + dt.timedelta(hours=h)).reason for h in (4, 5, 6)] == [
        "ok",
        "ok",
        "already_used",
    ]
    assert network.scan("ORSAY", p.code, T0 + dt.timedelta(hours=7), direction="out").reason == "exit"


def test_a_temporary_exhibition_and_a_product_not_accepted_are_the_wrong_entrance(network: Network) -> None:
    (p,) = network.issue("PMP4")
    assert network.scan("ORSAY", p.code, T0, area="EXPO").reason == "wrong_entrance"
    network.sites["LOUVRE-PYR"].products.remove(network.products["PMP4"])
    assert network.scan("LOUVRE-PYR", p.code, T0).reason == "wrong_entrance"
    p.refresh_from_db()
    assert p.activated_at is None  # a refusal activates nothing
    assert network.scan("ORSAY", p.code, T0, area="COLL").reason == "ok"


def test_opening_hours_refuse_too_early_and_too_late(network: Network) -> None:
    site = network.sites["ORSAY"]
    site.opening_hours = {k: v for k, v in OPEN_EVERY_DAY.items() if k != "0"}  # closed on Mondays
    site.save()
    (p,) = network.issue()
    assert network.scan("ORSAY", p.code, T0.replace(hour=8, minute=59)).reason == "too_early"
    assert network.scan("ORSAY", p.code, T0.replace(hour=18)).reason == "too_late"
    monday = T0 - dt.timedelta(days=1)
    assert network.scan("ORSAY", p.code, monday).reason == "too_late"
    assert network.scan("ORSAY", p.code, T0.replace(hour=9)).reason == "ok"


def test_a_lost_or_refunded_pass_and_a_withdrawn_batch_are_revoked(network: Network) -> None:
    (lost,) = network.issue()
    batch = network.issue(quantity=3, channel="reseller", batch="RES-1", reseller="Agence Voyage")
    actor = network.pass_operator.actor
    network.scan("ORSAY", lost.code, T0)
    pass_revoke(actor=actor, code_id=lost.code_id, reason="lost", now=T0 + SECOND)
    assert network.scan("LOUVRE-PYR", lost.code, T0 + dt.timedelta(minutes=5)).reason == "revoked"
    assert batch_withdraw(actor=actor, batch="RES-1", reason="unpaid invoice", now=T0) == 3
    assert {network.scan("ORSAY", p.code, T0 + SECOND).reason for p in batch} == {"revoked"}
    assert set(Pass.objects.filter(batch__code="RES-1").values_list("revoked_reason", flat=True)) == {
        "batch_withdrawn"
    }


def test_bad_codes_are_forged_or_unknown_never_an_error(network: Network) -> None:
    (p,) = network.issue()
    flipped = p.code[:-3] + ("A" if p.code[-3] != "A" else "B") + p.code[-2:]
    for junk in ("", "hello", PREFIX + "%%%", p.code[:-1], flipped, "CM1:" + p.code[4:], "x" * 5000):
        assert network.scan("ORSAY", junk, T0).reason == "forged", junk
    # a genuine code whose pass is not in the database (deleted here for the test)
    PassEntry.objects.all().delete()
    Pass.objects.filter(pk=p.pk).delete()
    assert network.scan("ORSAY", p.code, T0).reason == "unknown"


def test_a_resent_nonce_gets_the_first_answer_and_writes_nothing(network: Network) -> None:
    (p,) = network.issue()
    first = network.scan("ORSAY", p.code, T0, nonce_="same")
    again = network.scan("ORSAY", p.code, T0 + SECOND, nonce_="same")
    assert (again.result, again.reason, again.entry_id, again.replayed) == (
        "accepted",
        "ok",
        first.entry_id,
        True,
    )
    assert PassEntry.objects.count() == 1
    assert Fact.objects.filter(type__startswith="passnet.entry").count() == 1
