"""``cimaise housekeeping [--loop SECONDS]``: run the registered periodic jobs."""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from cimaise.core.housekeeping import jobs, run_due


class Command(BaseCommand):
    help = "Run the periodic housekeeping jobs once (default), or every few seconds with --loop."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--loop", type=int, default=0, metavar="SECONDS", help="check for due jobs this often"
        )
        parser.add_argument("--list", action="store_true", help="list the jobs and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for job in jobs():
                self.stdout.write(f"{job.name}: every {job.every_seconds} s")
            return
        last_run: dict[str, float] = {}
        if not options["loop"]:
            self._report(run_due({}, time.monotonic()))
            return
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            self._report(run_due(last_run, time.monotonic()))
            connections.close_all()
            for _ in range(max(1, options["loop"]) * 10):
                if stopping:
                    break
                time.sleep(0.1)

    def _report(self, said: list[tuple[str, str]]) -> None:
        for name, line in said:
            self.stdout.write(f"{name}: {line}")
