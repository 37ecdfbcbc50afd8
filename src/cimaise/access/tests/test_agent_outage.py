"""The outage test of issue 7, with real processes: the central service (``cimaise serve``) and
two entrance agents (``cimaise entrance-agent``) for Pyramide and Richelieu, each with its own
SQLite file. Scan online; stop the central service; scan offline, the same code twice at one
entrance and one code at each entrance; restart it; the agents resync: no entry is lost, the
reuse at one entrance was refused offline, and the reuse across entrances is flagged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "cimaise.config.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(url: str, body: dict[str, Any] | None = None, token: str = "") -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310  (loopback only)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_for(
    check: Callable[[], bool], what: str, seconds: float = 60, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, f"{what}: the process exited ({proc.args!r})"
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds}s")


@dataclass
class World:
    tmp: Path
    env: dict[str, str]
    central_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    central: subprocess.Popen[bytes] | None = None

    @property
    def central_url(self) -> str:
        return f"http://127.0.0.1:{self.central_port}"

    def run(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "cimaise.access.tests.outage_world", *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))

    def start_central(self) -> None:
        self.central = self._spawn(
            "central",
            "serve",
            "--addr",
            f"127.0.0.1:{self.central_port}",
            "--workers",
            "1",
            "--no-task-worker",
            "--no-housekeeping",
        )
        wait_for(
            lambda: request(f"{self.central_url}/api/v1/health")[0] == 200,
            "the central service is up",
            proc=self.central,
        )

    def stop_central(self) -> None:
        assert self.central is not None
        self.central.send_signal(signal.SIGTERM)
        self.central.wait(timeout=30)
        self.central = None

    def start_agent(self, entrance: str, token: str) -> str:
        port = free_port()
        proc = self._spawn(
            f"agent-{entrance}",
            "entrance-agent",
            "--entrance",
            entrance,
            "--central",
            self.central_url,
            "--token",
            token,
            "--db",
            str(self.tmp / f"agent-{entrance}.sqlite3"),
            "--listen",
            f"127.0.0.1:{port}",
            "--sync-seconds",
            "0.5",
        )
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: request(f"{url}/status")[1]["online"] is True, f"agent {entrance} is online", proc=proc
        )
        return url

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen([*CLI, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cimaise.config.settings",
        "CIMAISE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'central.sqlite3'}",
    }
    subprocess.run([*CLI, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=300)
    made = World(tmp_path, env)
    try:
        yield made
    finally:
        made.stop_all()


def scan(agent: str, code: str, lane: str, nonce: str) -> dict[str, Any]:
    status, answer = request(f"{agent}/scan", {"code": code, "lane": lane, "direction": "in", "nonce": nonce})
    assert status == 200, answer
    return answer


def test_two_agents_through_an_outage(world: World) -> None:
    made = world.run("setup")
    a, b, c, d = made["codes"][:4]
    world.start_central()
    pyramide = world.start_agent("PYR", made["token"])
    richelieu = world.start_agent("RIC", made["token"])

    # online: the central service decides
    online = scan(pyramide, a, "L1", "p-1")
    assert (online["reason"], online["mode"]) == ("ok", "online")
    online_reuse = scan(richelieu, a, "R1", "r-1")
    assert (online_reuse["reason"], online_reuse["mode"]) == ("already_used", "online")

    world.stop_central()
    # offline: each agent decides alone
    first_b = scan(pyramide, b, "L1", "p-2")
    assert (first_b["result"], first_b["mode"], first_b["replayed"]) == ("accepted", "offline", False)
    resent = scan(pyramide, b, "L1", "p-2")
    assert (resent["result"], resent["reason"], resent["replayed"]) == ("accepted", "ok", True)
    same_entrance = scan(pyramide, b, "L2", "p-3")
    assert (same_entrance["result"], same_entrance["reason"]) == ("rejected", "already_used")
    assert scan(pyramide, c, "L1", "p-4")["reason"] == "ok"
    assert scan(richelieu, c, "R1", "r-2")["reason"] == "ok"  # the other entrance cannot know
    assert scan(richelieu, d, "R1", "r-3")["reason"] == "ok"
    assert scan(pyramide, a, "L2", "p-5")["reason"] == "already_used"  # known from the online scan
    assert scan(richelieu, "CM1:BROKEN", "R1", "r-4")["reason"] == "forged"
    assert (
        request(f"{pyramide}/status")[1]["queued"] == 4 and request(f"{richelieu}/status")[1]["queued"] == 3
    )

    world.start_central()  # the same database, the same address
    for agent in (pyramide, richelieu):
        wait_for(
            lambda agent=agent: (s := request(f"{agent}/status")[1])["online"] and s["queued"] == 0,  # type: ignore[misc]
            f"{agent} resynced",
        )
    entries = {e["nonce"]: e for e in world.run("report")["entries"]}
    sent = {"p-1", "r-1", "p-2", "p-3", "p-4", "r-2", "r-3", "p-5", "r-4"}
    assert set(entries) == sent  # no entry lost, none twice
    assert entries["p-3"]["source"] == "offline" and entries["p-3"]["reason"] == "already_used"
    c_entries = [entries["p-4"], entries["r-2"]]
    assert all(e["result"] == "accepted" for e in c_entries)
    assert sorted(e["central_reason"] for e in c_entries) == ["", "already_used"]  # flagged at resync
    assert entries["r-3"]["central_reason"] == "" and entries["r-4"]["reason"] == "forged"
    conflicts = request(f"{richelieu}/status")[1]["conflicts"] + request(f"{pyramide}/status")[1]["conflicts"]
    assert conflicts == 1

    # the agents learn each other's offline entries through the feed
    assert scan(richelieu, b, "R1", "r-5")["reason"] == "already_used"
