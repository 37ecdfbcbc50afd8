"""The ``cimaise`` command: Django's management commands with the settings preset."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command (``cimaise demo``, ``cimaise ledger verify`` …)."""
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cimaise.config.settings")
    if len(args) > 1 and args[1] == "demo":
        # The demo serves plain HTTP on loopback: cookies marked Secure would never come back.
        os.environ.setdefault("SECURE_COOKIES", "false")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
