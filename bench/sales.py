"""Online sales throughput on PostgreSQL through HTTP, with ``cimaise serve``.

Set-up (not timed): a fresh PostgreSQL database (``cimaise_bench_sales`` on the server of
``BENCH_POSTGRES``, default 127.0.0.1:5432), migrated; the Louvre's shop with one slot of 1,000
places (its entrance and own quotas; the entrance quota is larger); ``cimaise serve`` with
``--workers`` granian WSGI processes (default: the number of CPUs) on a free loopback port.

Timed, 32 concurrent clients (4 processes × 8 threads, keep-alive HTTP/1.1):
- baseline: ``GET /api/v1/health`` (a trivial API view served the same way), 16,000 requests;
- sales: each client buys one ticket after another until the slot is sold out: ``POST
  /api/v1/carts`` (one FULL ticket), ``POST /api/v1/orders`` (sandbox provider), then the
  sandbox gateway's signed notification ``POST /api/v1/payments/sandbox/notify``, which marks the
  order paid and issues its signed e-ticket. A completed order is one whose notification was
  accepted. The run stops when every client has been answered ``sold_out``.

Printed: completed orders per second against the baseline's requests per second (goal: ratio
≥ 0.1), and the oversell count (tickets issued beyond the capacity; must be 0). Exit 1 if any
request failed with a 5xx or the oversell count is not 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import secrets
import sys
import threading
import time
from typing import Any

from _harness import scratch_django
from _http import THREADS, Client, baseline_worker, free_port, fresh_database, serve, wait_until_up

CLIENTS_PROCESSES = 4
PLACES = 1000
BASELINE_REQUESTS = 16_000


def set_up_shop() -> tuple[int, dict[str, Any]]:
    """The shop and its slot; the sandbox gateway's signing key (the clients play the gateway)."""
    from cimaise.core import keys
    from cimaise.core.models import Installation, Institution, Site
    from cimaise.payments.providers import sandbox
    from cimaise.ticketing.tests.factories import make_shop

    Installation.objects.create(is_demo=True, demo_scale="bench")  # the sandbox card provider is on
    institution = Institution.objects.create(code="louvre", name="Musée du Louvre")
    site = Site.objects.create(institution=institution, code="PAL", name="Palais du Louvre")
    shop = make_shop(institution, site, slot_capacity=PLACES, entrance_capacity=5 * PLACES)
    key = keys.signing_key_current(institution=institution, purpose=sandbox.KEY_PURPOSE)
    gateway = {
        "kid": key.kid,
        "key_dir": str(keys._key_path(key.kid).parent),
        "header": sandbox.SIGNATURE_HEADER,
    }
    return shop.slot(shop.museum, 9).pk, gateway


def sign(gateway: dict[str, Any], payment: str, amount: str) -> tuple[bytes, dict[str, str]]:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(
        open(os.path.join(gateway["key_dir"], f"{gateway['kid']}.pem"), "rb").read(), password=None
    )
    body = {
        "v": 1,
        "merchant": "louvre",
        "payment": payment,
        "notification": f"sbx_{secrets.token_hex(12)}",
        "transaction": f"sbx_txn_{secrets.token_hex(8)}",
        "status": "paid",
        "amount": amount,
        "currency": "EUR",
        "time": dt.datetime.now(dt.UTC).isoformat(),
    }
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    import base64

    signature = base64.urlsafe_b64encode(private.sign(raw)).rstrip(b"=").decode()  # type: ignore[call-arg,union-attr]
    return raw, {gateway["header"]: f"{gateway['kid']}:{signature}"}


def buyer_worker(args: tuple[int, int, dict[str, Any]]) -> dict[str, int]:
    port, slot, gateway = args
    counts = {"completed": 0, "sold_out": 0, "busy": 0, "errors": 0}
    lock = threading.Lock()

    def run() -> None:
        client = Client(port)
        while True:
            status, cart = client.call(
                "POST",
                "/api/v1/carts",
                json.dumps({"slot": slot, "items": [{"tariff": "FULL", "quantity": 1}]}).encode(),
            )
            if status == 409 and cart["error"]["code"] == "sold_out":
                with lock:
                    counts["sold_out"] += 1
                return
            if status == 429:
                with lock:
                    counts["busy"] += 1
                continue
            if status != 201:
                with lock:
                    counts["errors"] += 1
                print("cart refused:", status, cart, file=sys.stderr)
                return
            order_body = {"cart": cart["id"], "email": "visitor@example.org", "provider": "sandbox"}
            status, order = client.call("POST", "/api/v1/orders", json.dumps(order_body).encode())
            if status != 201:
                with lock:
                    counts["errors"] += 1
                print("order refused:", status, order, file=sys.stderr)
                return
            body, headers = sign(gateway, order["payment"]["id"], order["total"])
            status, _ = client.call("POST", "/api/v1/payments/sandbox/notify", body, headers)
            with lock:
                counts["completed" if status == 200 else "errors"] += 1

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES", "postgres@127.0.0.1:5432")
    try:
        url = fresh_database(server, "cimaise_bench_sales")
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: say so and stop)
        print(
            json.dumps(
                {"bench": "sales", "skipped": f"PostgreSQL unreachable at {server}: {type(exc).__name__}"}
            )
        )
        return
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_POOL_MAX"] = str(max(2, 32 // args.workers + 2))
    with scratch_django() as var_dir:
        slot, gateway = set_up_shop()
        from django.db import connections

        connections.close_all()
        port = free_port()
        env = {**os.environ, "CIMAISE_VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "cimaise.config.settings"}
        server_proc = serve(f"127.0.0.1:{port}", args.workers, env)
        try:
            wait_until_up(port)
            with multiprocessing.Pool(CLIENTS_PROCESSES) as pool:
                started = time.perf_counter()
                errors = sum(
                    pool.map(
                        baseline_worker, [(port, BASELINE_REQUESTS // CLIENTS_PROCESSES)] * CLIENTS_PROCESSES
                    )
                )
                baseline = BASELINE_REQUESTS / (time.perf_counter() - started)
                started = time.perf_counter()
                results = pool.map(buyer_worker, [(port, slot, gateway)] * CLIENTS_PROCESSES)
                elapsed = time.perf_counter() - started
        finally:
            server_proc.terminate()
            server_proc.wait(timeout=30)
        totals = {k: sum(r[k] for r in results) for k in results[0]}
        from cimaise.ticketing.models import Quota, Slot, Ticket

        sold = Ticket.objects.filter(slot_id=slot, state="valid").count()
        quota = Quota.objects.get(pk=Slot.objects.get(pk=slot).own_quota_id)
        oversell = max(0, sold - PLACES) + max(0, quota.taken - quota.capacity)
        rate = totals["completed"] / elapsed
        common = {"workers": args.workers, "clients": CLIENTS_PROCESSES * THREADS, "database": "postgresql"}
        print(
            json.dumps(
                {
                    "bench": "sales.orders_per_second",
                    "metric": round(rate, 1),
                    "unit": "orders/s",
                    "baseline": round(baseline, 1),
                    "baseline_unit": "health req/s",
                    "ratio": round(rate / baseline, 3),
                    "n": totals["completed"],
                    **common,
                }
            )
        )
        print(
            json.dumps(
                {
                    "bench": "sales.oversell",
                    "metric": oversell,
                    "unit": "tickets",
                    "sold": sold,
                    "capacity": PLACES,
                    "busy_retries": totals["busy"],
                    "errors": totals["errors"] + errors,
                    **common,
                }
            )
        )
        if oversell or totals["errors"] or errors or sold != totals["completed"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
