from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from insights.scores.models import AIScore, ModelVersion
from insights.scores.services import model_promote, model_rollback


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "trained_at",
        "data_start",
        "data_end",
        "tickers",
        "rank_ic",
        "baseline_rank_ic",
        "promoted",
        "is_demo",
    )
    list_filter = ("promoted", "is_demo")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote", "roll_back"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from retrain_model only

    @admin.action(description="Promote the selected version (it will score from now on)")
    def promote(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        version = model_promote(version=queryset.get())
        self.message_user(request, f"{version} is now the promoted model.", messages.SUCCESS)

    @admin.action(description="Roll back to the previously promoted version")
    def roll_back(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        version = model_rollback()
        if version is None:
            self.message_user(
                request, "No earlier promoted version to roll back to.", messages.ERROR
            )
            return
        self.message_user(request, f"Rolled back: {version} is promoted again.", messages.SUCCESS)


@admin.register(AIScore)
class AIScoreAdmin(admin.ModelAdmin):
    list_display = (
        "ticker",
        "date",
        "score",
        "label",
        "predicted_excess_return",
        "model_version",
        "revision",
        "is_current",
        "created_at",
    )
    list_filter = ("score", "is_demo", "is_current")
    search_fields = ("ticker__symbol",)
    date_hierarchy = "date"
    list_select_related = ("ticker", "model_version")
    readonly_fields = [f.name for f in AIScore._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
