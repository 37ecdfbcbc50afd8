"""The entrance agent (DESIGN §3): it answers the lanes of one entrance, asking the central
service while it answers in time and deciding alone when it does not.

- **Online**: the scan goes to ``POST /api/v1/access/scans`` with a short timeout (``timeout``,
  250 ms by default, so that a lane has its answer within 300 ms); the answer is kept in the
  store so that the agent knows the entry if the link drops a second later.
- **Offline**: the agent verifies the signature with the synced public keys, looks the code up in
  the synced revocations, and applies the entrance's rule (:func:`cimaise.access.decide.code_decide`,
  the central service's own code) to the code's entries of the day that it knows: those of the
  feed (every entrance, up to the last sync) and its own. The decision and its insert happen under
  the store's lock: a code never gets in twice at this entrance. After a failed call the agent
  stays offline until a sync succeeds, so lanes do not wait on a dead link scan after scan.
- **Sync** (a thread, every ``sync_seconds``): upload the offline decisions and "not passed"
  reports, then pull the feed until it has no more; the server's time there sets the clock
  offset the agent uses offline (its own clock may be off).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cimaise.access import decide as d
from cimaise.access.agent.central import Central, Refused, Unreachable
from cimaise.access.agent.seen import SeenIndex
from cimaise.access.agent.store import Store, StoredEntry, from_iso, iso
from cimaise.ticketing.codes import CodePayload, ForgedCode, code_verify

log = logging.getLogger("cimaise.access.agent")

UPLOAD_BATCH = 500
FEED_PAGES_MAX = 50
KEEP_DAYS = 2
PRUNE_SECONDS = 3600
CODE_MAX_CHARS = 512


class AgentError(Exception):
    """A scan the agent cannot take (unknown lane, bad field), with an HTTP status and field."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Answer:
    result: str
    reason: str
    people: int
    nonce: str
    mode: str  # "online" or "offline"
    replayed: bool = False
    ticket: dict[str, Any] | None = field(default=None)


@dataclass
class Status:
    online: bool = False
    last_sync: dt.datetime | None = None
    last_error: str = ""
    conflicts: int = 0


