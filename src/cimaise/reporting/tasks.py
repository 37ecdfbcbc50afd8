"""The build as a task: the "build now" button enqueues it; the task worker runs it."""

from __future__ import annotations

from django.tasks import task

from cimaise.reporting.build import facts_build


@task
def facts_build_task() -> str:
    """Run ``report build`` and say what it did."""
    return facts_build().summary()
