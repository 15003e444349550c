from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from markets.api import views

router = SimpleRouter()
router.register("tickers", views.TickerViewSet, basename="ticker")

urlpatterns = [
    path("tickers/<str:symbol>/bars/", views.TickerBarsView.as_view(), name="ticker-bars"),
    path("quotes/", views.QuoteListView.as_view(), name="quote-list"),
    path("market-data", views.MarketDataView.as_view(), name="market-data"),
    path("market-data/", views.MarketDataSlashView.as_view(), name="market-data-slash"),
    *router.urls,
]
