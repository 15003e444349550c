from __future__ import annotations

from django.contrib import admin

from portfolios.models import (
    AlertFiring,
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)


class TransactionInline(admin.TabularInline):
    model = Transaction
    extra = 0
    raw_id_fields = ["ticker"]
    fields = ["trade_date", "type", "ticker", "quantity", "price", "fees", "amount", "notes"]
    show_change_link = True


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "benchmark", "track_cash", "created"]
    list_filter = ["track_cash", "created"]
    search_fields = ["name", "owner__email", "owner__username"]
    raw_id_fields = ["owner", "benchmark"]
    date_hierarchy = "created"
    inlines = [TransactionInline]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "trade_date",
        "type",
        "ticker",
        "quantity",
        "price",
        "fees",
        "amount",
        "portfolio",
    ]
    list_filter = ["type", "trade_date"]
    search_fields = ["ticker__symbol", "portfolio__name", "portfolio__owner__email", "notes"]
    raw_id_fields = ["portfolio", "ticker"]
    list_select_related = ["ticker", "portfolio"]
    date_hierarchy = "trade_date"


class WatchlistItemInline(admin.TabularInline):
    model = WatchlistItem
    extra = 0
    raw_id_fields = ["ticker"]


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created"]
    search_fields = ["name", "owner__email", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [WatchlistItemInline]


@admin.register(WatchlistItem)
class WatchlistItemAdmin(admin.ModelAdmin):
    list_display = ["ticker", "watchlist", "target_above", "target_below", "added"]
    search_fields = ["ticker__symbol", "watchlist__name", "watchlist__owner__email"]
    raw_id_fields = ["watchlist", "ticker"]
    list_select_related = ["ticker", "watchlist"]


class AlertFiringInline(admin.TabularInline):
    model = AlertFiring
    extra = 0
    readonly_fields = ["price", "fired_at"]
    can_delete = False


@admin.register(PriceAlert)
class PriceAlertAdmin(admin.ModelAdmin):
    list_display = ["ticker", "direction", "threshold", "armed", "fired_at", "owner", "created"]
    list_filter = ["armed", "direction"]
    search_fields = ["ticker__symbol", "owner__email", "owner__username"]
    raw_id_fields = ["owner", "ticker"]
    list_select_related = ["ticker", "owner"]
    inlines = [AlertFiringInline]


@admin.register(AlertFiring)
class AlertFiringAdmin(admin.ModelAdmin):
    list_display = ["alert", "price", "fired_at"]
    list_filter = ["fired_at"]
    search_fields = ["alert__ticker__symbol", "alert__owner__email"]
    raw_id_fields = ["alert"]
    list_select_related = ["alert__ticker"]
    date_hierarchy = "fired_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["text", "user", "read", "created"]
    list_filter = ["read", "created"]
    search_fields = ["text", "user__email", "user__username"]
    raw_id_fields = ["user"]
