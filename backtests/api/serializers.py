"""Explicit-field serializers for the backtests API. Rates are fractions (0.001 = 0.1 %)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS
from django.urls import reverse
from rest_framework import serializers
from rest_framework.settings import api_settings

from backtests.models import Backtest


class BacktestCreateSerializer(serializers.Serializer):
    """Parses types only; `services.backtest_enqueue` checks every rule and names the field."""

    ticker = serializers.CharField(
        max_length=12, help_text="Symbol with stored daily bars, e.g. SPY."
    )
    start = serializers.DateField()
    end = serializers.DateField()
    strategy = serializers.CharField(
        max_length=40, help_text="A name from /api/backtests/strategies/."
    )
    params = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        default=dict,
        help_text="Strategy parameters by name; missing ones take their defaults.",
    )
    cash = serializers.DecimalField(max_digits=16, decimal_places=2, default=Decimal("10000"))
    commission = serializers.DecimalField(
        max_digits=8,
        decimal_places=6,
        default=Decimal(0),
        help_text="Fraction of traded value per order.",
    )
    commission_fixed = serializers.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal(0), help_text="Cash per order."
    )
    spread = serializers.DecimalField(
        max_digits=8,
        decimal_places=6,
        default=Decimal(0),
        help_text="Slippage / spread, fraction of the entry price.",
    )
    long_short = serializers.BooleanField(default=False)
    stop_loss = serializers.DecimalField(
        max_digits=8, decimal_places=6, required=False, allow_null=True, default=None
    )
    take_profit = serializers.DecimalField(
        max_digits=8, decimal_places=6, required=False, allow_null=True, default=None
    )
    close_at_end = serializers.BooleanField(
        default=False,
        help_text="Close a trade still open at the end (at the last bar's open) and count it in "
        "the statistics (backtesting.py's finalize_trades=True). Default: report it as open_trade.",
    )
    sweep = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(), allow_empty=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Parameter grid {name: [values]}: every combination is run.",
    )
    walk_forward = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        required=False,
        allow_null=True,
        default=None,
        help_text="With a sweep: in-sample share (0.5-0.9) for a walk-forward split.",
    )


def nest_errors(message_dict: dict[str, list[str]]) -> dict:
    """{'params.fast': [...], '__all__': [...]} -> {'params': {'fast': [...]}, 'non_field_errors': [...]}"""
    nested: dict = {}
    for key, messages in message_dict.items():
        if key == NON_FIELD_ERRORS:
            nested.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(messages)
            continue
        field, _, sub = key.partition(".")
        if sub:
            target = nested.setdefault(field, {})
            if isinstance(target, list):  # the field has its own errors too
                target = nested[field] = {api_settings.NON_FIELD_ERRORS_KEY: target}
            target.setdefault(sub, []).extend(messages)
        elif isinstance(nested.get(field), dict):
            nested[field].setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(messages)
        else:
            nested.setdefault(field, []).extend(messages)
    return nested


class BacktestSerializer(serializers.ModelSerializer):
    ticker = serializers.CharField(source="ticker.symbol", read_only=True)
    strategy_label = serializers.CharField(read_only=True)
    return_pct = serializers.FloatField(
        source="headline_return",
        read_only=True,
        allow_null=True,
        help_text="Return [%] once succeeded (best run of a sweep).",
    )

    result_url = serializers.SerializerMethodField(
        help_text="Where to read the result once the backtest has succeeded; null before."
    )

    class Meta:
        model = Backtest
        fields = [
            "id",
            "ticker",
            "start",
            "end",
            "strategy",
            "strategy_label",
            "params",
            "cash",
            "commission",
            "commission_fixed",
            "spread",
            "long_short",
            "stop_loss",
            "take_profit",
            "close_at_end",
            "sweep",
            "walk_forward",
            "status",
            "attempts",
            "max_attempts",
            "error",
            "queued_at",
            "started_at",
            "finished_at",
            "created_at",
            "rerun_of",
            "return_pct",
            "bars_fingerprint",
            "engine_version",
            "result_url",
        ]
        read_only_fields = fields

    def get_result_url(self, obj: Backtest) -> str | None:
        if obj.status != Backtest.Status.SUCCEEDED:
            return None
        return reverse("backtest-result", args=[obj.pk])


class BacktestResultSerializer(serializers.ModelSerializer):
    result = serializers.JSONField(
        read_only=True,
        help_text="kind 'single': stats, series (dates, equity, drawdown, buy_hold), trades, open_trade. "
        "kind 'sweep': grid, rows (params + stats per combination), best_params, best_run, walk_forward.",
    )

    class Meta:
        model = Backtest
        fields = ["id", "status", "engine_version", "bars_fingerprint", "finished_at", "result"]
        read_only_fields = fields


class StrategyParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text='"int" or "float".')
    min = serializers.FloatField()
    max = serializers.FloatField()
    default = serializers.FloatField()
    help = serializers.CharField()


class StrategySerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    params = StrategyParamSerializer(many=True)
