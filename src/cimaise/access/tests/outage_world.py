"""The world of the outage test, made and read in a database of its own by a separate process
(``python -m cimaise.access.tests.outage_world setup|report`` with ``DATABASE_URL`` set):

- ``setup`` prints ``{"token": …, "codes": […]}``: a gate agent's API token, and six paid
  tickets of the Pyramide entrance for the current slot; Richelieu admits them too.
- ``report`` prints every entry the central service holds, and the fraud signals of the day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any


def setup() -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from cimaise.access.models import EntryRule
    from cimaise.access.tests.conftest import make_gate
    from cimaise.core.roles import Role
    from cimaise.core.tests.personas import make_cast, make_persona
    from cimaise.ticketing.tests.ticket_factories import make_paid_order, slot_for
    from cimaise.ticketing.tickets import tickets_issue

    cast = make_cast()
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    gate = make_gate(cast, start)
    EntryRule.objects.create(entrance=gate.richelieu, admits_other_entrances=True)
    order = make_paid_order(gate.catalogue, slot_for(gate.catalogue, start), lines=[("full", 4)])
    with transaction.atomic():
        more = tickets_issue(order=order, actor="system:test", now=timezone.now())
    supervisor = make_persona("gate-super", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)
    return {
        "token": cast.gate_agent_a.token,
        "supervisor": supervisor.token,
        "codes": [t.code for t in [*gate.tickets, *more]],
        "code_ids": [t.code_id for t in [*gate.tickets, *more]],
    }


def report() -> dict[str, Any]:
    from cimaise.access.models import Entry

    entries = Entry.objects.select_related("entrance", "lane").order_by("id")
    return {
        "entries": [
            {
                "nonce": e.nonce,
                "entrance": e.entrance.code,
                "lane": e.lane.code,
                "code_id": e.code_id,
                "source": e.source,
                "result": e.result,
                "reason": e.reason,
                "central_reason": e.central_reason,
            }
            for e in entries
        ]
    }


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cimaise.config.settings")
    import django

    django.setup()
    action = {"setup": setup, "report": report}[argv[1]]
    print(json.dumps(action(), default=str))  # noqa: T201  (the parent test reads it)


if __name__ == "__main__":
    main(sys.argv)
