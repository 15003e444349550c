"""Portfolios, transactions, holdings, performance, watchlists, alerts and notifications.

Every queryset is filtered by `request.user`, so another user's object is a 404 and never
appears in a list. Writes go through `portfolios.services`; their errors name the field.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from portfolios import selectors, services
from portfolios.api import serializers as s
from portfolios.models import (
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)
from qunex import params
from qunex.filters import StrictFilterSet, StrictPageNumberPagination


class Conflict(APIException):
    """A unique conflict (a second watchlist of the same name, a ticker already on the list):
    409, the body naming the field as a 400 would."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflicts with one of yours."
    default_code = "unique"


def drf_error(exc: DjangoValidationError) -> APIException:
    if hasattr(exc, "error_dict") and all(
        e.code == "unique" for errors in exc.error_dict.values() for e in errors
    ):
        return Conflict({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if k == NON_FIELD_ERRORS else k): v
            for k, v in exc.message_dict.items()
        }
        return ValidationError(detail)
    return ValidationError({"non_field_errors": exc.messages})


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

BAD_INPUT = OpenApiResponse(description="Bad input; the body names each bad field or parameter.")
NOT_YOURS = OpenApiResponse(description="No such object among yours.")
NO_PAGE = OpenApiResponse(description="`page` is past the last page.")
CONFLICT = OpenApiResponse(
    description="Conflicts with one of yours (e.g. the name is taken); the body names the field."
)


class StrictBooleanFilter(filters.BooleanFilter):
    """django-filter's BooleanWidget reads junk as "no filter"; a text input passes it on."""

    field_class = params.BooleanParam

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


class StrictDateFilter(filters.DateFilter):
    field_class = params.DateParam


def documented(serializer, *, update_serializer=None, actions=None, unique=False):
    """The 200/201/204 bodies plus the 400 and 404 every owned endpoint can answer (and the
    409 of a unique conflict where `unique`)."""
    update = update_serializer or serializer
    taken = {409: CONFLICT} if unique else {}  # a unique constraint the body can break
    responses = {
        "list": {200: serializer(many=True), 400: BAD_INPUT, 404: NO_PAGE},
        "create": {201: serializer, 400: BAD_INPUT, **taken},
        "retrieve": {200: serializer, 404: NOT_YOURS},
        "update": {200: update, 400: BAD_INPUT, 404: NOT_YOURS, **taken},
        "partial_update": {200: update, 400: BAD_INPUT, 404: NOT_YOURS, **taken},
        "destroy": {204: None, 400: BAD_INPUT, 404: NOT_YOURS},
    }
    schemas = {k: extend_schema(responses=v) for k, v in responses.items()}
    if actions is not None:
        schemas = {k: v for k, v in schemas.items() if k in actions}
    return extend_schema_view(**schemas)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": params.ID_MAX})
class StrictIdFilter(filters.NumberFilter):
    """An object id: a whole number from 1 (a bigint); junk or out of range is a 400."""

    field_class = params.IdParam


