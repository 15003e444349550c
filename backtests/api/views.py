"""Backtests API: queue, list and read my backtests, their results, and the strategy registry."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backtests import selectors, services
from backtests.api.serializers import (
    BacktestCreateSerializer,
    BacktestResultSerializer,
    BacktestSerializer,
    StrategySerializer,
    nest_errors,
)
from backtests.models import Backtest
from backtests.strategies import list_strategies

NOT_MINE = OpenApiResponse(description="No such backtest among yours.")


@extend_schema_view(
    list=extend_schema(
        description="Your backtests, newest first; filter by `status` and `strategy`."
    ),
    retrieve=extend_schema(
        description="One of your backtests (without the result).",
        responses={200: BacktestSerializer, 404: NOT_MINE},
    ),
)
class BacktestViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = BacktestSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["status", "strategy"]
    ordering_fields = ["created_at", "queued_at", "finished_at"]
    queryset = Backtest.objects.none()  # for the schema; get_queryset narrows to the caller's

    def get_queryset(self):
        return selectors.backtest_list(user=self.request.user)

    @extend_schema(
        request=BacktestCreateSerializer,
        responses={
            201: BacktestSerializer,
            400: OpenApiResponse(
                description="Errors keyed by field; strategy parameters under `params`, sweep values under `sweep`."
            ),
        },
        description="Validate and submit a backtest (or a parameter sweep). A small job (estimated "
        "within BACKTEST_INLINE_BUDGET_SECONDS, 1 s by default: a single run or a small sweep) runs "
        "in the request and comes back `succeeded` (or `failed` with its error) with `result_url`; "
        "larger sweeps and walk-forward runs come back `queued`: a processor runs them within "
        "minutes; poll the backtest, then read `result/`.",
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        incoming = BacktestCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            backtest = services.backtest_submit(user=request.user, **incoming.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(nest_errors(exc.message_dict)) from exc
        backtest = selectors.backtest_get(user=request.user, pk=backtest.pk)
        return Response(BacktestSerializer(backtest).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            200: BacktestResultSerializer,
            404: NOT_MINE,
            409: OpenApiResponse(description="Not succeeded (yet)."),
        },
        description="The stored result of a succeeded backtest: statistics, equity/drawdown/buy & hold series and trades, or the sweep table.",
    )
    @action(detail=True, methods=["get"])
    def result(self, request: Request, pk: str) -> Response:
        backtest = self._mine(pk)
        if backtest.status != Backtest.Status.SUCCEEDED:
            return Response(
                {
                    "detail": f"This backtest is {backtest.status}; a result exists once it has succeeded.",
                    "status": backtest.status,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(BacktestResultSerializer(backtest).data)

    @extend_schema(
        request=None,
        responses={
            201: BacktestSerializer,
            400: OpenApiResponse(description="The inputs no longer pass."),
            404: NOT_MINE,
        },
        description="Submit a new backtest with the same inputs (run at once when small, as on create).",
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str) -> Response:
        try:
            again = services.backtest_rerun(backtest=self._mine(pk), user=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(nest_errors(exc.message_dict)) from exc
        again = selectors.backtest_get(user=request.user, pk=again.pk)
        return Response(BacktestSerializer(again).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: BacktestSerializer,
            400: OpenApiResponse(description="Already finished."),
            404: NOT_MINE,
        },
        description="Cancel a queued or running backtest.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        try:
            services.backtest_cancel(backtest=self._mine(pk))
        except DjangoValidationError as exc:
            raise ValidationError(nest_errors(exc.message_dict)) from exc
        return Response(
            BacktestSerializer(selectors.backtest_get(user=request.user, pk=int(pk))).data
        )

    def _mine(self, pk: str) -> Backtest:
        try:
            return selectors.backtest_get(user=self.request.user, pk=int(pk))
        except Backtest.DoesNotExist:
            raise NotFound("No such backtest among yours.") from None


class StrategyListView(APIView):
    @extend_schema(
        responses={200: StrategySerializer(many=True)},
        description="The strategy registry: each strategy with its parameters' type, range, default and help.",
    )
    def get(self, request: Request) -> Response:
        return Response(
            StrategySerializer([s.to_dict() for s in list_strategies()], many=True).data
        )
