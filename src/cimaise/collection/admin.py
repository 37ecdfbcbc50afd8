from django.contrib import admin

from cimaise.collection.models import Work


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin[Work]):
    list_display = ("inventory", "title", "department", "artist", "fragility", "normal_place", "barcode")
    list_filter = ("institution", "department", "fragility")
    search_fields = ("inventory", "title", "artist", "barcode")
    raw_id_fields = ("normal_place",)
    show_full_result_count = False
