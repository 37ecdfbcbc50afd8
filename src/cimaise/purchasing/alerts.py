"""Renewal alerts: six and three months before a contract's renewal date, the institution's
purchasing officers get an e-mail, once per contract and threshold (a ``RenewalAlert`` row,
unique per contract and months, records it). The housekeeping job ``purchasing.renewals`` runs
:func:`renewal_alerts_send`; running it again the same day sends nothing."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cimaise.core import housekeeping
from cimaise.core.conf import setting
from cimaise.core.models import Institution
from cimaise.core.roles import Role
from cimaise.ledger.services import facts_append
from cimaise.purchasing import facts
from cimaise.purchasing.models import Contract, RenewalAlert
from cimaise.purchasing.rules import ALERT_MONTHS, alert_dates, renewal_date

ACTOR = "system:purchasing-renewals"
TEMPLATE = "purchasing/emails/renewal_alert.txt"


def due_thresholds(contract: Contract, day: dt.date, sent: set[int]) -> list[int]:
    """The thresholds (months) whose alert is due on ``day`` and was not sent, most urgent last;
    none once the renewal date has passed."""
    renewal = renewal_date(contract.end_on, contract.renewal_on)
    if renewal < day:
        return []
    due = alert_dates(renewal)
    return [months for months in ALERT_MONTHS if due[months] <= day and months not in sent]


def officers(institution: Institution) -> list[User]:
    """The institution's purchasing officers who have an e-mail address."""
    return list(
        User.objects.filter(
            is_active=True, groups__name=Role.PURCHASING.value, person__institution=institution
        )
        .exclude(email="")
        .select_related("person")
        .order_by("username")
    )


def alert_message(contract: Contract, months: int, user: User) -> EmailMessage:
    """The alert in the recipient's language."""
    renewal = renewal_date(contract.end_on, contract.renewal_on)
    with translation.override(getattr(getattr(user, "person", None), "preferred_language", "fr")):
        subject = _("Contract %(reference)s: renewal in %(months)s months (%(date)s)") % {
            "reference": contract.reference,
            "months": months,
            "date": renewal.isoformat(),
        }
        context = {
            "contract": contract,
            "months": months,
            "renewal_on": renewal,
            "user": user,
            "url": f"{str(setting('PUBLIC_URL')).rstrip('/')}/purchasing/contracts/{contract.reference}/",
        }
        body = render_to_string(TEMPLATE, context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


def _deliver(contract_id: int, months: int, user_ids: list[int]) -> None:
    contract = Contract.objects.select_related("vehicle").get(pk=contract_id)
    for user in User.objects.filter(pk__in=user_ids).select_related("person").order_by("username"):
        alert_message(contract, months, user).send()


@transaction.atomic(durable=True)
def renewal_alert_record(*, contract: Contract, thresholds: list[int], now: dt.datetime) -> RenewalAlert:
    """Record the due alerts of one contract (all thresholds passed, so a late run does not send
    a stale six-month alert after the three-month one) and e-mail the most urgent after commit."""
    renewal = renewal_date(contract.end_on, contract.renewal_on)
    recipients = officers(contract.institution)
    due = alert_dates(renewal)
    alerts = [
        RenewalAlert.objects.create(
            contract=contract, months=months, due_on=due[months], sent_at=now, recipients=len(recipients)
        )
        for months in thresholds
    ]
    urgent = min(thresholds)
    body = {
        "reference": contract.reference, "months": urgent, "thresholds": thresholds,
        "renewal_on": renewal.isoformat(), "recipients": [u.get_username() for u in recipients],
    }  # fmt: skip
    facts_append([facts.draft(contract.institution, facts.RENEWAL_ALERTED.name, body, ACTOR)], now=now)
    transaction.on_commit(partial(_deliver, contract.pk, urgent, [u.pk for u in recipients]))
    return alerts[-1]


def renewal_alerts_send(*, now: dt.datetime | None = None) -> int:
    """Send every renewal alert due today and not sent yet; how many contracts were alerted."""
    moment = now or timezone.now()
    day = timezone.localdate(moment)
    sent = 0
    candidates = Contract.objects.filter(end_on__gte=day).select_related("institution")
    for contract in candidates.prefetch_related("renewal_alerts").order_by("pk"):
        done = {alert.months for alert in contract.renewal_alerts.all()}
        thresholds = due_thresholds(contract, day, done)
        if not thresholds:
            continue
        try:
            renewal_alert_record(contract=contract, thresholds=thresholds, now=moment)
        except IntegrityError:  # another run recorded it first: that run sends the e-mail
            continue
        sent += 1
    return sent


def _job() -> str:
    return f"sent {renewal_alerts_send()} renewal alerts"


housekeeping.register(housekeeping.Job("purchasing.renewals", 3600, _job))
