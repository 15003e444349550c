"""News API: `/api/news/` (list, filters) and `/api/news/<id>/` with the nested analysis."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError

from insights.news import selectors
from insights.news.serializers import ArticleSerializer
from qunex.filters import StrictPageNumberPagination

BAD_REQUEST = OpenApiResponse(description="A filter or page value is invalid; the body names it.")
FILTER_PARAMS = [
    OpenApiParameter(
        "ticker",
        {"type": "string", "pattern": r"^[A-Za-z0-9.\-]{1,12}$"},
        description="Only articles linked to this symbol.",
    ),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Published on or after (YYYY-MM-DD)."),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description="Published on or before (YYYY-MM-DD)."
    ),
    OpenApiParameter(
        "sentiment",
        OpenApiTypes.STR,
        enum=[c[0] for c in selectors.SENTIMENT_CHOICES],
        description="bullish (> 0.15), bearish (< -0.15), or an exact label.",
    ),
    OpenApiParameter(
        "sentiment_min",
        {"type": "number", "minimum": -1, "maximum": 1},
        description="Analysed sentiment >= (-1..1).",
    ),
    OpenApiParameter(
        "sentiment_max",
        {"type": "number", "minimum": -1, "maximum": 1},
        description="Analysed sentiment <= (-1..1).",
    ),
    OpenApiParameter(
        "impact", OpenApiTypes.INT, enum=[1, 2, 3, 4, 5], description="Impact at least."
    ),
    OpenApiParameter(
        "source",
        {"type": "string", "pattern": r"^[A-Za-z0-9:._\-]{1,40}$"},
        description="Source, e.g. polygon or rss:fed.",
    ),
]


class NewsPagination(StrictPageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _filters(request):
    f = selectors.parse_filters(request.query_params, user=None, strict=True)
    if f.errors:
        raise ValidationError({name: [message] for name, message in f.errors.items()})
    return f


@extend_schema(
    description="News articles, newest first, each with its tickers and its current analysis "
    "(`analysis` is null until analysed; `offline` marks the word-list analysis).",
    parameters=FILTER_PARAMS,
    responses={
        200: ArticleSerializer(many=True),
        400: BAD_REQUEST,
        404: OpenApiResponse(description="Page out of range."),
    },
)
class ArticleListView(generics.ListAPIView):
    serializer_class = ArticleSerializer
    pagination_class = NewsPagination
    filter_backends: list = []

    def get_queryset(self):
        f = _filters(self.request)
        matching = selectors.filter_articles(selectors.articles_queryset(), f)
        return selectors.articles_queryset().filter(pk__in=matching.order_by().values("pk"))


@extend_schema(
    description="One article with its analysis.",
    responses={200: ArticleSerializer, 404: OpenApiResponse(description="No such article.")},
)
class ArticleDetailView(generics.RetrieveAPIView):
    serializer_class = ArticleSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.articles_queryset()
