"""``cimaise serve`` as a real process: granian workers answer pages, static files and the API,
the task worker runs beside them, and SIGTERM stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "cimaise serve exited early"
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_serve_answers_pages_static_files_and_api_then_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cimaise.config.settings",
        "CIMAISE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    cli = [sys.executable, "-m", "cimaise.config.cli"]
    subprocess.run([*cli, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--addr", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/login/", proc)
        assert fetch(f"{base}/login/")[0] == 200
        status, css = fetch(f"{base}/static/cimaise/site.css")
        assert status == 200 and "--accent" in css
        status, body = fetch(f"{base}/api/v1/me")
        assert status == 401 and '"not_authenticated"' in body
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
    assert "Starting worker" in output  # the django-tasks-db worker ran beside the web workers
