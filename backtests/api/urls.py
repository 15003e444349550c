from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from backtests.api import views

router = SimpleRouter()
router.register("backtests", views.BacktestViewSet, basename="backtest")

urlpatterns = [
    path("backtests/strategies/", views.StrategyListView.as_view(), name="backtest-strategies"),
    *router.urls,
]
