"""``cimaise entrance-agent --entrance CODE --central URL --token TOKEN --db PATH --listen HOST:PORT``:
run an entrance agent (DESIGN §3, §5) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cimaise.access.agent.central import Central
from cimaise.access.agent.core import EntranceAgent
from cimaise.access.agent.server import AgentServer
from cimaise.access.agent.store import Store


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--listen: HOST:PORT, not {text!r}")
    return host, int(port)


class Command(BaseCommand):
    help = "Serve the lanes of one entrance on loopback HTTP, online through the central service or alone"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entrance", required=True, help="the entrance's code (PYR …)")
        parser.add_argument("--central", required=True, help="the central service's URL")
        parser.add_argument("--token", required=True, help="a gate agent's API token")
        parser.add_argument("--db", required=True, help="the agent's own SQLite file")
        parser.add_argument("--listen", default="127.0.0.1:8100", help="HOST:PORT for the lanes")
        parser.add_argument(
            "--timeout-ms", type=int, default=250, help="how long a scan waits on the central"
        )
        parser.add_argument("--sync-seconds", type=float, default=2.0, help="seconds between syncs")
        parser.add_argument(
            "--pass-site",
            default="",
            help="also check museum passes, as this pass-network site (docs/passnet.md)",
        )
        parser.add_argument(
            "--passes-only",
            action="store_true",
            help="a partner site: check passes only (--entrance names the site; needs --pass-site)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = address(options["listen"])
        if options["timeout_ms"] <= 0 or options["sync_seconds"] <= 0:
            raise CommandError("--timeout-ms and --sync-seconds: positive")
        if options["passes_only"] and not options["pass_site"]:
            raise CommandError("--passes-only: needs --pass-site")
        try:
            central = Central(options["central"], options["token"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        store = Store(options["db"])
        agent = EntranceAgent(
            store,
            central,
            options["entrance"],
            timeout=options["timeout_ms"] / 1000,
            sync_seconds=options["sync_seconds"],
            pass_site=options["pass_site"],
            passes_only=options["passes_only"],
        )
        synced = agent.sync()
        self.stdout.write(
            f"entrance agent {options['entrance']}: "
            + (
                "synced with the central service"
                if synced
                else f"central out of reach ({agent.status.last_error})"
            )
        )
        server = AgentServer((host, port), agent)
        syncer = threading.Thread(target=agent.run_sync_loop, name="agent-sync", daemon=True)
        syncer.start()
        stop = threading.Event()

        def shutdown(*_: Any) -> None:
            if not stop.is_set():
                stop.set()
                agent.stop()
                threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        self.stdout.write(f"listening on http://{host}:{port}/scan", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            syncer.join(timeout=15)
            store.close()
            self.stdout.write("entrance agent stopped")
