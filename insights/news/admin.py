from __future__ import annotations

from django.contrib import admin

from insights.news.models import Article, ArticleTicker, StoryGroup


class ArticleTickerInline(admin.TabularInline):
    model = ArticleTicker
    extra = 0
    autocomplete_fields = ["ticker"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "publisher", "published_at", "story"]
    list_filter = ["source", ("published_at", admin.DateFieldListFilter)]
    search_fields = ["title", "url"]
    date_hierarchy = "published_at"
    list_select_related = ["story"]
    raw_id_fields = ["story"]
    readonly_fields = ["fetched_at"]
    inlines = [ArticleTickerInline]


@admin.register(StoryGroup)
class StoryGroupAdmin(admin.ModelAdmin):
    list_display = ["id", "first_published_at", "last_published_at", "article_count"]
    date_hierarchy = "first_published_at"
    search_fields = ["articles__title"]
    readonly_fields = ["key", "created_at"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_articles=Count("articles"))

    @admin.display(description="Articles", ordering="n_articles")
    def article_count(self, obj) -> int:
        return obj.n_articles


import insights.news.analysis.admin  # noqa: E402, F401
