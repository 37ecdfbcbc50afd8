"""An entrance agent deciding alone: offline decisions per second against raw Ed25519
verifications per second of the same codes, in the same run (goal: ratio ≥ 0.5).

Set-up (not timed): an agent store (SQLite file) holding one tickets public key, 2,000 revoked
code ids, a rule (15 minutes' tolerance, re-entry after 60 minutes) and 20,000 entries of other
codes the feed gave; 20,000 signed codes for the current slot at this entrance, each distinct.

Timed:
- baseline: ``Ed25519PublicKey.verify`` of each code's signed part (the bytes already decoded);
- agent: ``EntranceAgent.decide_offline`` for each code (base45 decoding, signature,
  revocation, the rule against the code's earlier entries, the insert of the entry to upload,
  one SQLite transaction each), single thread; every code is accepted once;
- then the same codes scanned again (all refused ``already_used``);
- and through the agent's loopback HTTP (``POST /scan``, 8 clients, 2,000 scans, the central
  service unreachable): scans per second and p50/p99 latency (the lanes' budget is 300 ms).

Printed: one JSON line per figure. Exit 1 if a decision is not the expected one.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

N = 20_000
HTTP_N = 2_000
HTTP_CLIENTS = 8


def setup_django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cimaise.config.settings"
    os.environ["CIMAISE_VAR_DIR"] = var_dir
    import django

    django.setup()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cimaise-bench-agent-") as var_dir:
        setup_django(var_dir)
        return run(Path(var_dir))


def sign_many(signer: Any, start: dt.datetime, n: int) -> list[str]:
    from cimaise.ticketing.codes import CodePayload, new_code_id

    payload = {"product_id": 1, "entrance_id": 1, "starts_at": start, "window_minutes": 30, "tariff_id": 1}
    return [signer.sign(CodePayload(code_id=new_code_id(), **payload)).code for _ in range(n)]


def make_agent(var_dir: Path, kid: str, raw_public: bytes, now: dt.datetime) -> Any:
    """An agent store as a sync leaves it: one key, 2,000 revocations, a rule, N entries of others."""
    from cimaise.access.agent.central import Central
    from cimaise.access.agent.core import EntranceAgent
    from cimaise.access.agent.store import Store, StoredEntry
    from cimaise.ticketing.codes import new_code_id

    store = Store(var_dir / "agent.sqlite3")
    with store.transaction() as db:
        db.execute("INSERT INTO keys (kid, public_key) VALUES (?, ?)", (kid, _b64url(raw_public)))
        db.executemany(
            "INSERT INTO revocations (code_id) VALUES (?)", [(new_code_id(),) for _ in range(2000)]
        )
        for i in range(N):
            at = now - dt.timedelta(seconds=i)
            entry = StoredEntry(new_code_id(), new_code_id(), 1, "in", at, 1, "accepted", "")
            store.insert_entry(db, entry, mine=False, uploaded=True)
        rule = {"product": None, "tolerance_before_minutes": 15, "reentry_after_minutes": 60}
        Store.put(db, "rules", [rule])
        Store.put(db, "entrance_id", 1)
        Store.put(db, "lanes", {"T1": "in", "T2": "in"})
    return EntranceAgent(store, Central("http://127.0.0.1:9", "unused"), "PYR", timeout=0.05)


def verify_rate(public: Any, codes: list[str]) -> float:
    from cimaise.ticketing.codes import b45decode

    signed = [b45decode(code[4:]) for code in codes]
    began = time.perf_counter()
    for raw in signed:
        public.verify(raw[-64:], raw[:-64])
    return len(codes) / (time.perf_counter() - began)


def decide_rate(agent: Any, codes: list[str], lane: str, prefix: str) -> tuple[float, Counter[str]]:
    scanned_at = dt.datetime.now(dt.UTC)
    reasons: Counter[str] = Counter()
    began = time.perf_counter()
    for i, code in enumerate(codes):
        answer = agent.decide_offline(
            lane=lane, code=code, direction="in", nonce=f"{prefix}-{i}", scanned_at=scanned_at
        )
        reasons[answer.reason] += 1
    return len(codes) / (time.perf_counter() - began), reasons


def http_rate(agent: Any, codes: list[str]) -> tuple[float, list[float], Counter[str]]:
    """Scans through the agent's loopback HTTP by HTTP_CLIENTS threads, the central unreachable."""
    from cimaise.access.agent.server import AgentServer

    server = AgentServer(("127.0.0.1", 0), agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    latencies: list[float] = []
    reasons: Counter[str] = Counter()
    lock = threading.Lock()

    def client(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for code in chunk:
            body = json.dumps({"code": code, "lane": "T1", "nonce": secrets.token_hex(8)})
            t0 = time.perf_counter()
            conn.request("POST", "/scan", body=body, headers={"Content-Type": "application/json"})
            reply = json.loads(conn.getresponse().read())
            with lock:
                latencies.append(time.perf_counter() - t0)
                reasons[reply["reason"]] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(codes[i::HTTP_CLIENTS],)) for i in range(HTTP_CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(codes) / (time.perf_counter() - began)
    server.shutdown()
    return rate, sorted(latencies), reasons


def run(var_dir: Path) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from cimaise.ticketing.codes import Signer

    key = Ed25519PrivateKey.generate()
    signer = Signer(kid="bench-tickets-1", key=key)
    now = dt.datetime.now(dt.UTC)
    start = now.replace(second=0, microsecond=0)
    codes = sign_many(signer, start, N)
    raw_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    agent = make_agent(var_dir, signer.kid, raw_public, now)
    baseline = verify_rate(key.public_key(), codes)
    decisions, reasons = decide_rate(agent, codes, "T1", "b")
    refusals, again = decide_rate(agent, codes, "T2", "a")
    rate, latencies, http_reasons = http_rate(agent, sign_many(signer, start, HTTP_N))
    agent.store.close()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    out = [
        {"bench": "agent_offline.decisions", "metric": round(decisions, 1), "unit": "decisions/s",
         "baseline": round(baseline, 1), "baseline_unit": "Ed25519 verifications/s",
         "ratio": round(decisions / baseline, 3), "n": N, "accepted": reasons["ok"]},
        {"bench": "agent_offline.refusals", "metric": round(refusals, 1), "unit": "decisions/s",
         "baseline": round(baseline, 1), "ratio": round(refusals / baseline, 3), "n": N,
         "already_used": again["already_used"]},
        {"bench": "agent_offline.http", "metric": round(rate, 1), "unit": "scans/s", "p50_ms": round(p50, 2),
         "p99_ms": round(p99, 2), "baseline": round(baseline, 1), "ratio": round(rate / baseline, 3),
         "n": HTTP_N, "clients": HTTP_CLIENTS, "mode": "offline"},
    ]  # fmt: skip
    for line in out:
        print(json.dumps(line))
    good = reasons == {"ok": N} and again == {"already_used": N} and http_reasons == {"ok": HTTP_N}
    if not good:
        print(f"unexpected decisions: {reasons} {again} {http_reasons}", file=sys.stderr)
    return 0 if good else 1


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


if __name__ == "__main__":
    sys.exit(main())
