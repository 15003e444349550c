from django.urls import path

from backtests import views

app_name = "backtests"

urlpatterns = [
    path("backtests/", views.backtest_list, name="backtest_list"),
    path("backtests/new/", views.backtest_new, name="backtest_new"),
    path("backtests/status/", views.backtest_status, name="backtest_status"),
    path("backtests/<int:pk>/", views.backtest_detail, name="backtest_detail"),
    path("backtests/<int:pk>/rerun/", views.backtest_rerun, name="backtest_rerun"),
    path("backtests/<int:pk>/cancel/", views.backtest_cancel, name="backtest_cancel"),
]
