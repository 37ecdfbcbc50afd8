"""Reconciliation: a provider's statement of a day compared with our payments and refunds.

Finance uploads the day's statement file (``statements`` reads Alipay's and WeChat Pay's trade
bills and the sandbox's CSV); ``reconciliation_run`` stores the run with one line per
difference and records a ``payments.reconciliation.run`` fact. Matching is in
``reconciliation_match``.

The day is the statement's day **on the provider's clock**: Alipay and WeChat Pay cut their
bills at midnight in Beijing (17:00 or 18:00 in Paris), so a Paris day would set every evening
payment against the wrong bill. The sandbox's day is a Paris day.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zoneinfo

from django.db import transaction
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.csvcells import spreadsheet_safe
from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.payments.facts_reconciliation import RECONCILIATION_RUN
from cimaise.payments.models import ReconciliationLine, ReconciliationRun
from cimaise.payments.reconciliation_match import Comparison, compare, ours_load
from cimaise.payments.statements import statement_parse

ADD = "payments.add_reconciliationrun"
VIEW = "payments.view_reconciliationrun"
STATEMENT_CLOCKS = {
    "alipay": zoneinfo.ZoneInfo("Asia/Shanghai"),
    "wechatpay": zoneinfo.ZoneInfo("Asia/Shanghai"),
    "sandbox": zoneinfo.ZoneInfo("Europe/Paris"),
}
PROVIDERS = tuple(STATEMENT_CLOCKS)
CSV_COLUMNS = (
    "kind",
    "transaction",
    "out_trade_no",
    "refund_id",
    "provider_reference",
    "statement_line",
    "occurred_at",
    "provider_amount",
    "provider_currency",
    "provider_status",
    "our_amount",
    "our_currency",
    "our_state",
    "note",
)


def statement_window(*, provider: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The statement's day as a half-open interval of aware times, on the provider's clock."""
    clock = STATEMENT_CLOCKS[provider]
    start = dt.datetime.combine(day, dt.time(), tzinfo=clock)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=clock)
    return start, end


def reconciliation_run(
    *,
    actor: Actor,
    provider: str,
    day: dt.date,
    statement: bytes,
    filename: str,
    now: dt.datetime | None = None,
) -> ReconciliationRun:
    """Compare ``provider``'s statement of ``day`` (the file's bytes) with our payments and
    refunds of the actor's institution; store the run and its differences and record the fact.

    Needs ``payments.add_reconciliationrun``. A bad file is ``InvalidInput`` naming
    ``statement`` and its line, and nothing is stored."""
    now = now or timezone.now()
    institution = own_institution(actor)
    require_permission(actor, ADD)
    _check(provider=provider, day=day, now=now)
    source = (_filename(filename), hashlib.sha256(statement).hexdigest())
    rows = statement_parse(provider=provider, data=statement)
    window = statement_window(provider=provider, day=day)
    with transaction.atomic(durable=True):
        ours = ours_load(institution=institution, provider=provider, window=window, rows=rows)
        found = compare(rows=rows, ours=ours, day=day, window=window)
        run = _run_store(
            institution, provider, day, found, window=window, source=source, now=now, actor=actor
        )
        facts_append([_fact(run, found, actor)], now=now)
    return run


def _check(*, provider: str, day: object, now: dt.datetime) -> None:
    if provider not in STATEMENT_CLOCKS:
        raise InvalidInput(f"provider must be one of {', '.join(PROVIDERS)}", field="provider")
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput("day must be a date", field="day")
    if day > now.astimezone(STATEMENT_CLOCKS[provider]).date():
        raise InvalidInput("day must not be in the future", field="day")


def _filename(filename: str) -> str:
    """The name as uploaded, without any folder part (for people; never used as a path)."""
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(char for char in name if char.isprintable())
    return name[:255] or "statement"


