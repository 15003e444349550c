from __future__ import annotations

from django.urls import path

from insights.insiders import api

urlpatterns = [
    path("insider-trades/", api.TradeListView.as_view(), name="api-insider-trades"),
    path("insider-trades/clusters/", api.ClusterListView.as_view(), name="api-insider-clusters"),
]
