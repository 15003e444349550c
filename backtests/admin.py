from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from backtests.models import Backtest
from backtests.services import backtest_cancel, backtest_requeue


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "ticker",
        "strategy",
        "start",
        "end",
        "status",
        "attempts",
        "queued_at",
        "finished_at",
    )
    list_filter = ("status", "strategy", "long_short")
    search_fields = ("ticker__symbol", "owner__email", "owner__username", "claimed_by", "error")
    list_select_related = ("owner", "ticker")
    date_hierarchy = "queued_at"
    ordering = ("-queued_at",)
    actions = ("requeue", "cancel")
    raw_id_fields = ("owner", "ticker", "rerun_of")
    readonly_fields = (
        "status", "attempts", "claimed_by", "lease_expires_at", "heartbeat_at", "queued_at",
        "available_at", "started_at", "finished_at", "error", "bars_fingerprint",
        "engine_version", "result", "created_at",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # backtests are queued through the form or the API (validated)

    @admin.action(description="Requeue selected backtests (fresh attempts)")
    def requeue(self, request, queryset) -> None:
        self._each(request, queryset, backtest_requeue, "requeued")

    @admin.action(description="Cancel selected backtests")
    def cancel(self, request, queryset) -> None:
        self._each(request, queryset, backtest_cancel, "cancelled")

    def _each(self, request, queryset, service, verb: str) -> None:
        done, refused = 0, []
        for backtest in queryset:
            try:
                service(backtest=backtest)
                done += 1
            except ValidationError as exc:
                refused.append(f"#{backtest.pk}: {' '.join(exc.messages)}")
        if done:
            self.message_user(request, f"{done} backtest(s) {verb}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)
