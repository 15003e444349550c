from django.urls import path

from qunex.pages import PrivateEmptyRoomView

app_name = "portfolios"

urlpatterns = [
    path(
        "portfolios/",
        PrivateEmptyRoomView.as_view(
            title="Portfolios",
            lead="Your holdings with real P&L and performance.",
            points=(
                "Holdings from FIFO lots, realized and unrealized P&L.",
                "Time-weighted and money-weighted returns against a benchmark.",
                "CSV import and export of transactions.",
            ),
        ),
        name="portfolio_list",
    ),
    path(
        "watchlists/",
        PrivateEmptyRoomView.as_view(
            title="Watchlists",
            lead="Tickers you follow, with live quotes and price alerts.",
        ),
        name="watchlist_list",
    ),
]
