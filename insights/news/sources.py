"""The configured news sources, built from settings: the keyless feeds always, each vendor
when its key is set."""

from __future__ import annotations

import requests
from django.conf import settings

from insights.news.providers.base import NewsSource
from insights.news.providers.finnhub import FinnhubNews
from insights.news.providers.newsapi import NewsApiSource
from insights.news.providers.polygon import PolygonNews
from insights.news.providers.rss import RssSource, parse_feed_setting


def configured_sources(session: requests.Session | None = None) -> list[NewsSource]:
    sources: list[NewsSource] = []
    if settings.NEWSAPI_KEY:
        sources.append(
            NewsApiSource(settings.NEWSAPI_KEY, session=session, base_url=settings.NEWSAPI_BASE_URL)
        )
    if settings.POLYGON_API_KEY:
        sources.append(
            PolygonNews(
                settings.POLYGON_API_KEY, session=session, base_url=settings.POLYGON_BASE_URL
            )
        )
    if settings.FINNHUB_API_KEY:
        sources.append(
            FinnhubNews(
                settings.FINNHUB_API_KEY, session=session, base_url=settings.FINNHUB_BASE_URL
            )
        )
    for feed in parse_feed_setting(settings.NEWS_RSS_FEEDS):
        sources.append(RssSource(feed, session=session, sec_user_agent=settings.SEC_USER_AGENT))
    return sources
