"""``cimaise ticketing sweep``: give back the places of carts and unpaid orders past their time."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cimaise.ticketing.orders import carts_and_orders_expire


class Command(BaseCommand):
    help = "Ticketing housekeeping: `sweep` releases expired holds (the sales also do it as they go)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sweep"])

    def handle(self, *args: Any, **options: Any) -> None:
        carts, orders = carts_and_orders_expire()
        self.stdout.write(f"expired {carts} carts and {orders} unpaid orders")
