"""Payments, notifications and refunds can be read in the admin, never edited: they change only
through the services, which record each change in the ledger."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cimaise.payments.models import Notification, Payment, Refund


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
