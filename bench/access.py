"""Gate validation throughput on PostgreSQL through HTTP, with ``cimaise serve``.

Set-up (not timed): a fresh PostgreSQL database (``cimaise_bench_access`` on the server of
``BENCH_POSTGRES``, default 127.0.0.1:5432), migrated; the Louvre's Pyramide entrance with
``LANES`` lanes, one product and one slot that started a minute ago (so every scan falls in its
window), ``--tickets`` signed e-tickets (default 20,000) issued by ``tickets_issue`` for paid
orders of ``PER_ORDER`` places; a gate agent's API token; ``cimaise serve`` with ``--workers``
granian WSGI processes (default: the number of CPUs) on a free loopback port.

Timed, 32 concurrent clients (4 processes × 8 threads, keep-alive HTTP/1.1):
- baseline: ``GET /api/v1/health`` (a trivial API view served the same way), 16,000 requests;
- scans: each client sends ``POST /api/v1/access/scans`` for its own share of the codes, each
  code once, direction ``in``, a fresh nonce, the lanes taken in turn; every answer's latency is
  recorded. A client stops early once ``DEADLINE_SECONDS`` have passed.

Printed: validations per second against the baseline's requests per second (goal: ratio
≥ 0.25), the latency (p50, p99), and a correctness line: every first scan accepted, a second
scan of ``RESCANS`` codes refused as ``already_used``, no error. Exit 1 if any request failed
with a 5xx or a correctness check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import sys
import time
from typing import Any

from _harness import scratch_django
from _http import (
    THREADS,
    Client,
    baseline_worker,
    free_port,
    fresh_database,
    percentile,
    post_scan,
    scan_in_threads,
    serve,
    wait_until_up,
)

CLIENTS_PROCESSES = 4
CLIENTS = CLIENTS_PROCESSES * THREADS
BASELINE_REQUESTS = 16_000
TICKETS = 20_000
PER_ORDER = 20
LANES = 8
RESCANS = 200
DEADLINE_SECONDS = 120
URL = "/api/v1/access/scans"


def set_up_gate(tickets: int) -> tuple[list[str], str]:
    """The entrance, its lanes, a slot under way, the paid orders' codes and a gate agent's token."""
    from django.db import transaction
    from django.utils import timezone

    from cimaise.access.models import Lane
    from cimaise.core import services
    from cimaise.core.models import Institution, Site
    from cimaise.core.roles import Role
    from cimaise.ticketing.models import Slot, Ticket
    from cimaise.ticketing.tests.ticket_factories import make_catalogue, make_paid_order, make_slot
    from cimaise.ticketing.tickets import tickets_issue

    institution = Institution.objects.create(code="louvre", name="Musée du Louvre")
    site = Site.objects.create(institution=institution, code="PAL", name="Palais du Louvre")
    catalogue = make_catalogue(institution, site)
    Lane.objects.bulk_create(Lane(entrance=catalogue.entrance, code=f"L{i}") for i in range(1, LANES + 1))
    now = timezone.now()
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    slot = make_slot(catalogue, start, capacity=tickets)
    Slot.objects.filter(pk=slot.pk).update(ends_at=start + dt.timedelta(hours=4))  # a long window
    slot.refresh_from_db()
    orders = [
        make_paid_order(catalogue, slot, lines=[("full", min(PER_ORDER, tickets - n))])
        for n in range(0, tickets, PER_ORDER)
    ]
    with transaction.atomic():
        for order in orders:
            tickets_issue(order=order, actor="system:bench", now=now)
    agent = services.person_enroll(
        username="bench-gate-agent",
        institution=institution,
        roles=[Role.GATE_AGENT],
        password=None,
        home_site=site,
    )
    token = services.token_create(user=agent.user, label="bench gate", actor="system:bench")
    codes = list(Ticket.objects.order_by("id").values_list("code", flat=True))
    return codes, token.raw


def scan_body(code: str, lane: int, nonce: str) -> bytes:
    body = {
        "code": code,
        "entrance": "PYR",
        "lane": f"L{lane % LANES + 1}",
        "direction": "in",
        "nonce": nonce,
        "scanned_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    return json.dumps(body).encode()


def scan(client: Client, code: str, lane: int, nonce: str, counts: dict[str, int]) -> tuple[str, float]:
    return post_scan(client, URL, scan_body(code, lane, nonce), counts)


def scanner_worker(args: tuple[int, str, int, list[str], float]) -> dict[str, Any]:
    """Scan each code of ``codes`` once, ``THREADS`` threads sharing them; stops at ``deadline``
    (a ``time.time()``)."""
    port, token, process, codes, deadline = args
    return scan_in_threads(
        URL,
        codes,
        deadline,
        lambda thread: Client(port, token),
        lambda thread, i, code: scan_body(code, thread + i, f"b-{process}-{thread}-{i}"),
    )


def rescan(port: int, token: str, codes: list[str]) -> dict[str, int]:
    """Scan codes already accepted once more, on another lane: each should be ``already_used``."""
    client = Client(port, token)
    counts = {"busy": 0, "server_errors": 0}
    reasons: dict[str, int] = {}
    for i, code in enumerate(codes):
        reason, _ = scan(client, code, i + 1, f"again-{i}", counts)
        reasons[reason] = reasons.get(reason, 0) + 1
    return {**reasons, **{f"rescan_{k}": v for k, v in counts.items()}}


def run_clients(port: int, token: str, codes: list[str]) -> dict[str, Any]:
    with multiprocessing.Pool(CLIENTS_PROCESSES) as pool:
        started = time.perf_counter()
        share = BASELINE_REQUESTS // CLIENTS_PROCESSES
        errors = sum(pool.map(baseline_worker, [(port, share)] * CLIENTS_PROCESSES))
        baseline = BASELINE_REQUESTS / (time.perf_counter() - started)
        deadline = time.time() + DEADLINE_SECONDS
        work = [(port, token, p, codes[p::CLIENTS_PROCESSES], deadline) for p in range(CLIENTS_PROCESSES)]
        started = time.perf_counter()
        results = pool.map(scanner_worker, work)
        elapsed = time.perf_counter() - started
    reasons: dict[str, int] = {}
    for result in results:
        for key, value in result["reasons"].items():
            reasons[key] = reasons.get(key, 0) + value
    return {
        "baseline": baseline,
        "baseline_errors": errors,
        "elapsed": elapsed,
        "reasons": reasons,
        "latencies": sorted(x for r in results for x in r["latencies"]),
        "busy": sum(r["busy"] for r in results),
        "server_errors": sum(r["server_errors"] for r in results),
    }


def recorded() -> dict[str, int]:
    """What the database says: accepted entries, and the distinct codes they are for."""
    from cimaise.access.models import Entry

    accepted = Entry.objects.filter(result=Entry.Result.ACCEPTED, direction=Entry.Direction.IN)
    return {
        "accepted_rows": accepted.count(),
        "accepted_codes": accepted.values("code_id").distinct().count(),
    }


def report(run: dict[str, Any], again: dict[str, int], db: dict[str, int], workers: int) -> bool:
    """Print the three JSON lines; whether every check passed."""
    n = len(run["latencies"])
    rate = n / run["elapsed"]
    common = {"workers": workers, "clients": CLIENTS, "database": "postgresql"}
    figure = {
        "bench": "access.validations_per_second",
        "metric": round(rate, 1),
        "unit": "validations/s",
        "baseline": round(run["baseline"], 1),
        "baseline_unit": "health req/s",
        "ratio": round(rate / run["baseline"], 3),
        "n": n,
        **common,
    }
    latency = {
        "bench": "access.latency",
        "metric": round(percentile(run["latencies"], 0.5) * 1000, 2),
        "unit": "ms p50",
        "p99": round(percentile(run["latencies"], 0.99) * 1000, 2),
        "max": round(run["latencies"][-1] * 1000, 2) if n else 0.0,
        "n": n,
        **common,
    }
    accepted = run["reasons"].get("ok", 0)
    server_errors = run["server_errors"] + again.get("rescan_server_errors", 0)
    errors = n - accepted + run["baseline_errors"] + server_errors
    rescanned = sum(v for k, v in again.items() if not k.startswith("rescan_"))
    passed = (
        errors == 0
        and accepted == db["accepted_rows"] == db["accepted_codes"]
        and again.get("already_used", 0) == rescanned
    )
    correctness = {
        "bench": "access.correctness",
        "metric": errors,
        "unit": "errors",
        "scans": n,
        "accepted": accepted,
        "distinct_codes_accepted": db["accepted_codes"],
        "accepted_rows": db["accepted_rows"],
        "first_scan_reasons": run["reasons"],
        "rescans": rescanned,
        "rescans_already_used": again.get("already_used", 0),
        "busy_retries": run["busy"] + again.get("rescan_busy", 0),
        "server_errors": server_errors,
        "passed": passed,
        **common,
    }
    for line in (figure, latency, correctness):
        print(json.dumps(line))
    return passed and server_errors == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--tickets", type=int, default=TICKETS)
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES", "postgres@127.0.0.1:5432")
    try:
        url = fresh_database(server, "cimaise_bench_access")
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: say so and stop)
        print(
            json.dumps(
                {"bench": "access", "skipped": f"PostgreSQL unreachable at {server}: {type(exc).__name__}"}
            )
        )
        return
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_POOL_MAX"] = str(max(2, CLIENTS // args.workers + 2))
    with scratch_django() as var_dir:
        codes, token = set_up_gate(args.tickets)
        from django.db import connections

        connections.close_all()
        port = free_port()
        env = {**os.environ, "CIMAISE_VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "cimaise.config.settings"}
        server_proc = serve(f"127.0.0.1:{port}", args.workers, env)
        try:
            wait_until_up(port)
            run = run_clients(port, token, codes)
            again = rescan(port, token, codes[:RESCANS])
        finally:
            server_proc.terminate()
            server_proc.wait(timeout=30)
        if not report(run, again, recorded(), args.workers):
            sys.exit(1)


if __name__ == "__main__":
    main()
