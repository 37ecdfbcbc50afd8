"""``cimaise purchasing export|import|alerts``: the register's contracts to or from CSV (as a
purchasing officer or administrator named with ``--user``), and the renewal alerts due today."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor, actor_for
from cimaise.core.errors import DomainError
from cimaise.purchasing import csv_io, selectors
from cimaise.purchasing.alerts import renewal_alerts_send
from cimaise.purchasing.roles import VIEW


class Command(BaseCommand):
    help = (
        "Purchasing register: `export -o FILE --user U` writes the contracts as CSV; `import FILE --user U` "
        "imports a CSV file, all rows or none, listing every problem by row and column; `alerts` sends the "
        "renewal alerts due today (the housekeeping loop also does it hourly)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "import", "alerts"])
        parser.add_argument("file", nargs="?", help="the CSV file to import")
        parser.add_argument("-o", "--output", help="where to write the export ('-' for the console)")
        parser.add_argument("--user", help="the purchasing officer or administrator acting")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "alerts":
            self.stdout.write(f"sent {renewal_alerts_send()} renewal alerts")
            return
        actor = self._actor(options["user"])
        try:
            if options["action"] == "export":
                self._export(actor, options["output"])
            else:
                self._import(actor, options["file"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, username: str | None) -> Actor:
        user = User.objects.filter(username=username or "").first()
        actor = actor_for(user) if user else None
        if actor is None:
            raise CommandError("name an active user with --user")
        return actor

    def _export(self, actor: Actor, output: str | None) -> None:
        if not output:
            raise CommandError("name the output file with -o")
        institution = own_institution(actor)
        require_permission(actor, VIEW)
        contracts = list(
            tqdm(selectors.contracts_of(institution), desc="contracts", unit="row", file=self.stderr)
        )
        text = csv_io.contracts_csv(contracts)
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"{len(contracts)} contracts written to {output}")

    def _import(self, actor: Actor, file: str | None) -> None:
        if not file:
            raise CommandError("name the CSV file to import")
        data = Path(file).read_bytes()

        def bar(rows: Any) -> Any:
            return tqdm(rows, desc="rows", unit="row", file=self.stderr)

        try:
            result = csv_io.contracts_import(actor=actor, data=data, filename=Path(file).name, progress=bar)
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            for error in details.get("errors", []):
                self.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
            raise
        self.stdout.write(
            f"{result.rows} rows: {len(result.created)} created, {len(result.changed)} changed, "
            f"{len(result.unchanged)} unchanged"
        )
