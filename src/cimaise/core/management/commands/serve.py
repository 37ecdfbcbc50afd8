"""``cimaise serve``: granian over WSGI (static files by whitenoise), the task worker and the
housekeeping loop (``cimaise housekeeping --loop 30``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def split_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise CommandError(f"--addr {addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = "Serve the application (granian, WSGI, several workers) and run the task worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT")
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument("--no-task-worker", action="store_true")
        parser.add_argument("--no-housekeeping", action="store_true", help="do not run the periodic jobs")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = split_addr(options["addr"])
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "cimaise.config.settings"),
        }
        web = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(options["workers"]),
            "--no-ws",
            "cimaise.config.wsgi:application",
        ]
        procs = [subprocess.Popen(web, env=env)]  # noqa: S603
        if not options["no_task_worker"]:
            worker = [sys.executable, "-m", "cimaise.config.cli", "db_worker", "--no-reload"]
            procs.append(subprocess.Popen(worker, env=env))  # noqa: S603
        if not options["no_housekeeping"]:
            loop = [sys.executable, "-m", "cimaise.config.cli", "housekeeping", "--loop", "30"]
            procs.append(subprocess.Popen(loop, env=env))  # noqa: S603
        self.stdout.write(f"Serving on http://{options['addr']}/ (Ctrl-C to stop)")
        self._supervise(procs)

    def _supervise(self, procs: list[subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        failed = [p.returncode for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise CommandError(f"a server process exited with status {failed[0]}")
