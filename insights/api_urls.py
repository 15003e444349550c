"""The insights API: each area's routes, mounted under /api/."""

from django.urls import include, path

urlpatterns = [
    path("", include("insights.news.api_urls")),
    path("", include("insights.insiders.api_urls")),
    path("", include("insights.calendar.api_urls")),
    path("", include("insights.scores.api_urls")),
]
