"""The entrance agent's own store: one SQLite file, written by one process.

Tables: ``meta`` (the feed cursor, the entrance, its rules, the clock offset, the last sync),
``keys`` (tickets public keys), ``revocations`` (code ids), ``entries`` (the day's accepted
entries of every entrance as the feed gave them, and every scan this agent answered, with
``uploaded`` 0 while an offline decision waits to go up) and ``cancellations`` (a "not passed"
made offline, waiting to go up).

A single connection is shared by the agent's threads under one lock: a decision reads the code's
earlier entries and inserts its own under that lock, so two lanes of the entrance can never both
let one code in, online or not.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (kid TEXT PRIMARY KEY, public_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revocations (code_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS entries (
    nonce TEXT PRIMARY KEY,
    code_id TEXT NOT NULL,
    entrance_id INTEGER NOT NULL,
    direction TEXT NOT NULL,
    at TEXT NOT NULL,
    people INTEGER NOT NULL DEFAULT 1,
    result TEXT NOT NULL,
    reason TEXT NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    mine INTEGER NOT NULL DEFAULT 0,
    code TEXT NOT NULL DEFAULT '',
    lane TEXT NOT NULL DEFAULT '',
    scanned_at TEXT NOT NULL DEFAULT '',
    uploaded INTEGER NOT NULL DEFAULT 1,
    mode TEXT NOT NULL DEFAULT 'feed'
);
CREATE INDEX IF NOT EXISTS entries_code ON entries (code_id, at);
CREATE INDEX IF NOT EXISTS entries_pending ON entries (uploaded) WHERE uploaded = 0;
CREATE TABLE IF NOT EXISTS cancellations (nonce TEXT PRIMARY KEY, lane TEXT NOT NULL);
"""

ENTRY_BY_NONCE = (
    "SELECT nonce, code_id, entrance_id, direction, at, people, result, reason, code, lane, scanned_at, mode "
    "FROM entries WHERE nonce = ?"
)
ENTRIES_PENDING = (
    "SELECT nonce, code_id, entrance_id, direction, at, people, result, reason, code, lane, scanned_at, mode "
    "FROM entries WHERE uploaded = 0 ORDER BY at LIMIT ?"
)


@dataclass(frozen=True)
class StoredEntry:
    nonce: str
    code_id: str
    entrance_id: int
    direction: str
    at: dt.datetime
    people: int
    result: str
    reason: str
    code: str = ""
    lane: str = ""
    scanned_at: str = ""
    mode: str = "feed"  # how it was decided: online, offline, or learnt from the feed


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "PRAGMA synchronous=NORMAL"
        )  # durable when the agent crashes; WAL synced at checkpoints
        self._db.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints (each one syncs)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the agent's lock."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- meta ----------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    @staticmethod
    def put(db: sqlite3.Connection, key: str, value: Any) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, default=str)),
        )

    # --- reads ---------------------------------------------------------------------------------

    def keys(self) -> dict[str, str]:
        with self.lock:
            return dict(self._db.execute("SELECT kid, public_key FROM keys").fetchall())

    def revoked_all(self) -> set[str]:
        """Every revoked code id (the agent keeps them in memory: a set lookup per scan)."""
        with self.lock:
            return {row[0] for row in self._db.execute("SELECT code_id FROM revocations")}

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection, in autocommit mode: hold ``lock`` while using it."""
        return self._db

    def accepted(self, since: str) -> list[tuple[str, str, str, str]]:
        """(nonce, code_id, direction, at) of every accepted, not cancelled entry since then."""
        with self.lock:
            rows = self._db.execute(
                "SELECT nonce, code_id, direction, at FROM entries "
                "WHERE result = 'accepted' AND cancelled = 0 AND code_id != '' AND at >= ?",
                (since,),
            )
            return list(rows.fetchall())

    def entry(self, nonce: str) -> StoredEntry | None:
        with self.lock:
            row = self._db.execute(
                ENTRY_BY_NONCE,
                (nonce,),
            ).fetchone()
        return _stored(row) if row else None

    def pending(self, limit: int) -> list[StoredEntry]:
        with self.lock:
            rows = self._db.execute(
                ENTRIES_PENDING,
                (limit,),
            ).fetchall()
        return [_stored(row) for row in rows]

    def pending_count(self) -> int:
        with self.lock:
            entries = self._db.execute("SELECT count(*) FROM entries WHERE uploaded = 0").fetchone()[0]
            cancels = self._db.execute("SELECT count(*) FROM cancellations").fetchone()[0]
        return int(entries) + int(cancels)

    def pending_cancellations(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self._db.execute("SELECT nonce, lane FROM cancellations").fetchall())

    # --- writes --------------------------------------------------------------------------------

    @staticmethod
    def insert_entry(db: sqlite3.Connection, entry: StoredEntry, *, mine: bool, uploaded: bool) -> bool:
        """Insert the entry unless its nonce is stored already; True when inserted."""
        cursor = db.execute(
            "INSERT INTO entries (nonce, code_id, entrance_id, direction, at, people, result, reason, mine, "
            "code, lane, scanned_at, uploaded, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (nonce) DO NOTHING",
            (
                entry.nonce,
                entry.code_id,
                entry.entrance_id,
                entry.direction,
                iso(entry.at),
                entry.people,
                entry.result,
                entry.reason,
                int(mine),
                entry.code,
                entry.lane,
                entry.scanned_at,
                int(uploaded),
                entry.mode,
            ),
        )
        return cursor.rowcount == 1

    def mark_uploaded(self, nonces: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE entries SET uploaded = 1 WHERE nonce = ?", [(n,) for n in nonces])

    def cancel(self, nonce: str, lane: str, *, queue: bool) -> bool:
        """Mark an entry cancelled (queue the report when it must go up later); False if unknown."""
        with self.transaction() as db:
            found = db.execute("UPDATE entries SET cancelled = 1 WHERE nonce = ?", (nonce,)).rowcount
            if found and queue:
                db.execute("INSERT OR IGNORE INTO cancellations (nonce, lane) VALUES (?, ?)", (nonce, lane))
        return bool(found)

    def cancellation_sent(self, nonce: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM cancellations WHERE nonce = ?", (nonce,))


def iso(when: dt.datetime) -> str:
    """A sortable UTC text for a time (what the ``at`` column compares)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _stored(row: tuple[Any, ...]) -> StoredEntry:
    nonce, code_id, entrance_id, direction, at, people, result, reason, code, lane, scanned_at, mode = row
    return StoredEntry(
        nonce,
        code_id,
        entrance_id,
        direction,
        from_iso(at),
        people,
        result,
        reason,
        code,
        lane,
        scanned_at,
        mode,
    )
