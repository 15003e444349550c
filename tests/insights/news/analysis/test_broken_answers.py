"""Broken Claude answers and a hanging API cost one article, not the run (issue 20 §3).

The real anthropic SDK talks to the local fake Messages API on 127.0.0.1.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import call_command

from insights.news.analysis.services import news_analyse
from insights.news.models import ArticleAnalysis
from qunex.models import JobRun
from tests.insights.news.analysis.factories import ArticleFactory
from tests.insights.news.analysis.fake_anthropic import (
    Reply,
    error_reply,
    fixture,
    json_reply,
    raw_reply,
    tool_reply,
)

pytestmark = pytest.mark.django_db

OK = fixture("record_analysis_ok.json")
GOOD_INPUT = OK["content"][0]["input"]

BROKEN = {
    "not JSON": (raw_reply(b'{"id": "msg_1", "content": [tr'), "the body is not valid JSON"),
    "text/plain": (raw_reply(b"upstream says hello", "text/plain"), "text, not a message"),
    "{}": (raw_reply(b"{}"), "the message has no content"),
    "JSON array": (raw_reply(b"[1, 2]"), "list, not a message"),
    "content null": (json_reply({**OK, "content": None}), "the message has no content"),
}


def _articles(n: int, acme) -> list:
    """n articles, the newest first (the order the run takes them)."""
    return [ArticleFactory(tickers=[acme], published_at=_ago(i)) for i in range(n)]


def _ago(hours: int):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(hours=hours + 1)


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_answer_fails_that_article_and_the_run_goes_on(fake, acme, capsys, kind):
    reply, reason = BROKEN[kind]
    broken, fine = _articles(2, acme)
    fake.replies = [reply, reply, json_reply(OK)]  # both attempts of the first article

    call_command("analyze_news")  # exits 0: a partial run

    failed = ArticleAnalysis.objects.get(article=broken)
    assert failed.status == "failed" and failed.sentiment is None and failed.label == ""
    assert f"attempt 1: invalid answer: {reason}" in failed.failure_reason
    assert f"attempt 2: invalid answer: {reason}" in failed.failure_reason
    assert failed.failure_retryable  # a glitch of the API: the next run tries again
    assert ArticleAnalysis.objects.get(article=fine).status == "analysed"
    run = JobRun.objects.get(command="analyze_news")
    assert run.status == "partial" and run.counts == {"analysed": 1, "failed": 1}
    assert "analyze_news: partial" in capsys.readouterr().out


def test_every_kind_of_broken_answer_in_one_run(fake, acme):
    articles = _articles(2 * len(BROKEN), acme)
    replies = []
    for reply, _ in BROKEN.values():
        replies += [reply, reply, json_reply(OK)]  # a success between keeps the run going
    fake.replies = replies

    result = news_analyse()

    assert (result.analysed, result.failed, result.aborted) == (len(BROKEN), len(BROKEN), "")
    statuses = [ArticleAnalysis.objects.get(article=a).status for a in articles]
    assert statuses == ["failed", "analysed"] * len(BROKEN)


@pytest.mark.parametrize(
    ("tool_input", "where"),
    [
        ({**GOOD_INPUT, "sentiment": float("nan")}, "schema: sentiment: not a finite number"),
        (
            {
                **GOOD_INPUT,
                "tickers": [{"symbol": "ACME", "sentiment": float("nan"), "reason": "x"}],
            },
            "schema: tickers/0/sentiment: not a finite number",
        ),
        ({**GOOD_INPUT, "sentiment": float("inf")}, "sentiment"),
        ({**GOOD_INPUT, "sentiment": float("-inf")}, "sentiment"),
    ],
)
def test_non_finite_sentiment_is_rejected(fake, acme, tool_input, where):
    article = ArticleFactory(tickers=[acme])
    # json.dumps writes NaN / Infinity, as a broken upstream would; Python's json reads them.
    message = json.loads(json.dumps(OK))
    message["content"][0]["input"] = tool_input
    body = json.dumps(message).encode()
    assert b"NaN" in body or b"Infinity" in body
    fake.default = raw_reply(body)

    result = news_analyse()

    a = ArticleAnalysis.objects.get(article=article)
    assert (result.analysed, result.failed) == (0, 1)
    assert a.status == "failed" and a.sentiment is None
    assert "invalid output" in a.failure_reason and where in a.failure_reason
    assert not a.ticker_sentiments.exists()


def test_a_hanging_api_costs_one_article_its_deadline_not_minutes(fake, acme, settings):
    settings.ANTHROPIC_TIMEOUT = 60  # the SDK would wait a minute per request
    settings.ANTHROPIC_MAX_RETRIES = 2
    settings.NEWS_ANALYSIS_ARTICLE_SECONDS = 2
    article = ArticleFactory(tickers=[acme])
    fake.default = Reply(hang=True)

    started = time.monotonic()
    result = news_analyse()
    elapsed = time.monotonic() - started

    assert elapsed < 4
    assert result.failed == 1
    a = ArticleAnalysis.objects.get(article=article)
    assert a.status == "failed" and a.failure_retryable
    assert "timeout" in a.failure_reason and a.attempts == 1


def test_the_run_stops_starting_articles_at_its_deadline(fake, acme, settings):
    settings.ANTHROPIC_TIMEOUT = 60
    settings.NEWS_ANALYSIS_ARTICLE_SECONDS = 1.5
    settings.NEWS_ANALYSIS_RUN_SECONDS = 3
    _articles(3, acme)
    fake.default = Reply(hang=True)

    started = time.monotonic()
    result = news_analyse()
    elapsed = time.monotonic() - started

    # Article 1 uses its 1.5 s, article 2 the run's last 1.5 s; article 3 waits.
    assert elapsed < 4.5
    assert (result.failed, result.left_by_deadline, result.aborted) == (2, 1, "")
    assert ArticleAnalysis.objects.count() == 2
    assert "run deadline of 3 s reached, 1 left for the next run" in result.note()
    assert result.counts() == {"analysed": 0, "failed": 2, "left_by_deadline": 1}


def test_a_retry_after_past_the_deadline_is_not_waited_for(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 2
    settings.NEWS_ANALYSIS_ARTICLE_SECONDS = 30
    article = ArticleFactory(tickers=[acme])
    fake.default = error_reply(429, "rate_limit_error", "slow down", **{"retry-after": "3600"})

    started = time.monotonic()
    news_analyse()

    assert time.monotonic() - started < 2
    a = ArticleAnalysis.objects.get(article=article)
    assert "a retry in 3600 s would pass the article's deadline" in a.failure_reason
    assert len(fake.requests) == 2  # one request per attempt, no hour-long wait between


def test_short_quotes_are_not_evidence_and_evidence_is_the_articles_own_sentence(fake, acme):
    article = ArticleFactory(tickers=[acme])
    recased = {
        **GOOD_INPUT,
        "evidence": [
            'CHIEF EXECUTIVE JANE ROE SAID DEMAND FOR "CONNECTED WIDGETS" EXCEEDED',
            "raised its",  # two words: not evidence, dropped
        ],
    }
    fake.replies = [tool_reply(recased)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert a.status == "analysed"
    assert a.evidence == [
        "Chief executive Jane Roe said demand for \u201cconnected widgets\u201d exceeded "
        "expectations."
    ]


def test_only_short_quotes_fail_the_attempt(fake, acme):
    article = ArticleFactory(tickers=[acme])
    short = {**GOOD_INPUT, "evidence": ["outlook", "The company raised"]}
    fake.replies = [tool_reply(short), tool_reply(short)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert a.status == "failed"
    assert "evidence: no quote of at least 4 words" in a.failure_reason
