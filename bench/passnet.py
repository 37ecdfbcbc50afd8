"""Pass network benchmarks on PostgreSQL: pass scans per second over HTTP with ``cimaise serve``,
and the settlement of a month of one million entries.

Set-up (not timed): a fresh PostgreSQL database (``cimaise_bench_passnet`` on ``BENCH_POSTGRES``,
default 127.0.0.1:5432), migrated; the operator with one product, ``CLIENTS`` partner sites
(real-ish Paris locations, spread a little) each with its API key, ``--passes`` passes (default
16,000) issued by the real service; ``cimaise serve`` with ``--workers`` WSGI processes.

With ``--skip-scans``, only part 2.

1. Scans, 32 concurrent partner clients (4 processes × 8 threads, keep-alive), each with its own
   site's key: baseline ``GET /api/v1/health`` (16,000 requests), then every pass scanned once
   (each scan activates its pass) at a client's site, then ``RESCANS`` passes again at the same
   site (``already_used``). Stops early after ``DEADLINE_SECONDS``.
2. Settlement: ``--entries`` (default 1,000,000) accepted entries spread over March 2026 across
   the sites, inserted by SQL (not timed); timed: the bare SQL aggregation of the month (GROUP BY
   site) as baseline, then ``statement_compute`` (the draft) and ``settlement_issue`` (freezing:
   lines, every entry marked, a fact), each once.

Prints four JSON lines; exit 1 on any 5xx or failed check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import sys
import time
from decimal import Decimal
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

SERVER_START_SECONDS = 180  # a loaded machine imports every app slowly

CLIENTS_PROCESSES = 4
CLIENTS = CLIENTS_PROCESSES * THREADS
BASELINE_REQUESTS = 16_000
PASSES = 16_000
ENTRIES = 1_000_000
RESCANS = 200
DEADLINE_SECONDS = 120
URL = "/api/v1/passnet/scans"


def set_up_network(passes: int) -> tuple[list[str], list[tuple[str, str]], int]:
    """The operator, its sites and keys, the passes; returns codes, (site, key) pairs, operator id."""
    from django.db import transaction

    from cimaise.core import services
    from cimaise.core.models import Institution, Site
    from cimaise.core.roles import Role
    from cimaise.passnet.issuance import Issue, passes_issue
    from cimaise.passnet.models import PartnerSite, PassProduct
    from cimaise.passnet.network import key_issue

    operator = Institution.objects.create(code="pmp", name="Paris Museum Pass", kind="pass-operator")
    office = Site.objects.create(institution=operator, code="HQ", name="Office")
    person = services.person_enroll(
        username="bench-operator",
        institution=operator,
        roles=[Role.PASS_OPERATOR],
        password=None,
        home_site=office,
    )
    from cimaise.core.actors import actor_for

    actor = actor_for(person.user)
    assert actor is not None
    product = PassProduct.objects.create(
        operator=operator, code="PMP2", name="2 days", days=2, validity_hours=48, price=Decimal("62.00")
    )
    museum = Institution.objects.create(code="museums", name="Museums")
    keys = []
    now = dt.datetime.now(dt.UTC)
    for i in range(CLIENTS):
        site = PartnerSite.objects.create(
            operator=operator,
            institution=museum,
            code=f"S{i:02d}",
            name=f"Site {i}",
            latitude=Decimal("48.85") + Decimal(i) / 200,
            longitude=Decimal("2.30") + Decimal(i) / 150,
        )
        site.products.add(product)
        with transaction.atomic():
            keys.append((site.code, key_issue(site, label="bench", who="bench", now=now).raw))
    codes: list[str] = []
    while len(codes) < passes:
        issue = Issue(product="PMP2", quantity=min(5000, passes - len(codes)), channel="web")
        codes += [p.code for p in passes_issue(actor=actor, issue=issue)]
    return codes, keys, operator.pk


def scan_body(code: str, site: str, nonce: str) -> bytes:
    body = {
        "code": code,
        "entrance": site,
        "lane": "L1",
        "direction": "in",
        "nonce": nonce,
        "scanned_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    return json.dumps(body).encode()


def scan_one(client: Client, body: bytes, counts: dict[str, int]) -> tuple[str, float]:
    return post_scan(client, URL, body, counts)


def scanner_worker(args: tuple[int, int, list[tuple[str, str]], list[str], float]) -> dict[str, Any]:
    """Each thread is one partner client (its site, its key) scanning its share of the passes."""
    port, process, sites, codes, deadline = args
    return scan_in_threads(
        URL,
        codes,
        deadline,
        lambda thread: Client(port, sites[thread][1]),
        lambda thread, i, code: scan_body(code, sites[thread][0], f"b-{process}-{thread}-{i}"),
    )


def run_clients(port: int, keys: list[tuple[str, str]], codes: list[str]) -> dict[str, Any]:
    with multiprocessing.Pool(CLIENTS_PROCESSES) as pool:
        started = time.perf_counter()
        share = BASELINE_REQUESTS // CLIENTS_PROCESSES
        errors = sum(pool.map(baseline_worker, [(port, share)] * CLIENTS_PROCESSES))
        baseline = BASELINE_REQUESTS / (time.perf_counter() - started)
        deadline = time.time() + DEADLINE_SECONDS
        work = [
            (port, p, keys[p * THREADS : (p + 1) * THREADS], codes[p::CLIENTS_PROCESSES], deadline)
            for p in range(CLIENTS_PROCESSES)
        ]
        started = time.perf_counter()
        results = pool.map(scanner_worker, work)
        elapsed = time.perf_counter() - started
    reasons: dict[str, int] = {}
    for result in results:
        for k, v in result["reasons"].items():
            reasons[k] = reasons.get(k, 0) + v
    return {
        "baseline": baseline,
        "baseline_errors": errors,
        "elapsed": elapsed,
        "reasons": reasons,
        "latencies": sorted(x for r in results for x in r["latencies"]),
        "server_errors": sum(r["server_errors"] for r in results),
        "busy": sum(r["busy"] for r in results),
    }


def rescan(port: int, keys: list[tuple[str, str]], codes: list[str]) -> dict[str, int]:
    """Passes scanned once more at the site that first took them: each should be ``already_used``."""
    reasons: dict[str, int] = {}
    counts = {"busy": 0, "server_errors": 0}
    for i, code in enumerate(codes):
        process, index = i % CLIENTS_PROCESSES, i // CLIENTS_PROCESSES
        site, key = keys[process * THREADS + index % THREADS]
        reason, _ = scan_one(Client(port, key), scan_body(code, site, f"again-{i}"), counts)
        reasons[reason] = reasons.get(reason, 0) + 1
    return {**reasons, **{f"rescan_{k}": v for k, v in counts.items()}}


def scans_report(run: dict[str, Any], again: dict[str, int], workers: int) -> bool:
    from cimaise.passnet.models import Pass, PassEntry

    n = len(run["latencies"])
    rate = n / run["elapsed"] if run["elapsed"] else 0.0
    accepted_rows = PassEntry.objects.filter(result="accepted").count()
    activated = Pass.objects.filter(activated_at__isnull=False).count()
    common = {"workers": workers, "clients": CLIENTS, "database": "postgresql"}
    print(
        json.dumps(
            {
                "bench": "passnet.scans_per_second",
                "metric": round(rate, 1),
                "unit": "pass scans/s",
                "baseline": round(run["baseline"], 1),
                "baseline_unit": "health req/s",
                "ratio": round(rate / run["baseline"], 3),
                "n": n,
                "p50_ms": round(percentile(run["latencies"], 0.5) * 1000, 2),
                "p99_ms": round(percentile(run["latencies"], 0.99) * 1000, 2),
                **common,
            }
        )
    )
    ok = run["reasons"].get("ok", 0)
    rescanned = sum(v for k, v in again.items() if not k.startswith("rescan_"))
    server_errors = run["server_errors"] + again.get("rescan_server_errors", 0)
    passed = (
        server_errors == 0
        and ok == n
        and accepted_rows == ok
        and activated == ok
        and again.get("already_used", 0) == rescanned
    )
    print(
        json.dumps(
            {
                "bench": "passnet.scans_correctness",
                "metric": n - ok + server_errors + run["baseline_errors"],
                "unit": "errors",
                "accepted": ok,
                "accepted_rows": accepted_rows,
                "activated_passes": activated,
                "reasons": run["reasons"],
                "rescans": rescanned,
                "rescans_already_used": again.get("already_used", 0),
                "busy_retries": run["busy"],
                "passed": passed,
                **common,
            }
        )
    )
    return passed


def insert_entries(operator_id: int, count: int) -> None:
    """``count`` accepted entries over March 2026 (Paris), round-robin over the sites, by SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM passnet_partnersite WHERE operator_id = %s", [operator_id]
        )
        first, last = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO passnet_passentry (operator_id, site_id, pass_ref_id, code_id, lane, area, direction,
                nonce, scanned_at, recorded_at, operator_label, result, reason, activated, source,
                central_reason, price)
            SELECT %s, %s + (g %% %s), NULL, md5(g::text), 'L1', '', 'in', 'm-' || g,
                t, t, 'bench', 'accepted', 'ok', false, 'online', '', 0
            FROM generate_series(1, %s) AS g,
                 LATERAL (SELECT timestamptz '2026-03-01 00:00 Europe/Paris'
                          + (g::float8 / %s) * interval '30 days 23 hours' AS t) AS times
            """,
            [operator_id, first, last - first + 1, count, count + 1],
        )
        cursor.execute("ANALYZE passnet_passentry")


def settlement_bench(operator_id: int, count: int) -> bool:
    from django.contrib.auth.models import User
    from django.db import connection

    from cimaise.core.actors import actor_for
    from cimaise.core.models import Institution
    from cimaise.passnet.models import Pass
    from cimaise.passnet.settlement import month_bounds, settlement_issue, statement_compute

    insert_entries(operator_id, count)
    operator = Institution.objects.get(pk=operator_id)
    # the passes were sold in March: that month's revenue is what is shared
    Pass.objects.filter(operator=operator).update(issued_at=dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC))
    start, end = month_bounds(dt.date(2026, 3, 1))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT site_id, count(*) FROM passnet_passentry WHERE operator_id = %s AND result = 'accepted' "
            "AND direction = 'in' AND recorded_at >= %s AND recorded_at < %s GROUP BY site_id",
            [operator_id, start, end],
        )
        bare = {site: n for site, n in cursor.fetchall()}
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    draft = statement_compute(operator, dt.date(2026, 3, 1))
    compute = time.perf_counter() - started
    actor = actor_for(User.objects.get(username="bench-operator"))
    assert actor is not None
    started = time.perf_counter()
    issued = settlement_issue(actor=actor, month="2026-03", now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC))
    issue = time.perf_counter() - started
    shares = sum(line.amount for line in issued.lines)
    passed = sum(bare.values()) == count == draft.visits == issued.visits and shares == issued.distributable
    for name, seconds in (("settlement_compute", compute), ("settlement_issue", issue)):
        print(
            json.dumps(
                {
                    "bench": f"passnet.{name}",
                    "metric": round(seconds, 3),
                    "unit": "s",
                    "baseline": round(baseline, 3),
                    "baseline_unit": "s, bare SQL GROUP BY of the month",
                    "ratio": round(seconds / baseline, 2),
                    "n": count,
                    "sites": len(bare),
                    "distributable": str(issued.distributable),
                    "shares_sum": str(shares),
                    "passed": passed,
                    "database": "postgresql",
                }
            )
        )
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--passes", type=int, default=PASSES)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--skip-scans", action="store_true", help="only the settlement figure")
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES", "postgres@127.0.0.1:5432")
    try:
        url = fresh_database(server, "cimaise_bench_passnet")
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: say so and stop)
        print(
            json.dumps(
                {"bench": "passnet", "skipped": f"PostgreSQL unreachable at {server}: {type(exc).__name__}"}
            )
        )
        return
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_POOL_MAX"] = str(max(2, CLIENTS // args.workers + 2))
    with scratch_django() as var_dir:
        codes, keys, operator_id = set_up_network(args.passes)
        from django.db import connections

        connections.close_all()
        if args.skip_scans:
            sys.exit(0 if settlement_bench(operator_id, args.entries) else 1)
        port = free_port()
        env = {**os.environ, "CIMAISE_VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "cimaise.config.settings"}
        server_proc = serve(f"127.0.0.1:{port}", args.workers, env)
        try:
            wait_until_up(port, timeout=SERVER_START_SECONDS)
            run = run_clients(port, keys, codes)
            again = rescan(port, keys, codes[:RESCANS])
        finally:
            server_proc.terminate()
            server_proc.wait(timeout=30)
        ok = scans_report(run, again, args.workers)
        ok = settlement_bench(operator_id, args.entries) and ok
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
