"""Market-data API: tickers, daily bars, quotes and the polled feed. Thin: parse, select, render."""

from __future__ import annotations

from functools import lru_cache

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from markets import quotes, selectors
from markets.api.filters import TickerFilter
from markets.api.serializers import (
    BarRangeSerializer,
    BarSerializer,
    FeedErrorSerializer,
    FeedSerializer,
    QuoteSerializer,
    TickerSerializer,
)
from markets.api.throttles import FeedRateThrottle
from markets.models import Ticker
from qunex.filters import StrictPageNumberPagination

SYMBOL_PARAM = OpenApiParameter(
    "symbol", OpenApiTypes.STR, OpenApiParameter.PATH, description="Ticker symbol, e.g. AAPL."
)


def _ticker_or_404(symbol: str) -> Ticker:
    ticker = selectors.ticker_get(symbol=symbol)
    if ticker is None:
        raise NotFound(f"Unknown symbol {symbol.upper()!r}: it is not in the Qunex universe.")
    return ticker


@extend_schema_view(
    list=extend_schema(
        description="Tickers of the Qunex universe with their latest quote (null until the "
        "first refresh). `search` matches the start of the symbol or any part of the name; "
        "filter by `sector`, `asset_type`, `active`, `is_demo`; `ordering` by symbol, name, "
        "sector or market_cap."
    ),
    retrieve=extend_schema(
        description="One ticker by symbol (case-insensitive), with its latest quote.",
        responses={200: TickerSerializer, 404: OpenApiResponse(description="Unknown symbol.")},
    ),
)
class TickerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TickerSerializer
    queryset = Ticker.objects.with_quote().order_by("symbol")
    lookup_field = "symbol"
    lookup_value_regex = r"[A-Za-z0-9.\-]+"
    filterset_class = TickerFilter
    search_fields = ["symbol", "name"]
    ordering_fields = ["symbol", "name", "sector", "market_cap"]
    ordering = ["symbol"]

    def get_object(self) -> Ticker:
        return _ticker_or_404(self.kwargs["symbol"])


class BarPagination(StrictPageNumberPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000


@extend_schema(
    parameters=[SYMBOL_PARAM, BarRangeSerializer],
    responses={
        200: BarSerializer(many=True),
        400: OpenApiResponse(description="A bad `start`/`end`; the body names the parameter."),
        404: OpenApiResponse(description="Unknown symbol."),
    },
)
class TickerBarsView(generics.ListAPIView):
    """Daily bars of one ticker, oldest first, optionally between `start` and `end` (inclusive).

    A date that is not YYYY-MM-DD, or `start` after `end`, is a 400 naming the parameter;
    an unknown symbol is a 404 that says so.
    """

    serializer_class = BarSerializer
    pagination_class = BarPagination
    filter_backends: list = []

    def get_queryset(self):
        params = BarRangeSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        ticker = _ticker_or_404(self.kwargs["symbol"])
        return selectors.bar_list(ticker=ticker, **params.validated_data)


class QuoteListView(generics.ListAPIView):
    """Latest quote of each ticker, by symbol; `symbols` narrows it to a comma-separated list."""

    serializer_class = QuoteSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "symbols", OpenApiTypes.STR, description="Comma-separated, e.g. AAPL,MSFT (max 50)."
            )
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        raw = self.request.query_params.get("symbols")
        if raw is None:
            return selectors.quote_list()
        try:
            symbols = quotes.parse_symbols(raw)
        except quotes.FeedError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return selectors.quote_list(symbols=symbols)


