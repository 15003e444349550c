from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from insights.scores.models import AIScore, ModelVersion
from insights.scores.services import model_promote, model_rollback
from qunex.templatetags import numbers


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    # Short columns so the list fits 1280 px beside the admin's sidebar.
    list_display = (
        "id",
        "trained",
        "window",
        "rank_ic_4",
        "baseline_rank_ic_4",
        "promoted",
        "is_demo",
    )
    list_filter = ("promoted", "is_demo")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote", "roll_back"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from retrain_model only

    @admin.display(description="Trained", ordering="trained_at")
    def trained(self, version: ModelVersion) -> str:
        return timezone.localtime(version.trained_at).strftime("%Y-%m-%d")

    @admin.display(description="Data until", ordering="data_end")
    def window(self, version: ModelVersion) -> str:
        """The last labelled session; the whole window (and the universe) on the version's page."""
        return format_html(
            '<span title="{} \u2013 {}, {} tickers">{}</span>',
            f"{version.data_start:%Y-%m-%d}",
            f"{version.data_end:%Y-%m-%d}",
            version.tickers,
            f"{version.data_end:%Y-%m-%d}",
        )

    @admin.display(description="Rank IC")
    def rank_ic_4(self, version: ModelVersion) -> str:
        return numbers.number(version.rank_ic, 4)

    @admin.display(description="Baseline IC")
    def baseline_rank_ic_4(self, version: ModelVersion) -> str:
        return numbers.number(version.baseline_rank_ic, 4)

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
