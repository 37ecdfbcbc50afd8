"""``cimaise epcis export [--since ISO] [--convoy CODE] -o FILE``: custody events as an EPCIS 2.0
JSON-LD document, with a progress bar and the count on standard error."""

from __future__ import annotations

import datetime as dt
import os
import sys
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from cimaise.core.conf import setting
from cimaise.core.models import Institution
from cimaise.moves.epcis import parse_time
from cimaise.moves.export import document_context, export_events, write_document
from cimaise.moves.models import Convoy


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
        institution = _institution(options["institution"] or setting("INSTITUTION"))
        convoy = _convoy(institution, options["convoy"]) if options["convoy"] else None
        events = export_events(institution, since=_since(options["since"]), convoy=convoy)
        prefixes = document_context(events)
        bar = tqdm(
            events.iterator(chunk_size=2000),
            total=events.count(),
            desc="events",
            unit="ev",
            file=sys.stderr,
        )
        with _output(options["output"]) as out, bar:
            count = write_document(out, bar, prefixes=prefixes, now=timezone.now())
        self.stderr.write(f"{count} events written")


def _institution(code: str) -> Institution:
    institution = Institution.objects.filter(code=code).first()
    if institution is None:
        raise CommandError(f"no institution {code!r}")
    return institution


def _convoy(institution: Institution, code: str) -> Convoy:
    convoy = Convoy.objects.filter(institution=institution, code=code).first()
    if convoy is None:
        raise CommandError(f"no convoy {code!r}")
    return convoy


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        raise CommandError(
            "--since must be an ISO 8601 date-time with a time zone, e.g. 2020-01-31T00:00:00Z"
        )
    return moment


@contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    """Standard output for ``-``; else a file that appears whole or not at all (written beside
    it, renamed at the end), so an interrupted export never leaves half a document."""
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"no directory {str(target.parent)!r} to write {target.name!r} in")
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with partial.open("w", encoding="utf-8") as out:
            yield out
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
