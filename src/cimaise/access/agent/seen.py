"""The agent's in-memory index of accepted, not cancelled entries by code, rebuilt from the store
at start and kept in step with it: a decision reads a code's earlier entries here (a dictionary
lookup) rather than in SQLite, and only its own insert touches the file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cimaise.access.decide import Seen


class SeenIndex:
    def __init__(self) -> None:
        self._by_code: dict[str, dict[str, Seen]] = {}
        self._code_of: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._code_of)

    def add(self, nonce: str, code_id: str, direction: str, at: dt.datetime) -> None:
        if not code_id or nonce in self._code_of:
            return
        self._by_code.setdefault(code_id, {})[nonce] = Seen(direction=direction, at=at)
        self._code_of[nonce] = code_id

    def remove(self, nonce: str) -> None:
        code_id = self._code_of.pop(nonce, None)
        if code_id is None:
            return
        entries = self._by_code.get(code_id, {})
        entries.pop(nonce, None)
        if not entries:
            self._by_code.pop(code_id, None)

    def remove_all(self, nonces: Iterable[str]) -> None:
        for nonce in nonces:
            self.remove(nonce)

    def between(self, code_id: str, start: dt.datetime, end: dt.datetime) -> list[Seen]:
        """The code's entries in [start, end), oldest first."""
        found = [seen for seen in self._by_code.get(code_id, {}).values() if start <= seen.at < end]
        return sorted(found, key=lambda seen: seen.at)

    def prune(self, before: dt.datetime) -> None:
        old = [
            nonce
            for code_id, entries in self._by_code.items()
            for nonce, seen in entries.items()
            if seen.at < before and code_id
        ]
        self.remove_all(old)
