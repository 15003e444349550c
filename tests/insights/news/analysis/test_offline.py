"""The offline word-list analyser on hand-checked sentences, and its storage."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from insights.news.analysis.offline import offline_sentiment
from insights.news.analysis.services import news_analyse
from insights.news.models import ArticleAnalysis
from tests.factories import TickerFactory
from tests.insights.news.analysis.factories import ArticleFactory


@pytest.mark.parametrize(
    ("text", "pos", "neg", "score", "label"),
    [
        # strong(+) growth(+) exceeded(+): (3 - 0) / 3 = 1
        ("Strong growth exceeded forecasts.", 3, 0, 1.0, "very_positive"),
        # loss(-) lawsuit(-) downgrade(-) weak(-): -4 / 4
        ("A loss, a lawsuit, a downgrade and weak guidance.", 0, 4, -1.0, "very_negative"),
        # profit(+) rose(+) strong(+) uncertain(-): (3 - 1) / 4 = 0.5
        ("Profit rose, sales were strong, but the outlook is uncertain.", 3, 1, 0.5, "positive"),
        # "not miss" flips to positive; fell(-) weak(-): (1 - 2) / 3 = -0.3333
        (
            "Acme did not miss estimates but revenue fell and guidance was weak.",
            1,
            2,
            -0.3333,
            "negative",
        ),
        # "not profitable": a negated positive counts negative: -1 / 1
        ("The unit is not profitable.", 0, 1, -1.0, "very_negative"),
        # "no ... layoffs" (negator two words before) flips to positive: 1 / 1
        ("There will be no further layoffs.", 1, 0, 1.0, "very_positive"),
        # "didn't improve" within three words: negative; "gains" later is positive: 0 / 2
        ("Margins didn't really improve despite gains.", 1, 1, 0.0, "neutral"),
        # negator four words before "improved": not negated
        ("No change was made; margins improved.", 1, 0, 1.0, "very_positive"),
        # no sentiment word at all: 0, not a division by zero
        ("The Federal Reserve met on Tuesday.", 0, 0, 0.0, "neutral"),
        # curly apostrophe in a negator is understood
        ("Results weren\u2019t strong.", 0, 1, -1.0, "very_negative"),
    ],
)
def test_offline_sentiment_hand_checked(text, pos, neg, score, label):
    result = offline_sentiment(text)
    assert (result.positive, result.negative) == (pos, neg)
    assert result.sentiment == pytest.approx(score, abs=1e-4)
    assert result.label == label


@pytest.mark.django_db
def test_without_key_the_command_runs_offline_and_says_so(settings, capsys):
    settings.ANTHROPIC_API_KEY = ""
    acme, beta = TickerFactory(symbol="ACME"), TickerFactory(symbol="BETA")
    article = ArticleFactory(
        title="Acme profit falls",
        description="Acme warned of weak demand.",
        content="",
        tickers=[acme, beta],
    )
    call_command("analyze_news")
    out = capsys.readouterr().out
    assert "analysed 1" in out and "offline word-list analysis (no Claude)" in out
    a = ArticleAnalysis.objects.get(article=article)
    # profit(+) falls(-) warned(-) weak(-): (1 - 3) / (1 + 3) = -0.5
    assert (a.kind, a.status, a.label) == ("offline", "analysed", "negative")
    assert a.sentiment == pytest.approx(-0.5)
    assert a.summary == "" and a.impact is None and a.evidence == [] and a.cost_usd == 0
    per_ticker = sorted(a.ticker_sentiments.values_list("ticker__symbol", "sentiment"))
    assert per_ticker == [("ACME", a.sentiment), ("BETA", a.sentiment)]
    call_command("analyze_news")
    assert "analysed 0" in capsys.readouterr().out


@pytest.mark.django_db
def test_offline_never_replaces_an_ai_analysis(settings):
    settings.ANTHROPIC_API_KEY = ""
    article = ArticleFactory()
    news_analyse(offline=True)
    ArticleAnalysis.objects.filter(article=article).update(kind="ai")
    assert news_analyse(offline=True, reanalyse=True).selected == 0


@pytest.mark.parametrize("raw", ["abc", "-1", "NaN"])
def test_bad_usd_setting_fails_loudly_naming_the_variable(raw):
    from django.core.exceptions import ImproperlyConfigured

    from qunex.settings import _usd

    with pytest.raises(ImproperlyConfigured, match="NEWS_ANALYSIS_MAX_COST_USD"):
        _usd("NEWS_ANALYSIS_MAX_COST_USD", raw)
