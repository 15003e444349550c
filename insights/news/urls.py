from __future__ import annotations

from django.urls import path

from insights.news import views

urlpatterns = [
    path("news/", views.news_list_view, name="news"),
    path("news/<int:pk>/", views.article_detail_view, name="news_article"),
]
