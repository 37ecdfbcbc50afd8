from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "cimaise.ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from cimaise.ledger import projections

        projections.register(
            "ledger.chain_head",
            projections.rebuild_chain_head,
            "The chain head: last fact id and hash.",
        )
        projections.register(
            "ledger.stream_heads",
            projections.rebuild_stream_heads,
            "Per stream, the last sequence number.",
        )
