from django.apps import AppConfig


class TicketingConfig(AppConfig):
    name = "cimaise.ticketing"
    verbose_name = "Ticketing"

    def ready(self) -> None:
        from cimaise.payments.hooks import PurposeHooks, register
        from cimaise.ticketing import (  # noqa: F401  (registries)
            demo_data,
            facts,
            facts_tickets,
            facts_waiting,
            rebuild,
            roles,
            roles_tickets,
            roles_waiting,
        )
        from cimaise.ticketing.orders import on_paid
        from cimaise.ticketing.services import PURPOSE

        register(PURPOSE, PurposeHooks(on_paid=on_paid))
        from cimaise.ticketing import panels

        panels.register()
