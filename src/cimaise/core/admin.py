from django.contrib import admin

from cimaise.core.models import ApiToken, Installation, Institution, Person, Place, SigningKey, Site


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin[Institution]):
    list_display = ("code", "name", "kind", "city", "country")
    search_fields = ("code", "name")
    list_filter = ("kind",)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = ("code", "name", "institution", "kind", "city", "open_to_public", "capacity")
    list_filter = ("institution", "kind", "open_to_public")
    search_fields = ("code", "name", "city")


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin[Place]):
    list_display = ("code", "name", "kind", "site", "path", "barcode", "load_limit_kg", "active")
    list_filter = ("institution", "site", "kind", "active")
    search_fields = ("code", "name", "barcode", "path")
    raw_id_fields = ("parent",)
    readonly_fields = ("path",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ("__str__", "institution", "job_title", "home_site", "line_manager")
    list_filter = ("institution",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    raw_id_fields = ("user", "line_manager")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("label", "prefix", "user", "created_at", "last_used_at", "expires_at", "revoked_at")
    search_fields = ("label", "prefix", "user__username")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are issued by 'cimaise token create' or the tokens page: shown once


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin[SigningKey]):
    list_display = ("kid", "institution", "purpose", "created_at", "retired_at")
    list_filter = ("institution", "purpose")
    readonly_fields = ("kid", "public_key", "created_at")


admin.site.register(Installation)
