"""Analysis admin: totals for the filtered list, one query budget for 1 and 50, re-analysis."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from insights.news.models import ArticleAnalysis
from tests.insights.news.analysis.factories import ArticleFactory
from tests.insights.news.analysis.fake_anthropic import fixture, json_reply

pytestmark = pytest.mark.django_db
URL = reverse("admin:insights_articleanalysis_changelist")


def make(n: int, *, kind="ai", status="analysed", tokens=(100, 20), cost="0.0006"):
    for _ in range(n):
        ArticleAnalysis.objects.create(
            article=ArticleFactory(),
            kind=kind,
            status=status,
            sentiment=0.2 if status == "analysed" else None,
            label="positive" if status == "analysed" else "",
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost_usd=Decimal(cost),
            analysed_at=timezone.now(),
        )


def test_totals_follow_the_filters(client, staff_user):
    client.force_login(staff_user)
    make(2)
    make(1, status="failed", tokens=(50, 5), cost="0.000225")
    make(1, kind="offline", tokens=(0, 0), cost="0")
    page = client.get(URL).content.decode()
    assert "Totals for the 4 analyses" in page
    assert "<strong>250</strong> input tokens" in page and "$0.0014" in page
    failed = client.get(URL, {"status__exact": "failed"}).content.decode()
    assert "Totals for the 1 analyses" in failed and "<strong>50</strong> input tokens" in failed


def test_changelist_query_count_is_the_same_for_1_and_50(client, staff_user):
    client.force_login(staff_user)
    make(1)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    make(49)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get(URL).status_code == 200
    assert len(one) == len(fifty)


def test_reanalyse_action_runs_claude_for_the_selected(client, staff_user, fake, acme):
    client.force_login(staff_user)
    article = ArticleFactory(tickers=[acme])
    ArticleAnalysis.objects.create(
        article=article, kind="ai", status="failed", failure_reason="x", analysed_at=timezone.now()
    )
    fake.replies = [json_reply(fixture("record_analysis_ok.json"))]
    pk = ArticleAnalysis.objects.get().pk
    response = client.post(
        URL, {"action": "reanalyse_selected", "_selected_action": [pk]}, follow=True
    )
    assert "Re-analysis: analysed 1, failed 0" in response.content.decode()
    assert ArticleAnalysis.objects.get().status == "analysed"


def test_reanalyse_action_is_bounded(client, staff_user, settings):
    settings.ANTHROPIC_API_KEY = ""
    client.force_login(staff_user)
    make(11, kind="offline")
    ids = list(ArticleAnalysis.objects.values_list("pk", flat=True))
    response = client.post(
        URL, {"action": "reanalyse_selected", "_selected_action": ids}, follow=True
    )
    assert "Select at most 10 articles" in response.content.decode()