class EntranceAgent:
    def __init__(
        self,
        store: Store,
        central: Central,
        entrance: str,
        *,
        timeout: float = 0.25,
        sync_seconds: float = 2.0,
        clock: Callable[[], float] = time.time,
        pass_site: str = "",
        passes_only: bool = False,
    ) -> None:
        self.store = store
        self.central = central
        self.entrance = entrance
        self.passes_only = passes_only
        self.passes: Any = None
        if pass_site:  # museum passes checked here too (the passnet app), with their own state file
            from cimaise.passnet.agent import PassAgent

            self.passes = PassAgent(
                central.call, pass_site, timeout=timeout, state_path=f"{store.path}.passes.json"
            )
        self.timeout = timeout
        self.sync_seconds = sync_seconds
        self.clock = clock
        self.status = Status()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._rules: dict[int | None, d.Rule] = {}
        self._revoked: set[str] = set()
        self._entrance_id = 0
        self._offset = 0.0
        self._lanes: dict[str, str] | None = None
        self._seen = SeenIndex()
        self._pruned_at = 0.0
        self._stop = threading.Event()
        self._sync_lock = threading.Lock()
        self._load_meta()
        self._load_seen()

    # --- time ----------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The agent's clock corrected by the offset measured at the last sync."""
        return dt.datetime.fromtimestamp(self.clock() + self._offset, dt.UTC)

    # --- scans ---------------------------------------------------------------------------------

    def scan(
        self,
        *,
        lane: str,
        code: str,
        direction: str = "in",
        nonce: str = "",
        scanned_at: dt.datetime | None = None,
        language: str = "",
    ) -> Answer:
        """Answer one scan (see the module docstring); a resent nonce gets its first answer."""
        nonce = nonce or secrets.token_hex(12)
        scanned_at = scanned_at or dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        if self.passes is not None and _is_pass(code):
            return self._pass_scan(
                lane=lane, code=code, direction=direction, nonce=nonce, scanned_at=scanned_at
            )
        if self.passes_only:
            return Answer("rejected", d.UNKNOWN, 1, nonce, "offline")  # a site that takes passes only
        self._check(lane, direction, nonce, code)
        earlier = self.store.entry(nonce)
        if earlier is not None:
            return Answer(earlier.result, earlier.reason, earlier.people, nonce, earlier.mode, replayed=True)
        if self.status.online:
            body = {
                "code": code,
                "entrance": self.entrance,
                "lane": lane,
                "direction": direction,
                "nonce": nonce,
                "scanned_at": scanned_at.isoformat(),
            }
            try:
                answer = self.central.scan(body, timeout=self.timeout, language=language)
            except Unreachable as exc:
                self._offline(str(exc))
            except Refused as exc:
                raise AgentError(exc.status, _detail(exc.body), _field(exc.body)) from exc
            else:
                return self._keep_online(answer, code, lane, direction, nonce, scanned_at)
        return self.decide_offline(
            lane=lane, code=code, direction=direction, nonce=nonce, scanned_at=scanned_at
        )

    def _pass_scan(
        self, *, lane: str, code: str, direction: str, nonce: str, scanned_at: dt.datetime
    ) -> Answer:
        try:
            answer = self.passes.scan(
                lane=lane, code=code, direction=direction, nonce=nonce, scanned_at=scanned_at
            )
        except Refused as exc:
            raise AgentError(exc.status, _detail(exc.body), _field(exc.body)) from exc
        return Answer(answer.result, answer.reason, 1, answer.nonce, answer.mode, answer.replayed)

    def _check(self, lane: str, direction: str, nonce: str, code: str) -> None:
        if direction not in ("in", "out"):
            raise AgentError(422, "direction: in or out", "direction")
        if not 0 < len(nonce) <= 64:
            raise AgentError(422, "nonce: 1 to 64 characters", "nonce")
        if not isinstance(code, str):
            raise AgentError(422, "code: the scanned text", "code")
        lanes = self._lanes
        if lanes is None:
            return  # never synced: the central service checks the lane, or the offline answer is unknown
        found = lanes.get(lane)
        if found is None:
            raise AgentError(404, f"lane: no lane {lane!r} at entrance {self.entrance!r}", "lane")
        if found not in ("both", direction):
            raise AgentError(422, f"direction: lane {lane} only scans {found}", "direction")

    def _keep_online(
        self,
        answer: dict[str, Any],
        code: str,
        lane: str,
        direction: str,
        nonce: str,
        scanned_at: dt.datetime,
    ) -> Answer:
        payload = self._verify(code)
        ticket = answer.get("ticket") or {}
        code_id = payload.code_id if payload else str(ticket.get("code_id") or "")
        stored = StoredEntry(
            nonce=nonce,
            code_id=code_id,
            entrance_id=self._entrance_id,
            direction=direction,
            at=self.now(),
            people=int(answer.get("people") or 1),
            result=str(answer["result"]),
            reason=str(answer["reason"]),
            lane=lane,
            scanned_at=scanned_at.isoformat(),
            mode="online",
        )
        with self.store.lock:
            if self.store.insert_entry(self.store.connection, stored, mine=True, uploaded=True):
                self._remember(stored)
        return Answer(
            stored.result,
            stored.reason,
            stored.people,
            nonce,
            "online",
            replayed=bool(answer.get("replayed")),
            ticket=answer.get("ticket"),
        )

    def decide_offline(
        self, *, lane: str, code: str, direction: str, nonce: str, scanned_at: dt.datetime
    ) -> Answer:
        """Decide alone and queue the entry for upload (see the module docstring)."""
        now = self.now()
        payload = self._verify(code)
        entrance_id = self._entrance_id
        with self.store.lock:  # one decision at a time: read the code's entries, insert this one
            db = self.store.connection
            if not entrance_id:
                reason = d.UNKNOWN  # never synced: no keys, no rules
            elif payload is None:
                reason = d.FORGED
            elif payload.code_id in self._revoked:
                reason = d.REVOKED
            else:
                reason = self._rule_decide(payload, entrance_id, direction, now)
            stored = StoredEntry(
                nonce=nonce,
                code_id=payload.code_id if payload else "",
                entrance_id=entrance_id,
                direction=direction,
                at=now,
                people=payload.party_size if payload else 1,
                result="accepted" if d.is_accepted(reason) else "rejected",
                reason=reason,
                code=code[:CODE_MAX_CHARS],
                lane=lane,
                scanned_at=scanned_at.isoformat(),
                mode="offline",
            )
            if self.store.insert_entry(db, stored, mine=True, uploaded=False):  # its own transaction
                self._remember(stored)
        return Answer(stored.result, reason, stored.people, nonce, "offline")

    def _rule_decide(self, payload: CodePayload, entrance_id: int, direction: str, now: dt.datetime) -> str:
        start, end = d.day_bounds(now)
        return d.code_decide(
            payload,
            entrance_id=entrance_id,
            direction=direction,
            rule=d.rule_pick(self._rules, payload.product_id),
            previous=self._seen.between(payload.code_id, start, end),
            now=now,
        )

    def _remember(self, entry: StoredEntry) -> None:
        if entry.result == "accepted":
            self._seen.add(entry.nonce, entry.code_id, entry.direction, entry.at)

    def _load_seen(self) -> None:
        since = iso(dt.datetime.fromtimestamp(self.clock(), dt.UTC) - dt.timedelta(days=KEEP_DAYS))
        for nonce, code_id, direction, at in self.store.accepted(since):
            self._seen.add(nonce, code_id, direction, from_iso(at))

    def _verify(self, code: str) -> CodePayload | None:
        if not self._keys or len(code) > CODE_MAX_CHARS:
            return None
        try:
            return code_verify(code, self._keys)
        except (ForgedCode, ValueError, OverflowError):
            return None

    def not_passed(self, *, lane: str, nonce: str) -> bool:
        """The visitor of entry ``nonce`` did not go through: cancel it here and at the central
        service (now, or at the next sync). False if the agent does not know the entry."""
        entry = self.store.entry(nonce)
        if entry is None or entry.result != "accepted":
            return False
        if self.status.online:
            try:
                self.central.not_passed(
                    {"entrance": self.entrance, "lane": lane, "nonce": nonce}, timeout=self.timeout
                )
                return self._cancel(nonce, lane, queue=False)
            except Unreachable as exc:
                self._offline(str(exc))
            except Refused as exc:
                raise AgentError(exc.status, _detail(exc.body), _field(exc.body)) from exc
        return self._cancel(nonce, lane, queue=True)

    def _cancel(self, nonce: str, lane: str, *, queue: bool) -> bool:
        with self.store.lock:
            self._seen.remove(nonce)
            return self.store.cancel(nonce, lane, queue=queue)

    # --- sync ----------------------------------------------------------------------------------

    def sync(self) -> bool:
        """Upload what waits, then pull the feed; True when the central service answered."""
        with self._sync_lock:
            try:
                if not self.passes_only:
                    self._upload()
                    self._pull()
                if self.passes is not None and not self.passes.sync():
                    raise Unreachable("the pass network did not answer")
            except Unreachable as exc:
                self._offline(str(exc))
                return False
            except Refused as exc:
                self.status.last_error = f"refused: {exc}"
                log.error("the central service refused the agent's sync: %s", exc)
                return False
            self.status.online = True
            self.status.last_error = ""
            return True

    def _upload(self) -> None:
        while batch := self.store.pending(UPLOAD_BATCH):
            entries = [
                {
                    "nonce": e.nonce,
                    "code": e.code,
                    "lane": e.lane,
                    "direction": e.direction,
                    "scanned_at": e.scanned_at,
                    "decided_at": e.at.isoformat(),
                    "reason": e.reason,
                }
                for e in batch
            ]
            waiting = self.store.pending_count() - len(batch)
            answer = self.central.upload(self.entrance, entries, waiting, timeout=max(self.timeout, 10.0))
            self.status.conflicts += sum(1 for r in answer["results"] if r.get("conflict"))
            self.store.mark_uploaded(r["nonce"] for r in answer["results"])
        for nonce, lane in self.store.pending_cancellations():
            try:
                self.central.not_passed(
                    {"entrance": self.entrance, "lane": lane, "nonce": nonce}, timeout=5.0
                )
            except Refused as exc:
                log.warning("a 'not passed' for %s was refused: %s", nonce, exc)
            self.store.cancellation_sent(nonce)

    def _pull(self) -> None:
        for _ in range(FEED_PAGES_MAX):
            since = self.store.get("cursor", "")
            sent = self.clock()
            page = self.central.feed(
                self.entrance, since, self.store.pending_count(), timeout=max(self.timeout, 10.0)
            )
            received = self.clock()
            self._merge(page, offset=_offset(page["server_time"], sent, received))
            if not page.get("more"):
                break

    def _merge(self, page: dict[str, Any], *, offset: float) -> None:
        entrance_id = int(page["entrance"]["id"])
        with self.store.transaction() as db:
            db.execute("DELETE FROM keys")
            db.executemany(
                "INSERT INTO keys (kid, public_key) VALUES (?, ?)",
                [(k["kid"], k["public_key"]) for k in page["keys"]],
            )
            db.executemany(
                "INSERT OR IGNORE INTO revocations (code_id) VALUES (?)", [(c,) for c in page["revocations"]]
            )
            for item in page["entries"]:
                entry = StoredEntry(
                    nonce=item["nonce"],
                    code_id=item["code_id"],
                    entrance_id=int(item["entrance"]),
                    direction=item["direction"],
                    at=dt.datetime.fromisoformat(item["at"]),
                    people=int(item["people"]),
                    result="accepted",
                    reason="",
                )
                if item.get("cancelled"):
                    continue  # cancelled before the agent heard of it: it does not count
                if self.store.insert_entry(db, entry, mine=False, uploaded=True):
                    self._remember(entry)
            cancelled = [(n,) for n in page["cancellations"]]
            db.executemany("UPDATE entries SET cancelled = 1 WHERE nonce = ?", cancelled)
            self._seen.remove_all(page["cancellations"])
            keep = dt.datetime.fromtimestamp(self.clock(), dt.UTC) - dt.timedelta(days=KEEP_DAYS)
            db.execute("DELETE FROM entries WHERE at < ? AND uploaded = 1", (iso(keep),))
            if self.clock() - self._pruned_at > PRUNE_SECONDS:
                self._seen.prune(keep)
                self._pruned_at = self.clock()
            Store.put(db, "cursor", page["cursor"])
            Store.put(db, "entrance_id", entrance_id)
            Store.put(db, "rules", page["rules"])
            Store.put(db, "lanes", {lane["code"]: lane["direction"] for lane in page.get("lanes", [])})
            Store.put(db, "clock_offset", offset)
            Store.put(db, "last_sync", page["server_time"])
        self._load_meta()
        self._revoked.update(page["revocations"])
        self.status.last_sync = dt.datetime.fromisoformat(page["server_time"])

    def _load_meta(self) -> None:
        self._keys = {
            kid: Ed25519PublicKey.from_public_bytes(_b64url(raw)) for kid, raw in self.store.keys().items()
        }
        rules: dict[int | None, d.Rule] = {}
        for item in self.store.get("rules", []) or []:
            rules[item.get("product")] = d.Rule.from_dict(item)
        self._rules = rules
        if not self._revoked:
            self._revoked = self.store.revoked_all()
        self._entrance_id = int(self.store.get("entrance_id", 0))
        self._offset = float(self.store.get("clock_offset", 0.0))
        self._lanes = self.store.get("lanes", None)
        last = self.store.get("last_sync", None)
        self.status.last_sync = dt.datetime.fromisoformat(last) if last else None

    def _offline(self, why: str) -> None:
        if self.status.online:
            log.warning("the central service is out of reach (%s): deciding alone", why)
        self.status.online = False
        self.status.last_error = why

    # --- the loop ------------------------------------------------------------------------------

    def run_sync_loop(self) -> None:
        while not self._stop.is_set():
            self.sync()
            self._stop.wait(self.sync_seconds)

    def stop(self) -> None:
        self._stop.set()

    def state(self) -> dict[str, Any]:
        return {
            "entrance": self.entrance,
            "online": self.status.online,
            "last_sync": self.status.last_sync.isoformat() if self.status.last_sync else None,
            "last_error": self.status.last_error,
            "queued": self.store.pending_count(),
            "conflicts": self.status.conflicts,
            "cursor": self.store.get("cursor", ""),
            "clock_offset": self.store.get("clock_offset", 0.0),
        }


def _is_pass(code: str) -> bool:
    from cimaise.passnet.agent import is_pass_code

    return is_pass_code(code)


def _offset(server_time: str, sent: float, received: float) -> float:
    """Seconds to add to the local clock: the server's time against the request's midpoint."""
    return dt.datetime.fromisoformat(server_time).timestamp() - (sent + received) / 2


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _detail(body: Any) -> str:
    """The message of the central service's error body (``{"error": {"message": …}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else str(body)


def _field(body: Any) -> str:
    """The field an error names: its ``details.field``, or the first validation detail's."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if isinstance(details, list) and details and isinstance(details[0], dict):
        details = details[0]
    return str(details.get("field") or "") if isinstance(details, dict) else ""
