"""Insider-trade API: the latest Form 4 transactions with the page's filters, and cluster buys."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.insiders import selectors
from insights.insiders.models import TRANSACTION_CODES, InsiderTransaction
from portfolios.selectors import watchlist_symbols_for
from qunex import params
from qunex.filters import StrictQuerySerializer


class TradeQuerySerializer(StrictQuerySerializer):
    ticker = serializers.RegexField(r"^[A-Za-z0-9.\-]{1,12}$", required=False)
    code = serializers.ChoiceField(choices=sorted(TRANSACTION_CODES), required=False)
    role = serializers.ChoiceField(choices=sorted(selectors.ROLES), required=False)
    min_value = params.ApiDecimal(min_value=0)
    buys_only = serializers.BooleanField(required=False, default=False)
    watchlists = serializers.BooleanField(
        required=False, default=False, help_text="Only stocks on your watchlists."
    )
    since = params.ApiDate(help_text="Trades on or after this date.")


class FilingSerializer(serializers.Serializer):
    accession = serializers.CharField()
    form = serializers.CharField()
    filed_on = serializers.DateField()
    issuer_cik = serializers.CharField()
    issuer_name = serializers.CharField()
    issuer_symbol = serializers.CharField()
    insider_cik = serializers.CharField()
    insider_name = serializers.CharField()
    relationship = serializers.CharField()
    is_director = serializers.BooleanField()
    is_officer = serializers.BooleanField()
    officer_title = serializers.CharField()
    is_ten_percent_owner = serializers.BooleanField()
    rule_10b5_1 = serializers.BooleanField(allow_null=True)
    url = serializers.CharField()


class TradeSerializer(serializers.ModelSerializer):
    filing = FilingSerializer(read_only=True)
    code_meaning = serializers.CharField(read_only=True)
    is_derivative = serializers.BooleanField(read_only=True)
    large_buy = serializers.SerializerMethodField()

    class Meta:
        model = InsiderTransaction
        fields = [
            "id",
            "filing",
            "trade_date",
            "code",
            "code_meaning",
            "acquired",
            "shares",
            "price",
            "value",
            "shares_after",
            "direct",
            "ownership_nature",
            "security_title",
            "is_derivative",
            "underlying_title",
            "underlying_shares",
            "exercise_price",
            "footnotes",
            "large_buy",
        ]

    def get_large_buy(self, obj: InsiderTransaction) -> bool:
        return selectors.is_large_buy(obj)


@extend_schema(
    parameters=[TradeQuerySerializer],
    responses={
        200: TradeSerializer(many=True),
        400: OpenApiResponse(description="A filter value is invalid; the body names it."),
    },
)
class TradeListView(generics.ListAPIView):
    """Insider transactions from Form 4 filings, newest filing first."""

    serializer_class = TradeSerializer

    def get_queryset(self):
        query = TradeQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        p = query.validated_data
        symbols = [p["ticker"].upper()] if p.get("ticker") else None
        if p.get("watchlists"):
            mine = watchlist_symbols_for(user=self.request.user)
            symbols = [s for s in symbols if s in mine] if symbols is not None else mine
        return selectors.trades_list(
            symbols=symbols,
            code=p.get("code"),
            role=p.get("role"),
            min_value=p.get("min_value"),
            buys_only=p["buys_only"],
            since=p.get("since"),
        )


class ClusterQuerySerializer(StrictQuerySerializer):
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        default=90,
        help_text="Look back this many days (90).",
    )


class ClusterSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    issuer_name = serializers.CharField()
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    insiders = serializers.ListField(child=serializers.CharField())
    trades = serializers.IntegerField()
    total_value = serializers.DecimalField(max_digits=22, decimal_places=2)


class ClusterListView(APIView):
    """Cluster buys: windows in which several different insiders bought the same stock."""

    @extend_schema(
        parameters=[ClusterQuerySerializer],
        responses={
            200: ClusterSerializer(many=True),
            400: OpenApiResponse(description="`days` is invalid."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ClusterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = timezone.now().date() - timedelta(days=query.validated_data["days"])
        return Response(ClusterSerializer(selectors.cluster_buys(since=since), many=True).data)
