"""News pages: the News list (one row per story) and one article with its analysis."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.news import selectors
from insights.news.forms import NewsPageQuery
from qunex.params import query_form

EMPTY_HELP = "python manage.py refresh_news"


@require_GET
@query_form(NewsPageQuery, announce=False)  # the page lists `filters.errors` itself
def news_list_view(request: HttpRequest, query: dict) -> HttpResponse:
    user = request.user
    filters = selectors.parse_filters(request.GET, user=user)
    if "page" in query.problems:
        filters.errors["page"] = f"page: {query.problems['page']}"
    page, rows = selectors.story_page(filters, user=user, page=query["page"])
    watchlists = []
    if user.is_authenticated:
        from portfolios.selectors import watchlists_for

        watchlists = list(watchlists_for(user=user).values("id", "name"))
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "sentiment_choices": selectors.SENTIMENT_CHOICES,
        "impact_choices": [1, 2, 3, 4, 5],
        "sources": selectors.sources_in_use(),
        "watchlists": watchlists,
        "signed_in": user.is_authenticated,
        "empty_help": EMPTY_HELP,
    }
    return render(request, "insights/news/news_list.html", context)


@require_GET
def article_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.article_detail(pk)
    if article is None:
        raise Http404("No such article.")
    analysis = article.analysis if selectors._has_analysis(article) else None
    members = getattr(article.story, "members", []) if article.story_id else []
    return render(
        request,
        "insights/news/article_detail.html",
        {
            "article": article,
            "analysis": analysis,
            "others": [m for m in members if m.pk != article.pk],
        },
    )
