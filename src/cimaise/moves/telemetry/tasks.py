"""Background work of telemetry: tasks take ids, run after the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.tasks import task

from cimaise.moves.telemetry.notify import incidents_notify


@task
def incidents_notify_task(incident_ids: list[int]) -> int:
    """E-mail the registrars about these newly opened incidents."""
    return incidents_notify(incident_ids)


def notify_on_commit(incident_ids: Sequence[int]) -> None:
    """Queue the e-mail once the incidents are committed (never for a rolled-back batch)."""
    if incident_ids:
        transaction.on_commit(partial(incidents_notify_task.enqueue, list(incident_ids)))
