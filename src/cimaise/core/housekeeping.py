"""Periodic housekeeping: apps register jobs (expire holds that ran out, ask a payment gateway
about a notification that never came…); ``cimaise housekeeping`` runs the due ones, once or in
a loop (``cimaise serve`` starts the loop beside the web and task workers)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("cimaise.housekeeping")


@dataclass(frozen=True)
class Job:
    """``run`` returns a short line saying what it did; it must be safe to run at any time."""

    name: str
    every_seconds: int
    run: Callable[[], str]


_JOBS: dict[str, Job] = {}


def register(job: Job) -> None:
    _JOBS[job.name] = job


def jobs() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


def run_due(last_run: dict[str, float], now: float) -> list[tuple[str, str]]:
    """Run the jobs whose interval has passed since ``last_run`` (updated); a failing job is
    logged and does not stop the others. Returns (job, what it said)."""
    said: list[tuple[str, str]] = []
    for job in jobs():
        if now - last_run.get(job.name, float("-inf")) < job.every_seconds:
            continue
        last_run[job.name] = now
        try:
            said.append((job.name, job.run()))
        except Exception as exc:  # a housekeeping failure must not stop the loop
            logger.exception("housekeeping job %s failed", job.name)
            said.append((job.name, f"failed: {type(exc).__name__}"))
    return said
