from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cimaise.ledger.models import Anchor, Fact


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Facts and anchors can be read here, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Fact)
class FactAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "stream", "seq", "occurred_at", "actor", "institution")
    list_filter = ("type", "institution")
    search_fields = ("stream", "actor", "type")
    show_full_result_count = False


@admin.register(Anchor)
class AnchorAdmin(ReadOnlyAdmin):
    list_display = ("fact_id", "kid", "institution", "anchored_at")
