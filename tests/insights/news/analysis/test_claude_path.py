"""The Claude path through the real anthropic SDK against a local fake Messages API.

Every scenario ends with the article "analysed" or "analysis failed" with its reason; a
failed analysis never carries a sentiment, label or summary (no defaults).
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from insights.news.analysis.claude import PROMPT_VERSION, SYSTEM_PROMPT
from insights.news.analysis.services import news_analyse
from insights.news.models import ArticleAnalysis, TickerSentiment
from qunex.models import JobRun
from tests.insights.news.analysis.factories import ArticleFactory
from tests.insights.news.analysis.fake_anthropic import (
    Reply,
    error_reply,
    fixture,
    json_reply,
    tool_reply,
)

pytestmark = pytest.mark.django_db

OK = fixture("record_analysis_ok.json")
GOOD_INPUT = OK["content"][0]["input"]
# 1000 input x $3 + 200 output x $15 + 800 cache-read x $0.30, per million tokens.
OK_COST = Decimal("0.006240")


def assert_failed_without_defaults(analysis: ArticleAnalysis, reason_part: str) -> None:
    assert analysis.status == "failed"
    assert analysis.kind == "ai"
    assert reason_part in analysis.failure_reason
    assert analysis.sentiment is None and analysis.label == "" and analysis.impact is None
    assert analysis.summary == "" and analysis.evidence == [] and analysis.key_points == []
    assert not analysis.ticker_sentiments.exists()
    assert analysis.attempts == 2


def test_success_stores_validated_analysis_with_usage_and_cost(fake, acme):
    article = ArticleFactory(tickers=[acme])
    fake.replies = [json_reply(OK)]
    result = news_analyse()
    assert (result.analysed, result.failed) == (1, 0)
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.kind, a.status, a.label, a.impact) == ("ai", "analysed", "positive", 3)
    assert a.sentiment == pytest.approx(0.55)
    assert a.model == "claude-sonnet-4-6"
    assert a.prompt_version == PROMPT_VERSION
    assert (a.input_tokens, a.output_tokens, a.cache_read_tokens) == (1000, 200, 800)
    assert a.cost_usd == OK_COST
    assert a.attempts == 1
    assert len(a.evidence) == 2
    # ZZZZ is unknown to Qunex: dropped, and the drop is noted.
    ts = list(TickerSentiment.objects.filter(analysis=a).values_list("ticker__symbol", "sentiment"))
    assert ts == [("ACME", 0.6)]
    assert a.dropped_tickers == ["ZZZZ"]
    assert a.key_points == GOOD_INPUT["key_points"]
    # The request: forced tool, cached system prompt, the article's text, the model.
    sent = fake.requests[0]["json"]
    assert fake.requests[0]["path"] == "/v1/messages"
    assert sent["model"] == "claude-sonnet-4-6"
    assert sent["tool_choice"] == {"type": "tool", "name": "record_analysis"}
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["system"][0]["text"] == SYSTEM_PROMPT
    assert article.content in sent["messages"][0]["content"]
    assert "Linked tickers: ACME" in sent["messages"][0]["content"]


def test_schema_failure_is_retried_once_then_failed(fake, acme):
    article = ArticleFactory(tickers=[acme])
    bad = {**GOOD_INPUT, "impact": 9}
    fake.replies = [tool_reply(bad), tool_reply(bad)]
    result = news_analyse()
    assert (result.analysed, result.failed) == (0, 1)
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "schema: impact: 9 is greater than the maximum of 5")
    assert "attempt 2" in a.failure_reason
    # Tokens of both failed attempts are still counted.
    assert a.input_tokens == 2000 and a.cost_usd == 2 * OK_COST


def test_schema_failure_then_success_on_retry(fake, acme):
    article = ArticleFactory(tickers=[acme])
    fake.replies = [tool_reply({**GOOD_INPUT, "label": "very_positive"}), json_reply(OK)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.status, a.attempts, a.cost_usd) == ("analysed", 2, 2 * OK_COST)


def test_quote_not_in_article_fails(fake, acme):
    article = ArticleFactory(tickers=[acme])
    invented = {**GOOD_INPUT, "evidence": ["Acme shares doubled in after-hours trading."]}
    fake.replies = [tool_reply(invented), tool_reply(invented)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "evidence/0: quote not found in the article text")


def test_label_inconsistent_with_sentiment_fails(fake, acme):
    article = ArticleFactory(tickers=[acme])
    wrong = {**GOOD_INPUT, "sentiment": -0.7}
    fake.replies = [tool_reply(wrong), tool_reply(wrong)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "does not match sentiment -0.70")


def test_refusal_and_missing_tool_use_fail(fake, acme):
    article = ArticleFactory(tickers=[acme])
    refusal = {**OK, "stop_reason": "refusal", "content": []}
    text_only = {**OK, "stop_reason": "end_turn", "content": [{"type": "text", "text": "Hi"}]}
    fake.replies = [json_reply(refusal), json_reply(text_only)]
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "attempt 1: refusal")
    assert "attempt 2: no record_analysis tool call" in a.failure_reason


def test_429_with_retry_after_is_honoured_then_succeeds(fake, acme):
    article = ArticleFactory(tickers=[acme])
    fake.replies = [
        error_reply(429, "rate_limit_error", "slow down", **{"retry-after": "1"}),
        json_reply(OK),
    ]
    started = time.monotonic()
    news_analyse()
    assert time.monotonic() - started >= 0.95  # the SDK waited the second it was told
    assert len(fake.requests) == 2  # and retried by itself
    assert ArticleAnalysis.objects.get(article=article).status == "analysed"


def test_persistent_429_ends_failed_with_reason(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    article = ArticleFactory(tickers=[acme])
    fake.default = error_reply(429, "rate_limit_error", "slow down", **{"retry-after": "1"})
    with pytest.raises(CommandError, match="rate limited"):
        call_command("analyze_news")
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "rate limited (429): rate_limit_error: slow down")
    assert JobRun.objects.get(command="analyze_news").status == "failed"


def test_529_overloaded_ends_failed(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    article = ArticleFactory(tickers=[acme])
    fake.default = error_reply(529, "overloaded_error", "Overloaded")
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "API error 529: overloaded_error: Overloaded")
    assert len(fake.requests) == 2  # one retry of ours


def test_529_then_success_through_sdk_retry(fake, acme):
    article = ArticleFactory(tickers=[acme])
    fake.replies = [
        error_reply(529, "overloaded_error", "Overloaded", **{"retry-after-ms": "10"}),
        json_reply(OK),
    ]
    news_analyse()
    assert ArticleAnalysis.objects.get(article=article).status == "analysed"


def test_timeout_ends_failed(fake, acme, settings):
    settings.ANTHROPIC_TIMEOUT = 0.3
    settings.ANTHROPIC_MAX_RETRIES = 0
    article = ArticleFactory(tickers=[acme])
    fake.default = Reply(200, b"{}", {"content-type": "application/json"}, delay=0.8)
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "timeout")


def test_authentication_error_stops_the_run_and_stores_nothing(fake, acme):
    ArticleFactory(tickers=[acme])
    ArticleFactory(tickers=[acme])
    fake.default = error_reply(401, "authentication_error", "invalid x-api-key")
    with pytest.raises(CommandError, match="authentication"):
        call_command("analyze_news")
    assert len(fake.requests) == 1
    assert not ArticleAnalysis.objects.exists()


def test_spending_cap_stops_the_run(fake, acme, settings):
    # Each answer costs $0.00624; a cap of $0.01 allows two articles, the third is left.
    settings.NEWS_ANALYSIS_MAX_COST_USD = "0.01"
    for _ in range(3):
        ArticleFactory(tickers=[acme])
    fake.default = json_reply(OK)
    result = news_analyse()
    assert (result.analysed, result.left_by_cap, result.cap_reached) == (2, 1, True)
    assert ArticleAnalysis.objects.count() == 2
    assert "spending cap $0.01 reached, 1 left" in result.note()


def test_command_is_idempotent_and_dry_run_writes_nothing(fake, acme, capsys):
    ArticleFactory(tickers=[acme])
    ArticleFactory(tickers=[acme])
    fake.default = json_reply(OK)
    call_command("analyze_news", "--dry-run")
    assert "would_analyse 2" in capsys.readouterr().out
    assert not ArticleAnalysis.objects.exists() and fake.requests == []
    call_command("analyze_news")
    out = capsys.readouterr().out
    assert "analysed 2" in out and "Claude claude-sonnet-4-6" in out
    call_command("analyze_news")
    assert "analysed 0" in capsys.readouterr().out
    assert len(fake.requests) == 2


def test_ai_analysis_replaces_offline_and_reanalyse_redoes_failed(fake, acme):
    article = ArticleFactory(tickers=[acme])
    news_analyse(offline=True)
    assert ArticleAnalysis.objects.get(article=article).kind == "offline"
    fake.replies = [json_reply(OK)]
    assert news_analyse().analysed == 1
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.kind, a.status, a.prompt_version) == ("ai", "analysed", PROMPT_VERSION)
    fake.replies = [error_reply(400, "invalid_request_error", "bad")] * 2
    assert news_analyse(reanalyse=True).failed == 1
    a = ArticleAnalysis.objects.get(article=article)
    assert_failed_without_defaults(a, "API error 400")
    fake.replies = [json_reply(OK)]
    assert news_analyse().selected == 0  # failed ones wait for --reanalyse
    result = news_analyse(reanalyse=True)
    a = ArticleAnalysis.objects.get(article=article)
    assert (result.analysed, a.kind, a.status, a.failure_reason) == (1, "ai", "analysed", "")


def test_claude_failure_keeps_the_offline_analysis_and_records_why(fake, acme):
    article = ArticleFactory(tickers=[acme])
    news_analyse(offline=True)
    offline = ArticleAnalysis.objects.get(article=article)
    assert offline.sentiment is not None and offline.label
    fake.replies = [error_reply(400, "invalid_request_error", "bad")] * 2
    result = news_analyse()
    assert (result.analysed, result.failed) == (0, 1)
    a = ArticleAnalysis.objects.get(article=article)
    # The offline sentiment and its ticker sentiment stay; the failure is noted on it.
    assert (a.pk, a.kind, a.status) == (offline.pk, "offline", "analysed")
    assert (a.sentiment, a.label) == (offline.sentiment, offline.label)
    assert list(a.ticker_sentiments.values_list("sentiment", flat=True)) == [a.sentiment]
    assert a.failure_reason.startswith("Claude analysis failed, offline analysis kept: attempt 1")
    assert "API error 400" in a.failure_reason and not a.failure_retryable
    # Not retried by the next run (a non-transient failure), only with --reanalyse.
    fake.replies = [json_reply(OK)]
    assert news_analyse().selected == 0
    assert news_analyse(reanalyse=True).analysed == 1
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.kind, a.status, a.failure_reason) == ("ai", "analysed", "")


def test_transient_failure_on_an_offline_analysis_is_retried_by_the_next_run(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    article = ArticleFactory(tickers=[acme])
    news_analyse(offline=True)
    fake.replies = [error_reply(529, "overloaded_error", "Overloaded")] * 2
    news_analyse()
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.kind, a.status, a.failure_retryable) == ("offline", "analysed", True)
    fake.replies = [json_reply(OK)]
    assert news_analyse().analysed == 1
    assert ArticleAnalysis.objects.get(article=article).kind == "ai"


def test_transient_failure_is_retried_by_the_next_run(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    article = ArticleFactory(tickers=[acme])
    fake.replies = [error_reply(529, "overloaded_error", "Overloaded")] * 2
    news_analyse()
    failed = ArticleAnalysis.objects.get(article=article)
    assert failed.status == "failed" and failed.failure_retryable
    fake.replies = [json_reply(OK)]
    assert news_analyse().analysed == 1  # no --reanalyse needed
    a = ArticleAnalysis.objects.get(article=article)
    assert (a.status, a.failure_retryable, a.failure_reason) == ("analysed", False, "")


def test_invalid_output_is_not_retried_by_the_next_run(fake, acme):
    ArticleFactory(tickers=[acme])
    fake.default = tool_reply({**GOOD_INPUT, "impact": 0})
    news_analyse()
    assert not ArticleAnalysis.objects.get().failure_retryable
    assert news_analyse().selected == 0


def test_run_stops_after_three_articles_in_a_row_fail_on_the_api(fake, acme, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    for _ in range(5):
        ArticleFactory(tickers=[acme])
    fake.default = error_reply(503, "api_error", "Service unavailable")
    with pytest.raises(CommandError, match="the API failed 3 articles in a row"):
        call_command("analyze_news")
    assert ArticleAnalysis.objects.filter(status="failed").count() == 3
    assert len(fake.requests) == 6


def test_unknown_model_stops_the_run(fake, acme):
    ArticleFactory(tickers=[acme])
    fake.default = error_reply(404, "not_found_error", "model: claude-nope")
    result = news_analyse()
    assert result.aborted.startswith("not found (model claude-sonnet-4-6?)")
    assert result.whole_run_failed and not ArticleAnalysis.objects.exists()


def test_some_failures_among_successes_is_a_partial_run_that_exits_zero(fake, acme, capsys):
    ArticleFactory(tickers=[acme])
    ArticleFactory(tickers=[acme])
    bad = tool_reply({**GOOD_INPUT, "summary": ""})
    fake.replies = [json_reply(OK), bad, bad]
    call_command("analyze_news")
    out = capsys.readouterr().out
    assert "analyze_news: partial" in out and "analysed 1, failed 1" in out
    failed = ArticleAnalysis.objects.get(status="failed")
    assert "schema: summary: '' should be non-empty" in failed.failure_reason
