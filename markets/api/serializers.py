"""Explicit-field serializers for the market-data API."""

from __future__ import annotations

from rest_framework import serializers

from markets.models import DailyBar, Quote, Ticker
from qunex import params


class QuoteSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="ticker.symbol", read_only=True)
    is_demo = serializers.BooleanField(source="ticker.is_demo", read_only=True)

    class Meta:
        model = Quote
        fields = ["symbol", "price", "change", "change_pct", "volume", "as_of", "source", "is_demo"]
        read_only_fields = fields


class TickerQuoteSerializer(serializers.ModelSerializer):
    """A ticker's quote, nested in the ticker (no symbol repeated)."""

    class Meta:
        model = Quote
        fields = ["price", "change", "change_pct", "volume", "as_of", "source"]
        read_only_fields = fields


class TickerSerializer(serializers.ModelSerializer):
    quote = TickerQuoteSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Ticker
        fields = [
            "symbol",
            "name",
            "exchange",
            "asset_type",
            "sector",
            "industry",
            "market_cap",
            "currency",
            "active",
            "is_demo",
            "quote",
        ]
        read_only_fields = fields


class BarSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyBar
        fields = ["date", "open", "high", "low", "close", "adj_close", "volume", "source"]
        read_only_fields = fields


class BarRangeSerializer(serializers.Serializer):
    """Query parameters of the bars endpoint."""

    start = params.ApiDate(help_text="First day to include (YYYY-MM-DD). Default: the first bar.")
    end = params.ApiDate(help_text="Last day to include (YYYY-MM-DD). Default: the latest bar.")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"end": [f"end ({end}) is before start ({start}); swap them."]}
            )
        return attrs


# --- the polled feed ----------------------------------------------------------------------


class FeedQuoteSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    price = serializers.DecimalField(max_digits=18, decimal_places=6)
    change = serializers.DecimalField(max_digits=18, decimal_places=6, allow_null=True)
    change_pct = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="Percent, not a fraction."
    )
    volume = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField(help_text="When the vendor priced it (UTC).")
    age_seconds = serializers.IntegerField(help_text="Seconds between as_of and server_time.")
    source = serializers.CharField(help_text="Vendor name, or 'demo' for synthetic data.")
    is_demo = serializers.BooleanField()


class MarketStatusSerializer(serializers.Serializer):
    is_open = serializers.BooleanField(help_text="NYSE regular session in progress.")
    next_open = serializers.DateTimeField()
    next_close = serializers.DateTimeField()


class FeedSerializer(serializers.Serializer):
    quotes = FeedQuoteSerializer(many=True, help_text="Known symbols with a stored quote.")
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="Asked-for symbols that Qunex does not list."
    )
    no_quote = serializers.ListField(
        child=serializers.CharField(), help_text="Listed symbols without a quote yet."
    )
    market = MarketStatusSerializer()
    server_time = serializers.DateTimeField()
    poll_seconds = serializers.IntegerField(
        help_text="How long a client should wait before polling again (longer while closed)."
    )


class FeedErrorSerializer(serializers.Serializer):
    """A 400 names the parameter: usually `symbols`; any other parameter (or `query`) when it
    holds a control character (qunex.middleware)."""

    symbols = serializers.ListField(child=serializers.CharField(), required=False)
    unknown = serializers.ListField(child=serializers.CharField(), required=False)
