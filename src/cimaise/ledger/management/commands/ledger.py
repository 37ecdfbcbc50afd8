"""``cimaise ledger verify|rebuild|anchor``: check, rebuild from, and anchor the ledger."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from cimaise.core.conf import setting
from cimaise.core.models import Institution
from cimaise.ledger import projections
from cimaise.ledger.anchors import ledger_anchor, parse_anchor_line
from cimaise.ledger.models import ChainHead
from cimaise.ledger.services import fact_append
from cimaise.ledger.types import PROJECTIONS_REBUILT
from cimaise.ledger.verify import ledger_verify


class Command(BaseCommand):
    help = (
        "verify: recompute the hash chain, exit 1 naming the first bad fact; "
        "rebuild: rebuild every projection from the facts; "
        "anchor: sign the chain head with the institution's key and print it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the hash chain")
        verify.add_argument(
            "--anchor",
            action="append",
            default=[],
            help="an anchor line printed earlier by 'ledger anchor' (repeatable)",
        )
        verify.add_argument("--quiet", action="store_true", help="no progress bar")
        sub.add_parser("rebuild", help="rebuild every projection from the facts")
        anchor = sub.add_parser("anchor", help="sign the current chain head")
        anchor.add_argument("--institution", default=None, help="institution code")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            self._verify(options["anchor"], quiet=options["quiet"])
        elif action == "rebuild":
            self._rebuild()
        else:
            self._anchor(options["institution"])

    def _verify(self, lines: list[str], *, quiet: bool) -> None:
        try:
            statements = [parse_anchor_line(line) for line in lines]
        except ValueError as exc:
            raise CommandError(f"--anchor: {exc}") from exc
        head = ChainHead.objects.filter(pk=1).first()
        total = head.last_id if head else None
        with tqdm(total=total, unit="fact", disable=quiet, file=self.stderr) as bar:

            def advance(n: int) -> None:
                bar.update(n)

            report = ledger_verify(anchors=statements, progress=advance)
        if report.problem is not None:
            self.stderr.write(f"ledger BROKEN at fact #{report.problem.fact_id}: {report.problem.message}")
            raise SystemExit(1)
        self.stdout.write(
            f"ledger intact: {report.facts} facts, head #{report.last_id} {report.last_hash}, "
            f"{report.anchors_checked} anchor(s) checked"
        )

    def _rebuild(self) -> None:
        counts: dict[str, int] = {}
        with transaction.atomic(durable=True):
            for projection in tqdm(projections.all_projections(), unit="projection", file=self.stderr):
                counts[projection.name] = projection.rebuild()
            fact_append(
                type=PROJECTIONS_REBUILT.name,
                stream="ledger.projections",
                body={"rows": counts},
                actor="system:cli",
            )
        for name, rows in counts.items():
            self.stdout.write(f"{name}: {rows} rows")

    def _anchor(self, code: str | None) -> None:
        code = code or str(setting("INSTITUTION"))
        institution = Institution.objects.filter(code=code).first()
        if institution is None:
            raise CommandError(f"--institution: no institution with code {code!r}")
        try:
            statement = ledger_anchor(institution=institution, actor="system:cli")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(statement.line())
