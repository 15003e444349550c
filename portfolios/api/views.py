"""Portfolios, transactions, holdings, performance, watchlists, alerts and notifications.

Every queryset is filtered by `request.user`, so another user's object is a 404 and never
appears in a list. Writes go through `portfolios.services`; their errors name the field.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
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


def drf_error(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if k == NON_FIELD_ERRORS else k): v
            for k, v in exc.message_dict.items()
        }
        return ValidationError(detail)
    return ValidationError({"non_field_errors": exc.messages})


class OwnedMixin:
    """`get_queryset` returns nothing for the schema generator (no user there)."""

    def owned(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.owned()


# --- portfolios ------------------------------------------------------------------------------


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

    @extend_schema(responses=s.PortfolioHoldingsSerializer)
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

    @extend_schema(responses=s.PortfolioPerformanceSerializer)
    @action(detail=True, methods=["get"])
    def performance(self, request: Request, pk: str | None = None) -> Response:
        """Value series, TWR and XIRR per period with the benchmark, max drawdown, allocation."""
        portfolio = self.get_object()
        summary = selectors.portfolio_summary(portfolio=portfolio)
        perf = selectors.portfolio_performance(portfolio=portfolio, ledger=summary.ledger)
        data = {
            **perf.as_dict(),
            "allocation_by_holding": summary.allocation_by_holding(),
            "allocation_by_sector": summary.allocation_by_sector(),
        }
        return Response(s.PortfolioPerformanceSerializer(data).data)


class TransactionFilter(filters.FilterSet):
    portfolio = filters.NumberFilter(field_name="portfolio_id", help_text="Portfolio id.")
    type = filters.ChoiceFilter(choices=Transaction.Type.choices)
    symbol = filters.CharFilter(field_name="ticker__symbol", lookup_expr="iexact")
    date_from = filters.DateFilter(field_name="trade_date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="trade_date", lookup_expr="lte")

    class Meta:
        model = Transaction
        fields = ["portfolio", "type", "symbol", "date_from", "date_to"]


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


class WatchlistItemFilter(filters.FilterSet):
    watchlist = filters.NumberFilter(field_name="watchlist_id", help_text="Watchlist id.")

    class Meta:
        model = WatchlistItem
        fields = ["watchlist"]


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
    filterset_fields = ["armed", "direction"]

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

    @extend_schema(request=None, responses=s.PriceAlertSerializer)
    @action(detail=True, methods=["post"])
    def rearm(self, request: Request, pk: str | None = None) -> Response:
        alert = services.alert_rearm(alert=self.get_object())
        return Response(self.get_serializer(alert).data)


class NotificationViewSet(OwnedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    queryset = Notification.objects.all()
    filterset_fields = ["read"]

    def owned(self):
        return selectors.notifications_for(user=self.request.user)

    @extend_schema(request=None, responses={204: None})
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