class OwnedMixin:
    """Your objects only (others: 404), strict query parameters, no empty PATCH.

    `get_queryset` returns nothing for the schema generator (no user there).
    """

    pagination_class = StrictPageNumberPagination

    def owned(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.owned()

    def initial(self, request, *args, **kwargs):
        """Refuse control characters in query parameters and an empty PATCH (400). Done here,
        not in `partial_update`, so viewsets without PATCH do not grow a PATCH route."""
        super().initial(request, *args, **kwargs)
        bad = [k for k, v in request.query_params.lists() if any(_CONTROL.search(x) for x in v)]
        if bad:
            raise ValidationError({k: "Control characters are not allowed." for k in bad})
        if getattr(self, "action", None) == "partial_update" and not request.data:
            writable = [n for n, f in self.get_serializer().fields.items() if not f.read_only]
            raise ValidationError(
                {"non_field_errors": [f"Send at least one field to change: {', '.join(writable)}."]}
            )


# --- portfolios ------------------------------------------------------------------------------


@documented(s.PortfolioSerializer, unique=True)
class PortfolioViewSet(OwnedMixin, viewsets.ModelViewSet):
    """Your portfolios. `holdings` and `performance` give every figure the pages show."""

    serializer_class = s.PortfolioSerializer
    queryset = Portfolio.objects.all()
    search_fields = ["name"]
    ordering_fields = ["name", "created"]

    def owned(self):
        return selectors.portfolios_for(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        if "benchmark" in data:
            data["benchmark"] = data["benchmark"].symbol if data["benchmark"] else None
        try:
            serializer.instance = services.portfolio_create(owner=self.request.user, **data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "benchmark" in data:
            data["benchmark"] = data["benchmark"].symbol if data["benchmark"] else None
        try:
            serializer.instance = services.portfolio_update(portfolio=serializer.instance, **data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None

    def perform_destroy(self, instance):
        services.portfolio_delete(portfolio=instance)

    @extend_schema(responses={200: s.PortfolioHoldingsSerializer, 404: NOT_YOURS})
    @action(detail=True, methods=["get"])
    def holdings(self, request: Request, pk: str | None = None) -> Response:
        """Holdings (quantity, average cost, cost basis, price, market value, unrealized and
        day P&L) and totals, from the ledger at the latest prices."""
        portfolio = self.get_object()
        summary = selectors.portfolio_summary(portfolio=portfolio)
        data = {
            "portfolio": portfolio.pk,
            "error": summary.error,
            "totals": summary,
            "holdings": summary.holdings,
            "realized_by_year": {
                str(y): v
                for y, v in (summary.ledger.realized_by_year() if summary.ledger else {}).items()
            },
        }
        return Response(s.PortfolioHoldingsSerializer(data).data)

    @extend_schema(
        parameters=[s.PerformanceQuerySerializer],
        responses={200: s.PortfolioPerformanceSerializer, 400: BAD_INPUT, 404: NOT_YOURS},
    )
    @action(detail=True, methods=["get"])
    def performance(self, request: Request, pk: str | None = None) -> Response:
        """Value series, TWR and XIRR for the window `start`..`end` (ISO dates; default: from
        inception to the last close) and per standard period to the window's last close, with
        the benchmark, max drawdown over the window, and today's allocation."""
        portfolio = self.get_object()
        query = s.PerformanceQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        summary = selectors.portfolio_summary(portfolio=portfolio)
        perf = selectors.portfolio_performance(
            portfolio=portfolio, ledger=summary.ledger, **query.validated_data
        )
        data = {
            **perf.as_dict(),
            "allocation_by_holding": summary.allocation_by_holding(),
            "allocation_by_sector": summary.allocation_by_sector(),
        }
        return Response(s.PortfolioPerformanceSerializer(data).data)

    @extend_schema(responses={200: s.PortfolioRealizedSerializer, 404: NOT_YOURS})
    @action(detail=True, methods=["get"])
    def realized(self, request: Request, pk: str | None = None) -> Response:
        """Realized gains (FIFO): totals overall, per year of sale and per term, with the
        per-lot rows the realized-gains page shows."""
        portfolio = self.get_object()
        summary = selectors.portfolio_summary(portfolio=portfolio)
        report = selectors.realized_report(summary.ledger)
        data = {
            "portfolio": portfolio.pk,
            "error": summary.error,
            "method": "FIFO: each sale closes the oldest open lots first; one row per lot closed.",
            "term_rule": report.term_rule,
            "totals": report.totals,
            "years": report.years,
        }
        return Response(s.PortfolioRealizedSerializer(data).data)


class TransactionFilter(StrictFilterSet):
    portfolio = StrictIdFilter(field_name="portfolio_id", help_text="Portfolio id.")
    type = filters.ChoiceFilter(choices=Transaction.Type.choices)
    symbol = filters.CharFilter(field_name="ticker__symbol", lookup_expr="iexact", max_length=12)
    date_from = StrictDateFilter(field_name="trade_date", lookup_expr="gte")
    date_to = StrictDateFilter(field_name="trade_date", lookup_expr="lte")

    class Meta:
        model = Transaction
        fields = ["portfolio", "type", "symbol", "date_from", "date_to"]


@documented(s.TransactionSerializer, update_serializer=s.TransactionUpdateSerializer)
class TransactionViewSet(OwnedMixin, viewsets.ModelViewSet):
    """Transactions of your portfolios; filter with `?portfolio=<id>`. A write is refused
    (400, naming the field) when the ledger cannot accept the resulting history."""

    queryset = Transaction.objects.all()
    filterset_class = TransactionFilter
    ordering_fields = ["trade_date", "id"]
    search_fields = ["notes", "ticker__symbol"]

    def owned(self):
        return selectors.transactions_for(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.TransactionUpdateSerializer
        return s.TransactionSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.transaction_create(**data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("portfolio", None)
        try:
            serializer.instance = services.transaction_update(
                transaction_=serializer.instance, **data
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from None

    def perform_destroy(self, instance):
        try:
            services.transaction_delete(transaction_=instance)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None


# --- watchlists ------------------------------------------------------------------------------


@documented(s.WatchlistSerializer, unique=True)
class WatchlistViewSet(OwnedMixin, viewsets.ModelViewSet):
    serializer_class = s.WatchlistSerializer
    queryset = Watchlist.objects.annotate(item_count=Count("items"))
    search_fields = ["name"]

    def owned(self):
        return selectors.watchlists_for(user=self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.watchlist_create(
                owner=self.request.user, name=serializer.validated_data["name"]
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from None
        serializer.instance.item_count = 0

    def perform_update(self, serializer):
        name = serializer.validated_data.get("name", serializer.instance.name)
        try:
            serializer.instance = services.watchlist_update(
                watchlist=serializer.instance, name=name
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from None

    def perform_destroy(self, instance):
        services.watchlist_delete(watchlist=instance)


class WatchlistItemFilter(StrictFilterSet):
    watchlist = StrictIdFilter(field_name="watchlist_id", help_text="Watchlist id.")

    class Meta:
        model = WatchlistItem
        fields = ["watchlist"]


@documented(
    s.WatchlistItemSerializer, update_serializer=s.WatchlistItemUpdateSerializer, unique=True
)
class WatchlistItemViewSet(OwnedMixin, viewsets.ModelViewSet):
    """Tickers on your watchlists with their latest quote; filter with `?watchlist=<id>`."""

    queryset = WatchlistItem.objects.all()
    filterset_class = WatchlistItemFilter

    def owned(self):
        return selectors.watchlist_items_queryset(watchlist__owner=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.WatchlistItemUpdateSerializer
        return s.WatchlistItemSerializer

    def perform_create(self, serializer):
        try:
            item = services.watchlist_item_add(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None
        serializer.instance = self.owned().get(pk=item.pk)

    def perform_update(self, serializer):
        item = serializer.instance
        data = serializer.validated_data
        try:
            services.watchlist_item_update(
                item=item,
                note=data.get("note", item.note),
                target_above=data.get("target_above", item.target_above),
                target_below=data.get("target_below", item.target_below),
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from None
        serializer.instance = self.owned().get(pk=item.pk)

    def perform_destroy(self, instance):
        services.watchlist_item_remove(item=instance)


# --- alerts and notifications ----------------------------------------------------------------


class PriceAlertFilter(StrictFilterSet):
    armed = StrictBooleanFilter(help_text="true: waiting to fire; false: fired.")

    class Meta:
        model = PriceAlert
        fields = ["armed", "direction"]


@documented(s.PriceAlertSerializer, actions=("list", "create", "retrieve", "destroy"))
class PriceAlertViewSet(
    OwnedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Price alerts: each fires once (email + notification) when the latest price reaches
    it; `rearm` to be told again."""

    serializer_class = s.PriceAlertSerializer
    queryset = PriceAlert.objects.all()
    filterset_class = PriceAlertFilter

    def owned(self):
        return selectors.alerts_for(user=self.request.user)

    def perform_create(self, serializer):
        try:
            alert = services.alert_create(owner=self.request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from None
        serializer.instance = self.owned().get(pk=alert.pk)

    def perform_destroy(self, instance):
        services.alert_delete(alert=instance)

    @extend_schema(request=None, responses={200: s.PriceAlertSerializer, 404: NOT_YOURS})
    @action(detail=True, methods=["post"])
    def rearm(self, request: Request, pk: str | None = None) -> Response:
        alert = services.alert_rearm(alert=self.get_object())
        return Response(self.get_serializer(alert).data)


class NotificationFilter(StrictFilterSet):
    read = StrictBooleanFilter()

    class Meta:
        model = Notification
        fields = ["read"]


@documented(s.NotificationSerializer, actions=("list",))
class NotificationViewSet(OwnedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    queryset = Notification.objects.all()
    filterset_class = NotificationFilter

    def owned(self):
        return selectors.notifications_for(user=self.request.user)

    @extend_schema(request=None, responses={204: None, 404: NOT_YOURS})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        services.notifications_mark_read(user=request.user, ids=[notification.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        services.notifications_mark_read(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
