"""The sandbox gateway's memory: one SQLite file with its trades, refunds and notification
deliveries (a queue: ``next_at`` is when the next attempt is due, as a gateway retries)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trades (
    provider TEXT NOT NULL, out_trade_no TEXT NOT NULL, trade_no TEXT NOT NULL,
    merchant TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL, subject TEXT NOT NULL,
    notify_url TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL,
    paid_at REAL, extra TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (provider, out_trade_no));
CREATE TABLE IF NOT EXISTS refunds (
    provider TEXT NOT NULL, out_trade_no TEXT NOT NULL, refund_no TEXT NOT NULL,
    refund_id TEXT NOT NULL, amount TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (provider, out_trade_no, refund_no));
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY, provider TEXT NOT NULL, out_trade_no TEXT NOT NULL, url TEXT NOT NULL,
    body BLOB NOT NULL, duplicate INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL, acknowledged INTEGER NOT NULL DEFAULT 0, answers TEXT NOT NULL DEFAULT '[]');
"""

#: Trade states, shared by both protocols (each names them its own way when it answers).
CREATED, WAITING, PAID, CLOSED, FAILED = "CREATED", "WAITING", "PAID", "CLOSED", "FAILED"


@dataclass(frozen=True)
class Trade:
    provider: str
    out_trade_no: str
    trade_no: str
    merchant: str
    amount: str
    currency: str
    subject: str
    notify_url: str
    state: str
    created_at: float
    expires_at: float | None
    paid_at: float | None
    extra: dict[str, Any]

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now > self.expires_at


@dataclass(frozen=True)
class Delivery:
    id: int
    provider: str
    out_trade_no: str
    url: str
    body: bytes
    duplicate: bool
    attempts: int


class Store:
    """Thread-safe: one connection, one lock (the gateway's load is a test's)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def close(self) -> None:
        with self._locked() as db:
            db.close()

    def trade(self, provider: str, out_trade_no: str) -> Trade | None:
        with self._locked() as db:
            row = db.execute(
                "SELECT * FROM trades WHERE provider = ? AND out_trade_no = ?", (provider, out_trade_no)
            ).fetchone()
        return _trade(row) if row else None

    def trade_add(self, trade: Trade) -> Trade:
        """Store a new trade, or return the one already stored under its number."""
        with self._locked() as db:
            db.execute(
                "INSERT OR IGNORE INTO trades VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    trade.provider,
                    trade.out_trade_no,
                    trade.trade_no,
                    trade.merchant,
                    trade.amount,
                    trade.currency,
                    trade.subject,
                    trade.notify_url,
                    trade.state,
                    trade.created_at,
                    trade.expires_at,
                    trade.paid_at,
                    json.dumps(trade.extra),
                ),
            )
        return self.trade(trade.provider, trade.out_trade_no) or trade

    def trade_move(self, trade: Trade, *, before: tuple[str, ...], after: str) -> bool:
        """Change the trade's state if it is one of ``before``; whether it changed."""
        marks = ",".join("?" * len(before))
        paid_at = time.time() if after == PAID else None
        with self._locked() as db:
            changed = db.execute(
                f"UPDATE trades SET state = ?, paid_at = COALESCE(?, paid_at) "  # noqa: S608  (marks only)
                f"WHERE provider = ? AND out_trade_no = ? AND state IN ({marks})",
                (after, paid_at, trade.provider, trade.out_trade_no, *before),
            ).rowcount
        return changed == 1

    def refunds(self, provider: str, out_trade_no: str) -> list[dict[str, Any]]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT * FROM refunds WHERE provider = ? AND out_trade_no = ? ORDER BY created_at",
                (provider, out_trade_no),
            ).fetchall()
        return [dict(row) for row in rows]

    def refund_found(self, provider: str, refund_no: str) -> dict[str, Any] | None:
        with self._locked() as db:
            row = db.execute(
                "SELECT * FROM refunds WHERE provider = ? AND refund_no = ?", (provider, refund_no)
            ).fetchone()
        return dict(row) if row else None

    def refund_add(
        self, provider: str, out_trade_no: str, refund_no: str, amount: str, refund_id: str
    ) -> bool:
        """Record a refund once; False if that refund number was used before."""
        with self._locked() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO refunds VALUES (?,?,?,?,?,?)",
                (provider, out_trade_no, refund_no, refund_id, amount, time.time()),
            ).rowcount
        return added == 1

    def delivery_add(
        self, provider: str, out_trade_no: str, url: str, body: bytes, *, duplicate: bool, at: float
    ) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT INTO deliveries (provider, out_trade_no, url, body, duplicate, next_at) "
                "VALUES (?,?,?,?,?,?)",
                (provider, out_trade_no, url, body, int(duplicate), at),
            )

    def deliveries_due(self, now: float) -> list[Delivery]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT * FROM deliveries WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at", (now,)
            ).fetchall()
        return [
            Delivery(
                id=row["id"],
                provider=row["provider"],
                out_trade_no=row["out_trade_no"],
                url=row["url"],
                body=bytes(row["body"]),
                duplicate=bool(row["duplicate"]),
                attempts=row["attempts"],
            )
            for row in rows
        ]

    def delivery_attempted(
        self, delivery: Delivery, *, answer: list[Any], acknowledged: bool, next_at: float | None
    ) -> None:
        with self._locked() as db:
            answers = json.loads(
                db.execute("SELECT answers FROM deliveries WHERE id = ?", (delivery.id,)).fetchone()[0]
            )
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, acknowledged = ?, next_at = ?, answers = ? "
                "WHERE id = ?",
                (
                    int(acknowledged),
                    None if acknowledged else next_at,
                    json.dumps([*answers, answer]),
                    delivery.id,
                ),
            )

    def deliveries(self, provider: str, out_trade_no: str) -> list[dict[str, Any]]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT id, duplicate, attempts, next_at, acknowledged, answers FROM deliveries "
                "WHERE provider = ? AND out_trade_no = ? ORDER BY id",
                (provider, out_trade_no),
            ).fetchall()
        return [{**dict(row), "answers": json.loads(row["answers"])} for row in rows]


def _trade(row: sqlite3.Row) -> Trade:
    values = dict(row)
    values["extra"] = json.loads(values["extra"])
    return Trade(**values)
