from __future__ import annotations

from django.urls import path

from insights.insiders import views

urlpatterns = [
    path("insiders/", views.trades_view, name="insiders"),
]
