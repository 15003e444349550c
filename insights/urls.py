"""Insights pages: each area (news, insider trades, economic calendar, AI scores) owns its
routes in its own `urls.py`; they share the `insights:` namespace."""

from django.urls import include, path

app_name = "insights"

urlpatterns = [
    path("", include("insights.news.urls")),
    path("", include("insights.insiders.urls")),
    path("", include("insights.calendar.urls")),
    path("", include("insights.scores.urls")),
]
