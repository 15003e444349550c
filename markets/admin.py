from __future__ import annotations

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from markets.models import CorporateAction, DailyBar, Quote, Ticker
from markets.refresh import market_data_refresh


@admin.register(Ticker)
class TickerAdmin(admin.ModelAdmin):
    list_display = (
        "symbol",
        "name",
        "asset_type",
        "exchange",
        "sector",
        "market_cap",
        "active",
        "is_demo",
        "bars_unavailable_since",
        "updated_at",
        "bars_link",
    )
    list_filter = ("sector", "asset_type", "active", "is_demo", "exchange", "bars_refetch")
    search_fields = ("symbol", "name")
    readonly_fields = ("updated_at",)
    actions = ("refresh_selected",)

    @admin.display(description="Bars")
    def bars_link(self, ticker: Ticker) -> str:
        url = reverse("admin:markets_dailybar_changelist")
        return format_html('<a href="{}?ticker={}">daily bars</a>', url, ticker.pk)

    @admin.action(description="Refresh prices and quotes of the selected tickers from the vendors")
    def refresh_selected(self, request: HttpRequest, queryset: QuerySet[Ticker]) -> None:
        report = market_data_refresh(  # a page request never waits on a vendor budget
            symbols=list(queryset.values_list("symbol", flat=True)), time_budget=None
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing to do"
        if report.fatal:
            self.message_user(request, f"Refresh failed: {report.fatal}", messages.ERROR)
            return
        level = messages.WARNING if report.failures else messages.SUCCESS
        self.message_user(request, f"Refreshed {queryset.count()} ticker(s): {counts}.", level)
        for symbol, reason in sorted(report.failures.items()):
            self.message_user(request, f"{symbol}: {reason}", messages.WARNING)


class LargeTablePaginator(Paginator):
    """Unfiltered, a table of millions of rows is not counted: the span of its ids (two
    index lookups) stands in for count(*), which scans the table. Filtered lists are
    counted exactly, and so are tables smaller than `exact_below`."""

    exact_below = 50_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            span = queryset.model._default_manager.aggregate(first=Min("pk"), last=Max("pk"))
            if span["last"] is not None and span["last"] - span["first"] + 1 >= self.exact_below:
                return span["last"] - span["first"] + 1
        return super().count


@admin.register(DailyBar)
class DailyBarAdmin(admin.ModelAdmin):
    list_display = (
        "ticker",
        "date",
        "open",
        "high",
        "low",
        "close",
        "adj_close",
        "volume",
        "source",
    )
    # By ticker: search the exact symbol, or ?ticker=<id> (the "daily bars" link on each
    # ticker); a sidebar listing every ticker, or every distinct ticker of a million bars,
    # would cost more than the page.
    # No sidebar filter and no date hierarchy: each is a DISTINCT scan of the whole table
    # on every page. Newest stored first by primary key (an index walk), not by date (a
    # sort of every bar); the column headers still sort.
    list_select_related = ("ticker",)
    raw_id_fields = ("ticker",)
    search_fields = ("=ticker__symbol",)
    search_help_text = "Exact symbol, e.g. AAPL"
    ordering = ("-pk",)
    show_full_result_count = False  # a count(*) over millions of bars on every page is slow
    paginator = LargeTablePaginator
    list_per_page = 100


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ("ticker", "price", "change", "change_pct", "volume", "as_of", "source")
    list_filter = ("source",)
    list_select_related = ("ticker",)
    autocomplete_fields = ("ticker",)
    search_fields = ("ticker__symbol", "ticker__name")
    readonly_fields = ("updated_at",)


@admin.register(CorporateAction)
class CorporateActionAdmin(admin.ModelAdmin):
    list_display = (
        "ticker",
        "kind",
        "ex_date",
        "ratio_from",
        "ratio_to",
        "amount",
        "pay_date",
        "source",
    )
    list_filter = ("kind", "source")
    list_select_related = ("ticker",)
    autocomplete_fields = ("ticker",)
    search_fields = ("ticker__symbol",)
    date_hierarchy = "ex_date"
