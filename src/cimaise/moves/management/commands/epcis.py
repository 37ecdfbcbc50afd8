"""``cimaise epcis export [--since ISO] [--convoy CODE] -o FILE``: custody events as an EPCIS 2.0
JSON-LD document."""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from cimaise.core.conf import setting
from cimaise.core.models import Institution
from cimaise.moves.epcis import parse_time
from cimaise.moves.export import export_events, write_document
from cimaise.moves.models import Convoy, CustodyEvent


class Command(BaseCommand):
    help = "Export custody events as an EPCIS 2.0 JSON-LD document."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write an EPCISDocument")
        export.add_argument("--since", help="only events recorded at or after this ISO 8601 time")
        export.add_argument("--convoy", help="only the events of this convoy and what it carried")
        export.add_argument(
            "--institution", default=None, help="institution code (default: the installation's)"
        )
        export.add_argument("-o", "--output", required=True, help="file to write ('-' for standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["institution"] or setting("INSTITUTION")
        institution = Institution.objects.filter(code=code).first()
        if institution is None:
            raise CommandError(f"no institution {code!r}")
        since = self._since(options["since"])
        convoy = None
        if options["convoy"]:
            convoy = Convoy.objects.filter(institution=institution, code=options["convoy"]).first()
            if convoy is None:
                raise CommandError(f"no convoy {options['convoy']!r}")
        total = CustodyEvent.objects.filter(institution=institution).count() if convoy is None else None
        events = tqdm(
            export_events(institution, since=since, convoy=convoy),
            total=total,
            desc="events",
            file=sys.stderr,
            unit="ev",
        )
        if options["output"] == "-":
            count = write_document(sys.stdout, iter(events), now=timezone.now())
        else:
            with open(options["output"], "w", encoding="utf-8") as out:
                count = write_document(out, iter(events), now=timezone.now())
        self.stderr.write(f"{count} events written")

    def _since(self, value: str | None) -> dt.datetime | None:
        if value is None:
            return None
        moment = parse_time(value)
        if moment is None:
            raise CommandError(
                "--since must be an ISO 8601 date-time with a time zone, e.g. 2020-01-31T00:00:00Z"
            )
        return moment
