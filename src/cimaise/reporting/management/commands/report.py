"""``cimaise report build`` refreshes the analytical facts (incremental, idempotent, with a
progress bar); ``cimaise report pdf --month YYYY-MM -o FILE`` writes the monthly report."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cimaise.core.errors import DomainError
from cimaise.core.models import Institution
from cimaise.reporting.build import facts_build
from cimaise.reporting.pdf import monthly_pdf


class Command(BaseCommand):
    help = "build: refresh the analytics facts; pdf: write the monthly report of --month to -o FILE."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="extract new facts into Parquet")
        build.add_argument("--quiet", action="store_true", help="no progress bar")
        pdf = sub.add_parser("pdf", help="write the monthly report")
        pdf.add_argument("--month", required=True, help="YYYY-MM")
        pdf.add_argument("-o", "--output", required=True, help="the PDF file to write")
        pdf.add_argument("--institution", default=None, help="institution code (default: the first)")
        pdf.add_argument("--language", default="en", choices=["en", "fr"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "build":
            self._build(quiet=options["quiet"])
        else:
            self._pdf(options)

    def _build(self, *, quiet: bool) -> None:
        with tqdm(unit="row", desc="report build", disable=quiet, file=self.stderr) as bar:

            def advance(n: int) -> None:
                bar.update(n)

            def total(n: int) -> None:
                bar.total = n
                bar.refresh()

            try:
                result = facts_build(progress=advance, total=total)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(f"report build: {result.summary()}")

    def _pdf(self, options: dict[str, Any]) -> None:
        code = (
            options["institution"]
            or Institution.objects.order_by("id").values_list("code", flat=True).first()
        )
        if code is None or not Institution.objects.filter(code=code).exists():
            raise CommandError(f"--institution: no institution {code!r}")
        try:
            pdf = monthly_pdf(institution=code, month=options["month"], language=options["language"])
        except DomainError as exc:
            raise CommandError(f"--{exc.message}") from exc
        Path(options["output"]).write_bytes(pdf)
        self.stdout.write(f"wrote {options['output']} ({len(pdf)} bytes)")
