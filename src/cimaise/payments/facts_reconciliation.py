"""The fact type recorded by reconciliation (``reconciliation.py``)."""

from cimaise.ledger.types import register

RECONCILIATION_RUN = register(
    "payments.reconciliation.run",
    "A provider's statement for a day was compared with our payments and refunds (run id, "
    "provider, day, file name and SHA-256, counts on both sides, totals per currency, differences "
    "per kind). Stream: payments.reconciliation:<institution>:<provider>.",
)
