from __future__ import annotations

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from markets.models import Ticker
from markets.prices import price_info
from portfolios.ledger import TxnType
from portfolios.models import (
    AlertFiring,
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)
from qunex import params


class OwnedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key to one of the requesting user's own objects (others: 'does not exist')."""

    def __init__(self, *, owner_path: str, **kwargs):
        self.owner_path = owner_path
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        if request is None or not request.user.is_authenticated:
            return queryset.none()
        return queryset.filter(**{self.owner_path: request.user})


class StrictCharField(serializers.CharField):
    """Text must arrive as a string: a number or a boolean is a 400, not silently "0"."""

    default_error_messages = {"not_a_string": "Send text (a JSON string)."}

    def __init__(self, **kwargs):
        # Length is checked on what was sent (as the schema's maxLength says); the services
        # strip and sanitise afterwards.
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class BenchmarkField(serializers.SlugRelatedField):
    """A ticker symbol or null; the empty string is an error, not "no benchmark"."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        # a form's empty field is not null
        blank = html.is_html_input(dictionary) and dictionary.get(self.field_name) == ""
        return "" if value is None and blank else value

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)


class PortfolioSerializer(StrictModelSerializer):
    benchmark = BenchmarkField(
        slug_field="symbol",
        queryset=Ticker.objects.all(),
        allow_null=True,
        required=False,
        help_text="Benchmark ticker symbol; SPY when left out, null for none.",
        error_messages={"blank": "Give a ticker symbol, or null for no benchmark."},
    )

    class Meta:
        model = Portfolio
        fields = ["id", "name", "benchmark", "track_cash", "created"]
        read_only_fields = ["id", "created"]
        validators = []  # uniqueness is checked by the service, on the `name` field


class TransactionSerializer(StrictModelSerializer):
    portfolio = OwnedPrimaryKeyField(owner_path="owner", queryset=Portfolio.objects.all())
    type = serializers.ChoiceField(choices=[t.value for t in TxnType])
    symbol = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=12,
        help_text="Ticker symbol: required for buy, sell, dividend and split.",
    )
    quantity = serializers.DecimalField(max_digits=24, decimal_places=8, required=False, default=0)
    price = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, default=0)
    fees = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, default=0)
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, default=0)
    notes = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "portfolio",
            "type",
            "symbol",
            "trade_date",
            "quantity",
            "price",
            "fees",
            "amount",
            "notes",
            "created",
        ]
        read_only_fields = ["id", "created"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["symbol"] = instance.symbol
        return data


class TransactionUpdateSerializer(TransactionSerializer):
    """Updates keep the transaction in its portfolio; fields left out keep their value."""

    portfolio = serializers.PrimaryKeyRelatedField(read_only=True)
    quantity = serializers.DecimalField(max_digits=24, decimal_places=8, required=False)
    price = serializers.DecimalField(max_digits=18, decimal_places=6, required=False)
    fees = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    notes = StrictCharField(required=False, allow_blank=True, max_length=2000)


class PortfolioHoldingSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    name = serializers.CharField()
    sector = serializers.CharField()
    is_demo = serializers.BooleanField()
    quantity = serializers.DecimalField(max_digits=30, decimal_places=8)
    average_cost = serializers.DecimalField(max_digits=30, decimal_places=6)
    cost_basis = serializers.DecimalField(max_digits=30, decimal_places=4)
    price = serializers.DecimalField(max_digits=30, decimal_places=6)
    price_source = serializers.ChoiceField(
        choices=["quote", "close", "trade"],
        help_text="quote: live quote; close: last daily close; trade: no market price, last trade price.",
    )
    previous_close = serializers.DecimalField(max_digits=30, decimal_places=6, allow_null=True)
    market_value = serializers.DecimalField(max_digits=30, decimal_places=4)
    unrealized = serializers.DecimalField(max_digits=30, decimal_places=4)
    unrealized_pct = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    day_change = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    day_change_pct = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    weight = serializers.FloatField(help_text="Share of the portfolio's value (0..1).")
    dividends = serializers.DecimalField(max_digits=30, decimal_places=4)


class PortfolioTotalsSerializer(serializers.Serializer):
    market_value = serializers.DecimalField(max_digits=30, decimal_places=4)
    cash = serializers.DecimalField(max_digits=30, decimal_places=4)
    total_value = serializers.DecimalField(max_digits=30, decimal_places=4)
    cost_basis = serializers.DecimalField(max_digits=30, decimal_places=4)
    unrealized = serializers.DecimalField(max_digits=30, decimal_places=4)
    realized = serializers.DecimalField(max_digits=30, decimal_places=4)
    dividends = serializers.DecimalField(max_digits=30, decimal_places=4)
    interest = serializers.DecimalField(max_digits=30, decimal_places=4)
    fees = serializers.DecimalField(max_digits=30, decimal_places=4)
    net_flows = serializers.DecimalField(max_digits=30, decimal_places=4)
    total_gain = serializers.DecimalField(max_digits=30, decimal_places=4)
    day_change = serializers.DecimalField(max_digits=30, decimal_places=4)


class PortfolioHoldingsSerializer(serializers.Serializer):
    portfolio = serializers.IntegerField()
    error = serializers.CharField(help_text="Set when the stored history cannot be replayed.")
    totals = PortfolioTotalsSerializer()
    holdings = PortfolioHoldingSerializer(many=True)
    realized_by_year = serializers.DictField(
        child=serializers.DecimalField(max_digits=30, decimal_places=4)
    )


class PortfolioPeriodReturnSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["1M", "3M", "YTD", "1Y", "Max", "Range"])
    start = serializers.DateField(allow_null=True, help_text="Opening close; null: inception.")
    end = serializers.DateField()
    days = serializers.IntegerField(help_text="Calendar days measured.")
    annualised = serializers.BooleanField(
        help_text="True when the period is a year or longer: the page shows per-year figures "
        "(twr_annualised, xirr); under a year it shows twr and mwr, unannualised."
    )
    twr = serializers.FloatField(allow_null=True, help_text="Time-weighted return, cumulative.")
    twr_annualised = serializers.FloatField(allow_null=True, help_text="TWR per year.")
    xirr = serializers.FloatField(allow_null=True, help_text="Money-weighted return per year.")
    mwr = serializers.FloatField(
        allow_null=True, help_text="Money-weighted return over the period, cumulative."
    )
    benchmark_twr = serializers.FloatField(allow_null=True)
    benchmark_xirr = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField()


class PortfolioDrawdownSerializer(serializers.Serializer):
    depth = serializers.FloatField()
    peak = serializers.DateField()
    trough = serializers.DateField()
    recovered = serializers.DateField(allow_null=True)


class PerformancePointSerializer(serializers.Serializer):
    time = serializers.DateField()
    value = serializers.FloatField()


class PortfolioPerformanceSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True, help_text="Last close in the window.")
    start = serializers.DateField(allow_null=True, help_text="The `start` asked for.")
    end = serializers.DateField(allow_null=True, help_text="The `end` asked for.")
    note = serializers.CharField()
    benchmark = serializers.CharField(allow_null=True)
    window = PortfolioPeriodReturnSerializer(
        allow_null=True, help_text="TWR, XIRR and benchmark from `start` to `end`."
    )
    returns = PortfolioPeriodReturnSerializer(
        many=True, help_text="The standard periods, measured to `as_of`."
    )
    max_drawdown = PortfolioDrawdownSerializer(allow_null=True)
    allocation_by_holding = serializers.DictField(child=serializers.FloatField())
    allocation_by_sector = serializers.DictField(child=serializers.FloatField())
    series = PerformancePointSerializer(many=True)
    benchmark_series = PerformancePointSerializer(many=True)


class PerformanceQuerySerializer(serializers.Serializer):
    """`?start=&end=` of the performance API and page: ISO dates, start not after end."""

    start = params.ApiDate(help_text="Window start (ISO date).")
    end = params.ApiDate(help_text="Window end (ISO date).")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": "start must be on or before end."})
        return attrs


class RealizedRowSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    acquired = serializers.DateField()
    sold = serializers.DateField()
    holding_days = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=30, decimal_places=8)
    proceeds = serializers.DecimalField(max_digits=30, decimal_places=4)
    cost = serializers.DecimalField(max_digits=30, decimal_places=4)
    gain = serializers.DecimalField(max_digits=30, decimal_places=4)
    term = serializers.ChoiceField(choices=["short", "long"])


class RealizedTotalsSerializer(serializers.Serializer):
    proceeds = serializers.DecimalField(max_digits=30, decimal_places=4)
    cost = serializers.DecimalField(max_digits=30, decimal_places=4)
    gain = serializers.DecimalField(max_digits=30, decimal_places=4)
    short_term = serializers.DecimalField(max_digits=30, decimal_places=4)
    long_term = serializers.DecimalField(max_digits=30, decimal_places=4)


class RealizedYearSerializer(RealizedTotalsSerializer):
    year = serializers.IntegerField()
    rows = RealizedRowSerializer(many=True)


class PortfolioRealizedSerializer(serializers.Serializer):
    portfolio = serializers.IntegerField()
    error = serializers.CharField(help_text="Set when the stored history cannot be replayed.")
    method = serializers.CharField(help_text="How sales are matched to lots.")
    term_rule = serializers.CharField(help_text="How short and long term are told apart.")
    totals = RealizedTotalsSerializer()
    years = RealizedYearSerializer(many=True, help_text="Newest year first.")


class WatchlistSerializer(StrictModelSerializer):
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Watchlist
        fields = ["id", "name", "item_count", "created"]
        read_only_fields = ["id", "created"]
        validators = []


class WatchlistQuoteSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=30, decimal_places=6, allow_null=True)
    previous_close = serializers.DecimalField(max_digits=30, decimal_places=6, allow_null=True)
    day_change_pct = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    source = serializers.CharField()


class WatchlistItemSerializer(StrictModelSerializer):
    watchlist = OwnedPrimaryKeyField(owner_path="owner", queryset=Watchlist.objects.all())
    symbol = StrictCharField(max_length=12)
    quote = serializers.SerializerMethodField()

    class Meta:
        model = WatchlistItem
        fields = [
            "id",
            "watchlist",
            "symbol",
            "note",
            "target_above",
            "target_below",
            "quote",
            "added",
        ]
        read_only_fields = ["id", "added"]
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["symbol"] = instance.ticker.symbol
        return data

    @extend_schema_field(WatchlistQuoteSerializer(allow_null=True))
    def get_quote(self, instance) -> dict | None:
        if not hasattr(instance, "last_close"):
            return None
        info = price_info(instance.ticker, instance)
        quote = {
            "price": info.price,
            "previous_close": info.previous_close,
            "day_change_pct": info.day_change_pct,
            "source": info.source,
        }
        return WatchlistQuoteSerializer(quote).data  # decimals as strings, as documented


class WatchlistItemUpdateSerializer(WatchlistItemSerializer):
    watchlist = serializers.PrimaryKeyRelatedField(read_only=True)
    symbol = serializers.CharField(read_only=True)


class AlertFiringSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertFiring
        fields = ["price", "fired_at"]


class PriceAlertSerializer(StrictModelSerializer):
    symbol = StrictCharField(max_length=12)
    firings = AlertFiringSerializer(many=True, read_only=True)

    class Meta:
        model = PriceAlert
        fields = [
            "id",
            "symbol",
            "direction",
            "threshold",
            "armed",
            "fired_at",
            "created",
            "firings",
        ]
        read_only_fields = ["id", "armed", "fired_at", "created", "firings"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["symbol"] = instance.ticker.symbol
        return data


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "text", "url", "created", "read"]
        read_only_fields = fields
