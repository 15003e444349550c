from __future__ import annotations

from django.urls import path

from insights.news import api

urlpatterns = [
    path("news/", api.ArticleListView.as_view(), name="news-list"),
    path("news/<int:pk>/", api.ArticleDetailView.as_view(), name="news-detail"),
]
