"""AI-score API: the latest scores (filter, order), one ticker's score history, and the model
versions with their out-of-sample metrics. Thin: validate the query, select, serialise."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound

from insights.scores import selectors
from insights.scores.models import AIScore, ModelVersion
from markets.models import Ticker
from qunex import params
from qunex.filters import StrictQuerySerializer


class ScoreQuerySerializer(StrictQuerySerializer):
    sector = serializers.CharField(required=False, max_length=params.TEXT_MAX)
    min_score = params.ApiInteger(min_value=1, max_value=10)
    ordering = serializers.ChoiceField(
        required=False, choices=sorted(selectors.ORDERS), default="-score"
    )


class ContributionSerializer(serializers.Serializer):
    feature = serializers.CharField()
    name = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    contribution = serializers.FloatField(
        help_text="Push on the forecast against the day's average stock (fraction: 0.01 is "
        "one percentage point of forecast 20-session excess return over SPY)."
    )
    words = serializers.CharField()


# What a stored score says about its day, in the list and in a stock's history alike.
SCORE_FIELDS = [
    "date",
    "score",
    "label",
    "predicted_excess_return",
    "baseline",
    "contributions",
    "market_context",
    "model_version",
    "revision",
    "is_demo",
]


class ScoreSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="ticker.symbol", read_only=True)
    name = serializers.CharField(source="ticker.name", read_only=True)
    sector = serializers.CharField(source="ticker.sector", read_only=True)
    model_version = serializers.IntegerField(source="model_version_id", read_only=True)
    contributions = ContributionSerializer(many=True, read_only=True)
    market_context = ContributionSerializer(many=True, read_only=True)

    class Meta:
        model = AIScore
        fields = ["symbol", "name", "sector", *SCORE_FIELDS]


class HistoryPointSerializer(serializers.ModelSerializer):
    model_version = serializers.IntegerField(source="model_version_id", read_only=True)
    contributions = ContributionSerializer(many=True, read_only=True)
    market_context = ContributionSerializer(many=True, read_only=True)

    class Meta:
        model = AIScore
        fields = SCORE_FIELDS


class MetricsSerializer(serializers.Serializer):
    rank_ic_mean = serializers.FloatField(allow_null=True)
    rank_ic_tstat = serializers.FloatField(allow_null=True)
    rank_ic_mean_all_days = serializers.FloatField(allow_null=True, required=False)
    hit_rate = serializers.FloatField(allow_null=True)
    decile_spread = serializers.FloatField(allow_null=True)
    test_days = serializers.IntegerField()
    independent_days = serializers.IntegerField()


class ModelVersionSerializer(serializers.ModelSerializer):
    metrics = MetricsSerializer()
    baseline_metrics = MetricsSerializer()
    test_start = serializers.CharField(read_only=True, allow_null=True)
    test_end = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "trained_at",
            "data_start",
            "data_end",
            "last_bar",
            "test_start",
            "test_end",
            "tickers",
            "rows",
            "features",
            "hyperparameters",
            "fingerprint",
            "metrics",
            "baseline_metrics",
            "comparison",
            "folds",
            "promoted",
            "promoted_at",
            "retired_at",
            "is_demo",
            "note",
        ]


BAD_REQUEST = OpenApiResponse(description="A query parameter is invalid; the body names it.")
NO_PAGE = OpenApiResponse(description="No such page.")


@extend_schema(
    description="The latest session's AI scores (1-10, from the day's cross-sectional rank of "
    "the forecast 20-session excess return), each with its label, forecast and the feature "
    "contributions (largest first) that add up to forecast minus baseline. Filter by "
    "`sector` and `min_score`; `ordering` one of " + ", ".join(sorted(selectors.ORDERS)) + ".",
    parameters=[
        OpenApiParameter(
            "sector",
            {"type": "string", "maxLength": params.TEXT_MAX},
            description="Exact sector name; one with control characters matches nothing.",
        ),
        OpenApiParameter(
            "min_score", {"type": "integer", "minimum": 1, "maximum": 10}, description="1-10."
        ),
        OpenApiParameter("ordering", OpenApiTypes.STR, enum=sorted(selectors.ORDERS)),
    ],
    responses={200: ScoreSerializer(many=True), 400: BAD_REQUEST, 404: NO_PAGE},
)
class LatestScoresView(generics.ListAPIView):
    serializer_class = ScoreSerializer
    filter_backends: list = []

    def get_queryset(self):
        query = ScoreQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        # Control characters never get here (qunex.middleware answers them with a 400).
        return selectors.latest_scores(
            sector=data.get("sector", ""),
            min_score=data.get("min_score"),
            order=data.get("ordering", "-score"),
        )


@extend_schema(
    description="One ticker's current scores, newest first, each with its forecast, the day's "
    "average forecast (`baseline`), the stock's feature contributions (percentage points as "
    "fractions, adding up to forecast minus baseline) and the market context of that day.",
    parameters=[
        OpenApiParameter(
            "symbol", OpenApiTypes.STR, OpenApiParameter.PATH, description="Ticker symbol."
        )
    ],
    responses={
        200: HistoryPointSerializer(many=True),
        400: BAD_REQUEST,
        404: OpenApiResponse(description="Unknown symbol, or no such page."),
    },
)
class ScoreHistoryView(generics.ListAPIView):
    serializer_class = HistoryPointSerializer
    filter_backends: list = []

    def get_queryset(self):
        symbol = self.kwargs["symbol"].upper()[:20]
        ticker = Ticker.objects.filter(symbol=symbol).only("id").first()
        if ticker is None:
            raise NotFound(f"Unknown symbol {symbol!r}: it is not in the Qunex universe.")
        return AIScore.objects.current().filter(ticker=ticker).order_by("-date")


@extend_schema(
    description="Every trained model version, newest first: data window, last bar used, test "
    "window and walk-forward folds, features, hyperparameters, data fingerprint, out-of-sample "
    "metrics next to the momentum baseline's on the same test days, the promotion comparison "
    "(baseline and incumbent on the same days), and whether it is the promoted model.",
    responses={200: ModelVersionSerializer(many=True), 400: BAD_REQUEST, 404: NO_PAGE},
)
class ModelVersionListView(generics.ListAPIView):
    serializer_class = ModelVersionSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.model_versions()


@extend_schema(
    description="One model version by id.",
    responses={
        200: ModelVersionSerializer,
        404: OpenApiResponse(description="No such model version."),
    },
)
class ModelVersionDetailView(generics.RetrieveAPIView):
    serializer_class = ModelVersionSerializer

    def get_queryset(self):
        return selectors.model_versions()