def _run_store(
    institution: Institution,
    provider: str,
    day: dt.date,
    found: Comparison,
    *,
    window: tuple[dt.datetime, dt.datetime],
    source: tuple[str, str],
    now: dt.datetime,
    actor: Actor,
) -> ReconciliationRun:
    start, end = window
    run = ReconciliationRun.objects.create(
        institution=institution,
        provider=provider,
        day=day,
        window_start=start,
        window_end=end,
        filename=source[0],
        sha256=source[1],
        created_by=actor.label,
        created_at=now,
        **_counts(found),
    )
    for line in found.lines:
        line.run = run
    ReconciliationLine.objects.bulk_create(found.lines, batch_size=500)
    return run


def _counts(found: Comparison) -> dict[str, object]:
    return {
        "provider_payments": found.provider_payments,
        "provider_refunds": found.provider_refunds,
        "our_payments": found.our_payments,
        "our_refunds": found.our_refunds,
        "matched": found.matched,
        "differences": len(found.lines),
        "totals": found.totals,
    }


def _fact(run: ReconciliationRun, found: Comparison, actor: Actor) -> FactDraft:
    return FactDraft(
        type=RECONCILIATION_RUN.name,
        stream=f"payments.reconciliation:{run.institution.code}:{run.provider}",
        body={
            "run": run.pk,
            "provider": run.provider,
            "day": run.day.isoformat(),
            "source": {"filename": run.filename, "sha256": run.sha256},
            "counts": {
                "provider_payments": run.provider_payments,
                "provider_refunds": run.provider_refunds,
                "our_payments": run.our_payments,
                "our_refunds": run.our_refunds,
                "matched": run.matched,
                "differences": run.differences,
            },
            "totals": run.totals,
            "differences": found.by_kind(),
        },
        actor=actor.label,
        institution_id=run.institution_id,
        occurred_at=run.created_at,
    )


# Reads


def access_reconciliation_run(actor: Actor, run_id: int) -> ReconciliationRun:
    """A run of the actor's institution (others' look absent), for holders of
    ``payments.view_reconciliationrun``."""
    institution = own_institution(actor)
    require_permission(actor, VIEW)
    run = ReconciliationRun.objects.select_related("institution").filter(pk=run_id).first()
    if run is None or run.institution_id != institution.pk:
        raise NotFound("no such reconciliation run", field="run")
    return run


def reconciliation_runs(*, institution: Institution, limit: int = 100) -> list[ReconciliationRun]:
    """The institution's latest runs, newest first."""
    return list(
        ReconciliationRun.objects.filter(institution=institution).order_by("-created_at", "-id")[:limit]
    )


def reconciliation_lines(*, run: ReconciliationRun) -> list[ReconciliationLine]:
    """The run's differences, in the order they were found (statement order, then ours)."""
    return list(run.lines.order_by("id"))


def reconciliation_totals(*, run: ReconciliationRun) -> list[dict[str, str]]:
    """One row per currency: payments and refunds on the provider's side and on ours."""
    totals = run.totals or {}
    provider, ours = totals.get("provider", {}), totals.get("ours", {})
    empty = {"payments": "0.00", "refunds": "0.00"}
    return [
        {
            "currency": currency,
            "provider_payments": provider.get(currency, empty)["payments"],
            "provider_refunds": provider.get(currency, empty)["refunds"],
            "our_payments": ours.get(currency, empty)["payments"],
            "our_refunds": ours.get(currency, empty)["refunds"],
        }
        for currency in sorted(set(provider) | set(ours))
    ]


def reconciliation_csv(*, run: ReconciliationRun) -> str:
    """The run's differences as CSV (one header line, then one line per difference; times in
    ISO 8601 with their offset, amounts with two decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in reconciliation_lines(run=run):
        writer.writerow([_csv_cell(getattr(line, name)) for name in CSV_COLUMNS])
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return spreadsheet_safe(value)  # a cell a spreadsheet would run as a formula gets an apostrophe
