from django.urls import path

from qunex.pages import PrivateEmptyRoomView

app_name = "backtests"

urlpatterns = [
    path(
        "backtests/",
        PrivateEmptyRoomView.as_view(
            title="Backtests",
            lead="Test a strategy on stored daily bars before you trade it.",
            points=(
                "SMA/EMA crossovers, RSI, MACD, Bollinger and Donchian strategies.",
                "Equity against buy & hold, drawdown, trades and statistics.",
                "Parameter sweeps shown as a heatmap.",
            ),
        ),
        name="backtest_list",
    ),
]
