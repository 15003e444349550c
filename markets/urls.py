from django.urls import path

from qunex.pages import EmptyRoomView

app_name = "markets"

urlpatterns = [
    path(
        "",
        EmptyRoomView.as_view(
            title="Dashboard",
            lead="Your market at a glance.",
            points=(
                "Whether the market is open, and when it next opens or closes.",
                "Index ETFs and the day's top gainers and losers, refreshed every 15 seconds.",
                "Your watchlist, AI scores, news and upcoming events.",
            ),
        ),
        name="dashboard",
    ),
    path(
        "stocks/",
        EmptyRoomView.as_view(
            title="Stocks",
            lead="Every ticker in the Qunex universe.",
            points=("Search by symbol or name, filter by sector, sort by any column.",),
        ),
        name="stock_list",
    ),
]
