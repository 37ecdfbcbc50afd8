"""API routes of the reporting app (DESIGN §5)."""

from ninja import Router

router = Router(tags=["reporting"])
