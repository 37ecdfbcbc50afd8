"""The pass network in the admin: products, sites (rules, opening hours), batches; passes,
entries and settlements read-only (they change only through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cimaise.passnet.models import (
    PartnerKey,
    PartnerSite,
    Pass,
    PassEntry,
    PassProduct,
    ResellerBatch,
    Settlement,
    SettlementRule,
)


@admin.register(PassProduct)
class PassProductAdmin(admin.ModelAdmin[PassProduct]):
    list_display = ("code", "name", "days", "mode", "validity_hours", "price", "active")


@admin.register(PartnerSite)
class PartnerSiteAdmin(admin.ModelAdmin[PartnerSite]):
    list_display = ("code", "name", "institution", "entries_per_pass", "active")
    search_fields = ("code", "name")
    filter_horizontal = ("products",)


@admin.register(SettlementRule)
class SettlementRuleAdmin(admin.ModelAdmin[SettlementRule]):
    list_display = ("operator", "formula", "cost_rate", "fixed_costs", "per_visit_amount")


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Pass)
class PassAdmin(ReadOnly):
    list_display = ("code_id", "product", "channel", "state", "activated_at", "expires_at")
    search_fields = ("code_id", "holder_name")


@admin.register(PassEntry)
class PassEntryAdmin(ReadOnly):
    list_display = ("id", "site", "code_id", "result", "reason", "recorded_at", "source")
    list_filter = ("result", "reason", "source")


admin.site.register(ResellerBatch, ReadOnly)
admin.site.register(PartnerKey, ReadOnly)
admin.site.register(Settlement, ReadOnly)
