from __future__ import annotations

from django.urls import path

from markets import views

# No app_name: "dashboard" is reversed unqualified (LOGIN_REDIRECT_URL = "dashboard").
urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("stocks/", views.stock_list_view, name="stock_list"),
    path("stocks/<str:symbol>/", views.stock_detail_view, name="stock_detail"),
    path("stocks/<str:symbol>/chart.json", views.stock_chart_data_view, name="stock_chart_data"),
]
