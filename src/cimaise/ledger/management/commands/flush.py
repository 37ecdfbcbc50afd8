"""Django's ``flush``, which the append-only triggers refuse on the ledger's tables.

With ``LEDGER_ALLOW_FLUSH`` (the test settings only) the triggers are dropped for the flush and
put back afterwards, so that transactional tests can empty the database between tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from cimaise.ledger.triggers import triggers_drop, triggers_install


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        if not getattr(settings, "LEDGER_ALLOW_FLUSH", False):
            super().handle(**options)
            return
        connection = connections[options["database"]]
        triggers_drop(connection)
        try:
            super().handle(**options)
        finally:
            triggers_install(connection)
