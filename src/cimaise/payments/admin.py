"""Payments, notifications and refunds can be read in the admin, never edited: they change only
through the services, which record each change in the ledger."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cimaise.payments.models import (
    ExchangeRate,
    Notification,
    Payment,
    ReconciliationLine,
    ReconciliationRun,
    Refund,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "institution", "purpose", "reference", "provider", "amount", "currency", "state")
    list_filter = ("state", "provider", "late", "institution")
    search_fields = ("id", "reference", "provider_reference")
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("provider", "notification_id", "payment", "status", "outcome", "received_at")
    list_filter = ("provider", "outcome")
    search_fields = ("notification_id", "payment__id")
    show_full_result_count = False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("refund_id", "payment", "amount", "state", "created_at", "completed_at")
    list_filter = ("state",)
    search_fields = ("refund_id", "payment__id")


# Reconciliation and exchange rates. Rates are reference data that administrators keep up to
# date here; reconciliation runs are records of what was compared, so they are read-only.


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin[ExchangeRate]):
    list_display = ("base", "quote", "valid_from", "rate", "source")
    list_filter = ("base", "quote")
    ordering = ("base", "quote", "-valid_from")
    date_hierarchy = "valid_from"


class ReconciliationLineInline(admin.TabularInline[ReconciliationLine, ReconciliationRun]):
    model = ReconciliationLine
    extra = 0
    can_delete = False
    fields = ("kind", "transaction", "out_trade_no", "refund_id", "provider_amount", "our_amount", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "institution", "provider", "day", "differences", "filename", "created_at")
    list_filter = ("provider", "institution")
    date_hierarchy = "day"
    inlines = (ReconciliationLineInline,)
