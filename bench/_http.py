"""What the HTTP benchmarks share (sales, access, passnet): a fresh PostgreSQL database,
``cimaise serve`` on a free loopback port, keep-alive JSON clients, and the baseline of
``GET /api/v1/health`` served the same way."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

THREADS = 8  # client threads per client process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"postgres://{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{server}/{name}"


def serve(addr: str, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``cimaise serve`` without the task worker; its output goes to ``BENCH_SERVER_LOG``."""
    command = [sys.executable, "-m", "cimaise.config.cli", "serve", "--addr", addr, "--workers", str(workers)]
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "wb")  # noqa: SIM115  (the server's lifetime)
    return subprocess.Popen([*command, "--no-task-worker"], env=env, stdout=log, stderr=log)  # noqa: S603


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


class Client:
    """One keep-alive connection sending JSON, with a bearer token when given."""

    def __init__(self, port: int, token: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def baseline_worker(args: tuple[int, int]) -> int:
    """``count`` health requests by ``THREADS`` threads (one client process); the errors."""
    port, count = args
    errors = 0

    def run(n: int) -> None:
        nonlocal errors
        client = Client(port)
        for _ in range(n):
            if client.call("GET", "/api/v1/health")[0] != 200:
                errors += 1

    threads = [threading.Thread(target=run, args=(count // THREADS,)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def post_scan(client: Client, url: str, body: bytes, counts: dict[str, int]) -> tuple[str, float]:
    """One scan, sent again while the server answers busy (429); its reason (or ``http_<status>``)
    and the latency of the answer. ``counts`` gains ``busy`` and ``server_errors``."""
    while True:
        started = time.perf_counter()
        status, data = client.call("POST", url, body)
        latency = time.perf_counter() - started
        if status != 429:
            break
        counts["busy"] += 1
    if status == 200:
        return str(data["reason"]), latency
    if status >= 500:
        counts["server_errors"] += 1
    print("scan refused:", status, data, file=sys.stderr)  # noqa: T201  (a benchmark's diagnostics)
    return f"http_{status}", latency


def scan_in_threads(
    url: str,
    codes: list[str],
    deadline: float,
    client_for: Callable[[int], Client],
    body_for: Callable[[int, int, str], bytes],
) -> dict[str, Any]:
    """``THREADS`` threads scan their share of ``codes`` once each (thread ``t`` through
    ``client_for(t)``, the body ``body_for(t, i, code)``), until ``deadline`` (a ``time.time()``):
    the reasons, every latency, and the busy and server-error counts."""
    lock = threading.Lock()
    reasons: Counter[str] = Counter()
    latencies: list[float] = []
    counts: Counter[str] = Counter(busy=0, server_errors=0)

    def run(thread: int) -> None:
        client = client_for(thread)
        mine: list[float] = []
        seen: Counter[str] = Counter()
        local = {"busy": 0, "server_errors": 0}
        for i, code in enumerate(codes[thread::THREADS]):
            if time.time() > deadline:
                break
            reason, latency = post_scan(client, url, body_for(thread, i, code), local)
            seen[reason] += 1
            mine.append(latency)
        with lock:
            latencies.extend(mine)
            reasons.update(seen)
            counts.update(local)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"reasons": dict(reasons), "latencies": latencies, **counts}
