from __future__ import annotations

from django.urls import path

from insights.scores import api

urlpatterns = [
    path("ai-scores/", api.LatestScoresView.as_view(), name="api-ai-scores"),
    path(
        "ai-scores/<str:symbol>/history/",
        api.ScoreHistoryView.as_view(),
        name="api-ai-score-history",
    ),
    path("ai-models/", api.ModelVersionListView.as_view(), name="api-ai-models"),
    path("ai-models/<int:pk>/", api.ModelVersionDetailView.as_view(), name="api-ai-model"),
]
