from __future__ import annotations

from django.urls import path

from insights.scores import views

urlpatterns = [
    path("ai-scores/", views.scores_view, name="ai_scores"),
    path("ai-scores/track-record/", views.track_record_view, name="ai_track_record"),
    path("ai-scores/models/<int:pk>/", views.model_card_view, name="ai_model_card"),
]