class MarketDataView(APIView):
    """The polled quote feed behind the dashboard and the stock pages. Public: anonymous reads
    are allowed, throttled per IP at the anonymous API rate (signed-in callers at the user
    rate) in one-minute windows of its own. Cached and conditional:

    - send the previous `ETag` in `If-None-Match`; nothing changed → `304 Not Modified`;
    - at most 50 symbols; symbols Qunex does not list come back under `unknown` (`400` when
      none of them is known); listed symbols without a quote yet under `no_quote`;
    - quotes are refreshed out of band during market hours (never inside a request), on the
      vendors' shared budgets; `as_of` and `age_seconds` give each quote's true age;
    - `poll_seconds` says when to ask again: 15 s while the market is open, 60 s when closed.
    """

    permission_classes = [AllowAny]
    throttle_classes = [FeedRateThrottle]
    renderer_classes = [JSONRenderer]  # polled by scripts: no browsable page to negotiate

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """Answer the common poll, a conditional GET whose ETag is still current, before
        DRF's request wrapping, negotiation and rendering: an empty 304 needs none of it.
        Everything else (first polls, changes, errors, token callers) goes through DRF."""
        not_modified = self._not_modified(request)
        if not_modified is not None:
            return not_modified
        return super().dispatch(request, *args, **kwargs)

    def _not_modified(self, request: HttpRequest) -> HttpResponse | None:
        meta = request.META
        if request.method != "GET" or "HTTP_AUTHORIZATION" in meta:
            return None
        if_none_match = meta.get("HTTP_IF_NONE_MATCH")
        if not if_none_match:
            return None
        symbols = _polled_symbols(meta.get("QUERY_STRING", ""))
        if symbols is None:
            return None
        # Counted in process (markets/api/throttles.py) and answered from this process's
        # memory (markets/quotes.py): the common poll costs no Redis command and no query.
        if not FeedRateThrottle().allow_request(request, self):
            return None  # DRF answers 429 with Retry-After (a refused client is remembered)
        feed = quotes.feed_get(symbols=list(symbols), if_none_match=if_none_match)
        if not feed.not_modified:
            request.feed_throttled = True  # counted once: DRF's pass skips the throttle
            return None
        response = HttpResponseNotModified()
        response["ETag"] = feed.etag
        response["Cache-Control"] = "no-cache"
        response["Vary"] = "Accept, Cookie"
        return response

    @extend_schema(
        operation_id="market_data",
        parameters=[
            OpenApiParameter(
                "symbols",
                OpenApiTypes.STR,
                required=True,
                description="Comma-separated symbols, e.g. AAPL,MSFT (1 to 50).",
            ),
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The ETag of the last response; 304 when nothing changed.",
            ),
        ],
        responses={
            200: FeedSerializer,
            304: OpenApiResponse(description="Not modified: the quotes are those of your ETag."),
            400: OpenApiResponse(
                FeedErrorSerializer,
                description="`symbols` missing, more than 50, malformed, or none of them known.",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        try:
            symbols = quotes.parse_symbols(request.query_params.get("symbols"))
        except quotes.FeedError as exc:
            return Response({exc.field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        feed = quotes.feed_get(symbols=symbols, if_none_match=request.headers.get("If-None-Match"))
        if not feed.has_known:
            return Response(
                {
                    "symbols": [f"Unknown symbol(s): {', '.join(feed.unknown)}."],
                    "unknown": feed.unknown,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        headers = {"ETag": feed.etag, "Cache-Control": "no-cache"}
        if feed.not_modified:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(self._payload(feed), headers=headers)

    @staticmethod
    def _payload(feed: quotes.Feed) -> dict:
        now = timezone.now()
        market = quotes.market_status(now)
        return {
            "quotes": [
                {**q, "age_seconds": quotes.quote_age_seconds(q["as_of"], now)} for q in feed.quotes
            ],
            "unknown": feed.unknown,
            "no_quote": feed.no_quote,
            "market": market,
            "server_time": now,
            "poll_seconds": quotes.poll_seconds()
            if market["is_open"]
            else quotes.closed_poll_seconds(),
        }


@lru_cache(maxsize=4096)
def _polled_symbols(query_string: str) -> tuple[str, ...] | None:
    """The normalized symbols of a poll's query string, or None when they are not valid (the
    DRF path then answers 400). A page polls with the same string every time: memoized."""
    try:
        return tuple(quotes.parse_symbols(QueryDict(query_string).get("symbols")))
    except quotes.FeedError:
        return None


@extend_schema(exclude=True)
class MarketDataSlashView(MarketDataView):
    """`/api/market-data/`: the same feed, for clients that add the slash."""
