from __future__ import annotations

from django.contrib import admin

from insights.calendar.models import EconomicEvent


@admin.register(EconomicEvent)
class EconomicEventAdmin(admin.ModelAdmin):
    list_display = (
        "scheduled_at",
        "name",
        "country",
        "importance",
        "actual",
        "forecast",
        "previous",
        "unit",
        "source",
    )
    list_filter = ("source", "importance", "country", "all_day")
    search_fields = ("name", "source_key", "period")
    date_hierarchy = "scheduled_at"
    readonly_fields = ("first_seen_at", "updated_at")
    show_full_result_count = False
