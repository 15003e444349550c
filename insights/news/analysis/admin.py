"""Admin for analyses: token usage and cost totals for the filtered list, and re-analysis."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest

from insights.news.models import ArticleAnalysis, TickerSentiment

REANALYSE_MAX = 10


class TickerSentimentInline(admin.TabularInline):
    model = TickerSentiment
    extra = 0
    fields = ("ticker", "sentiment", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def run_reanalysis(modeladmin: admin.ModelAdmin, request: HttpRequest, article_ids: list[int]):
    """Re-analyse up to REANALYSE_MAX articles now and report the result as a message."""
    if len(article_ids) > REANALYSE_MAX:
        modeladmin.message_user(
            request,
            f"Select at most {REANALYSE_MAX} articles to re-analyse at once "
            f"({len(article_ids)} selected); use `manage.py analyze_news --reanalyse` for more.",
            messages.ERROR,
        )
        return
    # The analysis (and the anthropic SDK) loads only when staff use it, not in every worker.
    from insights.news.analysis.services import news_analyse

    result = news_analyse(article_ids=article_ids, reanalyse=True)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
    level = messages.SUCCESS
    if result.failed or result.aborted or result.cap_reached:
        level = messages.WARNING
    skipped = len(article_ids) - result.selected
    extra = (
        f"; {skipped} not eligible (an AI analysis is never replaced offline)" if skipped else ""
    )
    modeladmin.message_user(request, f"Re-analysis: {counts}; {result.note()}{extra}.", level)


@admin.register(ArticleAnalysis)
class ArticleAnalysisAdmin(admin.ModelAdmin):
    change_list_template = "admin/insights/articleanalysis/change_list.html"
    list_display = (
        "article",
        "kind",
        "status",
        "label",
        "sentiment",
        "impact",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cost_usd",
        "attempts",
        "analysed_at",
    )
    list_filter = ("kind", "status", "label", "model", "prompt_version", "analysed_at")
    search_fields = ("article__title", "failure_reason")
    list_select_related = ("article",)
    date_hierarchy = "analysed_at"
    inlines = [TickerSentimentInline]
    actions = ["reanalyse_selected"]
    readonly_fields = [f.name for f in ArticleAnalysis._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-analyse selected articles now (at most 10)")
    def reanalyse_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_reanalysis(self, request, list(queryset.values_list("article_id", flat=True)))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["analysis_totals"] = (
                context["cl"]
                .queryset.order_by()
                .aggregate(
                    count=Count("id"),
                    input_tokens=Sum("input_tokens", default=0),
                    output_tokens=Sum("output_tokens", default=0),
                    cache_read_tokens=Sum("cache_read_tokens", default=0),
                    cache_write_tokens=Sum("cache_write_tokens", default=0),
                    cost_usd=Sum("cost_usd", default=0),
                )
            )
        return response
