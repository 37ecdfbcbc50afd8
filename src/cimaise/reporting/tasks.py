"""The build as a task: the "build now" button enqueues it; the task worker runs it."""

from __future__ import annotations

from django.tasks import task

from cimaise.core.errors import Conflict
from cimaise.reporting.build import facts_build


@task
def facts_build_task() -> str:
    """Run ``report build`` and say what it did (a build already running is not an error: the
    button pressed twice, or while the nightly build runs)."""
    try:
        return facts_build().summary()
    except Conflict as exc:
        return exc.message
