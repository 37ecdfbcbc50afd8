"""Pass checks for an entrance agent at a partner site (or at the museum's own entrance), online
and offline, as :mod:`cimaise.access.agent` does for tickets.

- **Online**: the scan goes to ``POST /api/v1/passnet/scans`` with a short timeout; the answer is
  remembered (an acceptance counts at this site, and may activate the pass).
- **Offline**: the agent verifies the signature with the operator's synced public keys and the
  network id, looks the pass up in the synced revocations, and applies the site's rules
  (:func:`cimaise.passnet.decide.pass_decide`, the central service's own code) to what it knows:
  activations anywhere in the network and entries at this site, from the feed up to the last
  sync, and its own. Decisions happen under a lock: a pass never gets in twice at this site beyond
  what the site allows, even offline. Offline decisions are queued and uploaded at the next sync.
- **State**: with a ``state_path`` the checker's state (keys, rules, revocations, activations,
  entries, answers, the queue, the cursor) is written to a JSON file after every change
  (atomically: a temporary file renamed), and read back at start: a restarted agent keeps its
  undelivered offline decisions.
- **Sync**: upload the queue (``POST …/sites/{code}/entries``), then pull the feed
  (``GET …/sites/{code}/feed``) until it has no more.

``call(method, path, body, timeout=…)`` is the transport: :class:`cimaise.access.agent.central.Central`
's ``call`` (it raises ``Unreachable`` and ``Refused``), or a test client.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cimaise.access.agent.central import Refused, Unreachable
from cimaise.core.keys import b64url, b64url_decode
from cimaise.passnet import decide as d
from cimaise.passnet.codes import PREFIX, ForgedCode, UnknownNetwork, pass_verify

Call = Callable[..., dict[str, Any]]
FEED_PAGES_MAX = 50
UPLOAD_BATCH = 500

__all__ = ["PREFIX", "PassAgent", "PassChecker", "Refused", "Unreachable", "is_pass_code"]


def is_pass_code(code: str) -> bool:
    """Whether a scanned text is a pass code (the agent's hook dispatches on this)."""
    return isinstance(code, str) and code.startswith(PREFIX)


@dataclass(frozen=True)
class PassAnswer:
    result: str
    reason: str
    nonce: str
    mode: str  # "online" or "offline"
    replayed: bool = False
    pass_info: dict[str, Any] | None = None


@dataclass
class PassChecker:
    """What the agent knows of the network, and the offline decision on it."""

    site: str
    network: int = 0
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    rule: d.SiteRule | None = None
    revoked: set[str] = field(default_factory=set)
    activations: dict[str, dt.datetime] = field(default_factory=dict)
    entries_here: dict[str, set[str]] = field(default_factory=dict)  # code id → nonces
    answers: dict[str, PassAnswer] = field(default_factory=dict)
    queue: list[dict[str, Any]] = field(default_factory=list)
    cursor: str = ""
    state_path: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, Any]:
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        return {
            "site": self.site,
            "network": self.network,
            "keys": {kid: b64url(key.public_bytes(*raw)) for kid, key in self.keys.items()},
            "rule": self.rule.as_dict() if self.rule else None,
            "revoked": sorted(self.revoked),
            "activations": {code_id: at.isoformat() for code_id, at in self.activations.items()},
            "entries_here": {code_id: sorted(nonces) for code_id, nonces in self.entries_here.items()},
            "answers": {n: [a.result, a.reason, a.mode] for n, a in self.answers.items()},
            "queue": self.queue,
            "cursor": self.cursor,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.network = int(data["network"])
        self.keys = {k: Ed25519PublicKey.from_public_bytes(b64url_decode(v)) for k, v in data["keys"].items()}
        self.rule = d.SiteRule.from_dict(data["rule"]) if data["rule"] else None
        self.revoked = set(data["revoked"])
        self.activations = {k: dt.datetime.fromisoformat(v) for k, v in data["activations"].items()}
        self.entries_here = {k: set(v) for k, v in data["entries_here"].items()}
        self.answers = {n: PassAnswer(r, why, n, mode) for n, (r, why, mode) in data["answers"].items()}
        self.queue = list(data["queue"])
        self.cursor = str(data["cursor"])

    def save(self) -> None:
        """Write the state (under the caller's lock) if the checker has a file."""
        if not self.state_path:
            return
        temporary = f"{self.state_path}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.snapshot(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state_path)

    @classmethod
    def open(cls, site: str, state_path: str = "") -> PassChecker:
        """A checker for ``site``, with the state saved at ``state_path`` if there is one."""
        checker = cls(site=site, state_path=state_path)
        if state_path and os.path.exists(state_path):
            with open(state_path, encoding="utf-8") as handle:
                checker.restore(json.load(handle))
        return checker

    def merge(self, page: dict[str, Any]) -> None:
        """Take one feed page in."""
        with self.lock:
            self.network = int(page["network"])
            self.keys = {
                k["kid"]: Ed25519PublicKey.from_public_bytes(b64url_decode(k["public_key"]))
                for k in page["keys"]
            }
            self.rule = d.SiteRule.from_dict(page["rule"])
            self.revoked.update(page["revocations"])
            for item in page["activations"]:
                self._activated(item["code_id"], _when(item["at"]))
            for item in page["entries"]:
                self.entries_here.setdefault(item["code_id"], set()).add(item["nonce"])
            self.cursor = str(page["cursor"])
            self.save()

    def _activated(self, code_id: str, at: dt.datetime) -> None:
        known = self.activations.get(code_id)
        self.activations[code_id] = at if known is None else min(known, at)

    def remember_online(self, code_id: str, direction: str, answer: PassAnswer, now: dt.datetime) -> None:
        """An online acceptance counts here too (by nonce: the feed brings it again)."""
        with self.lock:
            self.answers[answer.nonce] = answer
            if answer.result == "accepted" and direction == "in" and code_id:
                self._activated(code_id, now)
                self.entries_here.setdefault(code_id, set()).add(answer.nonce)
            self.save()

    def decide(
        self,
        *,
        code: str,
        lane: str,
        direction: str,
        nonce: str,
        scanned_at: dt.datetime,
        area: str,
        now: dt.datetime,
    ) -> PassAnswer:
        """Decide offline, queue the decision for upload; a resent nonce gets its first answer."""
        with self.lock:
            earlier = self.answers.get(nonce)
            if earlier is not None:
                return PassAnswer(earlier.result, earlier.reason, nonce, earlier.mode, replayed=True)
            reason, code_id = self._reason(code, direction, area, now)
            result = "accepted" if d.is_accepted(reason) else "rejected"
            if result == "accepted" and direction == "in":
                self._activated(code_id, now)
                self.entries_here.setdefault(code_id, set()).add(nonce)
            answer = PassAnswer(result, reason, nonce, "offline")
            self.answers[nonce] = answer
            self.queue.append(
                {
                    "nonce": nonce,
                    "code": code,
                    "lane": lane,
                    "direction": direction,
                    "scanned_at": scanned_at.isoformat(),
                    "decided_at": now.isoformat(),
                    "reason": reason,
                    "area": area,
                }
            )
            self.save()
            return answer

    def _reason(self, code: str, direction: str, area: str, now: dt.datetime) -> tuple[str, str]:
        try:
            payload = pass_verify(code, network=self.network, keys=self.keys)
        except UnknownNetwork:
            return d.UNKNOWN, ""
        except ForgedCode:
            return d.FORGED, ""
        if payload.code_id in self.revoked:
            return d.REVOKED, payload.code_id
        if self.rule is None:  # never synced: nothing to decide with
            return d.UNKNOWN, payload.code_id
        reason = d.pass_decide(
            product_id=payload.product_id,
            validity=d.Validity(payload.days, payload.calendar_days, payload.validity_hours),
            rule=self.rule,
            state=d.PassState(
                self.activations.get(payload.code_id), len(self.entries_here.get(payload.code_id, ()))
            ),
            direction=direction,
            area=area,
            now=now,
        )
        return reason, payload.code_id


def _when(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


class PassAgent:
    """Pass scans at one site through ``call``, falling back to :class:`PassChecker` offline."""

    def __init__(
        self,
        call: Call,
        site: str,
        *,
        timeout: float = 0.25,
        clock: Callable[[], dt.datetime] | None = None,
        state_path: str = "",
    ) -> None:
        self.call = call
        self.checker = PassChecker.open(site, state_path)
        self.timeout = timeout
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.online = False

    def scan(
        self,
        *,
        lane: str,
        code: str,
        direction: str = "in",
        nonce: str = "",
        scanned_at: dt.datetime | None = None,
        area: str = "",
    ) -> PassAnswer:
        nonce = nonce or secrets.token_hex(12)
        now = self.clock()
        scanned_at = scanned_at or now
        if self.online:
            body = {
                "code": code,
                "entrance": self.checker.site,
                "lane": lane,
                "direction": direction,
                "nonce": nonce,
                "scanned_at": scanned_at.isoformat(),
                "area": area,
            }
            try:
                data = self.call("POST", "/api/v1/passnet/scans", body, timeout=self.timeout)
            except Unreachable:
                self.online = False
            else:
                answer = PassAnswer(
                    data["result"], data["reason"], nonce, "online", data["replayed"], data["pass"]
                )
                code_id = (data.get("pass") or {}).get("code_id", "")
                self.checker.remember_online(code_id, direction, answer, now)
                return answer
        return self.checker.decide(
            code=code, lane=lane, direction=direction, nonce=nonce, scanned_at=scanned_at, area=area, now=now
        )

    def sync(self) -> bool:
        """Upload the queue, then pull the feed; True when both succeeded (the agent is online)."""
        try:
            self._upload()
            self._pull()
        except Unreachable:
            self.online = False
            return False
        self.online = True
        return True

    def _upload(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        site = urllib.parse.quote(self.checker.site)
        while self.checker.queue:
            batch = self.checker.queue[:UPLOAD_BATCH]
            data = self.call("POST", f"/api/v1/passnet/sites/{site}/entries", {"entries": batch}, timeout=10)
            results.extend(data["results"])
            with self.checker.lock:
                del self.checker.queue[: len(batch)]
                self.checker.save()
        return results

    def _pull(self) -> None:
        site = urllib.parse.quote(self.checker.site)
        for _ in range(FEED_PAGES_MAX):
            since = urllib.parse.quote(self.checker.cursor)
            page = self.call("GET", f"/api/v1/passnet/sites/{site}/feed?since={since}", None, timeout=10)
            self.checker.merge(page)
            if not page["more"]:
                return
