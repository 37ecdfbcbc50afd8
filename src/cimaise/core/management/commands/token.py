"""``cimaise token create --user USERNAME --label TEXT``: print a new API token (stored hashed)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cimaise.core import services
from cimaise.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its digest is stored)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token")
        create.add_argument("--user", required=True, help="user name")
        create.add_argument("--label", required=True, help="what the token is for")
        create.add_argument("--days", type=int, default=None, help="expire after this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: no user named {options['user']!r}")
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            issued = services.token_create(
                user=user,
                label=options["label"],
                actor="system:cli",
                expires_at=expires,
            )
        except DomainError as exc:
            raise CommandError(f"--{exc.field or 'label'}: {exc.message}") from exc
        self.stdout.write(issued.raw)
