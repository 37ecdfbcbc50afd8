"""``cimaise demo``: migrate, load the demo institution, print the logins, serve."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cimaise.core.demo import DEMO_PASSWORD, SCALES, DemoContext, NotADemoDatabase, demo_run
from cimaise.core.demo_data import USERS


class Command(BaseCommand):
    help = "Migrate, load a realistic demo institution (idempotent), print the demo logins, serve."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="small")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT to serve on")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="load, print and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        ctx = DemoContext(scale=options["scale"], stream=sys.stderr, quiet=options["verbosity"] == 0)
        try:
            ran = demo_run(ctx)
        except NotADemoDatabase as exc:
            raise CommandError(f"{exc}: the demo refuses to add its logins here") from exc
        self.stdout.write(
            f"Demo ({ctx.scale}): {', '.join(ran) if ran else 'already loaded, nothing added'}."
        )
        self._print_logins()
        if not options["no_serve"]:
            call_command("serve", addr=options["addr"], workers=options["workers"])

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password '{DEMO_PASSWORD}' for all):")
        for username, first, last, institution, roles, _job, _site in USERS:
            role_names = ", ".join(r.value for r in roles)
            self.stdout.write(f"  {username:<18} {first} {last} — {role_names} ({institution})")
