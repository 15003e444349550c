"""AI-score pages and panels: content, empty states, marks for the user, query budgets."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.scores import selectors
from insights.scores.models import AIScore, ModelVersion
from markets.models import Ticker
from tests.insights.scores.factories import make_scores, make_version
from tests.portfolios.factories import (
    PortfolioFactory,
    TransactionFactory,
    WatchlistFactory,
    WatchlistItemFactory,
)

pytestmark = pytest.mark.django_db


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def _mark_user(user, symbols: list[str]) -> None:
    watchlist = WatchlistFactory(owner=user)
    portfolio = PortfolioFactory(owner=user)
    for s in symbols:
        t = Ticker.objects.get(symbol=s)
        WatchlistItemFactory(watchlist=watchlist, ticker=t)
        TransactionFactory(portfolio=portfolio, ticker=t)


def test_scores_page_costs_the_same_for_1_and_50_tickers(auth_client, user):
    # Signed in: 1 session, 2 user, 3 the latest scores + ticker + model (date subquery),
    # 4 watchlist symbols, 5 the holdings' transactions, 6 the sectors, 7 the promoted model.
    auth_client.get("/health")
    counts = []
    for n in (1, 50):
        AIScore.objects.all().delete()
        ModelVersion.objects.all().delete()
        make_scores(n, prefix=f"N{n}")
        _mark_user(user, [f"N{n}000"])
        counts.append(_count(auth_client, "/ai-scores/"))
    assert counts == [7, 7]


def test_scores_page_ranks_filters_and_marks_mine(auth_client, user):
    make_scores(20)
    _mark_user(user, ["Q009"])
    TransactionFactory(
        portfolio=PortfolioFactory(owner=user),
        ticker=Ticker.objects.get(symbol="Q019"),
        type="sell",
        quantity=10,
    )  # Q019 bought nowhere else: sold short in a new portfolio -> not "held"
    page = auth_client.get("/ai-scores/").content.decode()
    assert page.index("Q009") < page.index("Q000")  # score 10 before score 1
    assert "watching" in page and ">held<" in page
    assert page.count(">held<") == 1
    only = auth_client.get("/ai-scores/", {"min_score": 9, "sector": "Health Care"})
    shown = [i["s"] for i in only.context["items"]]
    assert shown and all(s.score >= 9 and s.ticker.sector == "Health Care" for s in shown)
    bad = auth_client.get("/ai-scores/", {"min_score": "eleven"})
    assert bad.status_code == 200 and "Minimum score must be" in bad.content.decode()
    assert auth_client.get("/ai-scores/", {"min_score": "9\x00"}).status_code == 400


def test_scores_page_empty_state_says_when_and_only_staff_how(client, staff_user):
    page = client.get("/ai-scores/").content.decode()
    assert "No AI scores yet" in page and "after every market close" in page
    assert "retrain_model" not in page
    client.force_login(staff_user)
    assert "retrain_model" in client.get("/ai-scores/").content.decode()


def test_demo_scores_say_demo_data(client):
    version = make_version(promoted=True, is_demo=True)
    make_scores(3, version=version)
    AIScore.objects.update(is_demo=True)
    page = client.get("/ai-scores/").content.decode()
    assert "Demo data" in page
    card = client.get(f"/ai-scores/models/{version.pk}/").content.decode()
    assert "Demo data" in card and "synthetic demo prices" in card


def test_stock_card_shows_score_words_and_history(client):
    version = make_scores(1)
    t = Ticker.objects.get(symbol="Q000")
    for i, day in enumerate([date(2024, 2, 28), date(2024, 2, 29)]):
        AIScore.objects.create(
            ticker=t,
            date=day,
            score=5 + i,
            label="Hold",
            predicted_excess_return=0.0,
            baseline=0.0,
            contributions=[],
            model_version=version,
        )
    page = client.get("/stocks/Q000/").content.decode()
    assert "AI score" in page and "raised the forecast" in page
    assert "<polyline" in page and "3 sessions" in page
    empty = Ticker.objects.create(symbol="NOAI")
    assert "has no AI score yet" in client.get(f"/stocks/{empty.symbol}/").content.decode()


def test_model_card_shows_metrics_next_to_baseline(client):
    version = make_version(
        metrics={
            "rank_ic_mean": 0.0312,
            "rank_ic_tstat": 2.5,
            "hit_rate": 0.52,
            "decile_spread": 0.011,
            "test_days": 500,
            "independent_days": 25,
        },
        baseline_metrics={
            "rank_ic_mean": 0.0101,
            "rank_ic_tstat": 0.7,
            "hit_rate": 0.5,
            "decile_spread": 0.002,
            "test_days": 500,
            "independent_days": 25,
        },
    )
    page = client.get(f"/ai-scores/models/{version.pk}/").content.decode()
    assert "0.0312" in page and "0.0101" in page and "52.00%" in page and "+1.10%" in page
    assert client.get("/ai-scores/models/999999/").status_code == 404


def _published(day, hours=1):
    """The evening run's time on `day`: `hours` after the 16:00 New York close."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(16), tzinfo=ZoneInfo("America/New_York")) + timedelta(
        hours=hours
    )


def test_track_record_uses_published_scores_from_the_next_open(client):
    from tests.insights.scores.factories import seed_market

    tickers, close = seed_market(n_tickers=10, n_days=60, seed=1)
    version = make_version(promoted=True, last_bar=close.index[5].date())
    backfilled = make_version(last_bar=close.index[-1].date())  # trained on later bars
    day = close.index[10].date()
    AIScore.objects.create(
        ticker=tickers[0],
        date=close.index[11].date(),
        score=1,
        label="Strong sell",
        predicted_excess_return=-1.0,
        baseline=0.0,
        contributions=[],
        model_version=backfilled,
        created_at=_published(close.index[11].date()),
    )
    AIScore.objects.create(  # a backfill stored long after its day: not published then
        ticker=tickers[1],
        date=close.index[12].date(),
        score=10,
        label="Strong buy",
        predicted_excess_return=1.0,
        baseline=0.0,
        contributions=[],
        model_version=version,
        created_at=_published(close.index[12].date(), hours=30),
    )
    for i, t in enumerate(tickers):
        AIScore.objects.create(
            ticker=t,
            date=day,
            score=i + 1,
            label="Hold",
            predicted_excess_return=0.001 * i,
            baseline=0.0,
            contributions=[],
            model_version=version,
            created_at=_published(day),
        )
    record = selectors.track_record()
    from insights.scores.inputs import market_series

    market = market_series(start=None, end=close.index[-1].date())
    k = 10
    # Bought at the next session's open (the factory's open equals its close), sold at the
    # close 20 sessions after the score's day.
    expected = {
        i + 1: close.iloc[k + 20][t.symbol] / close.iloc[k + 1][t.symbol]
        - 1
        - (market.iloc[k + 20] / market.iloc[k + 1] - 1)
        for i, t in enumerate(tickers)
    }
    got = {r["score"]: r["mean"] for r in record["by_score"]}
    assert got == pytest.approx(expected, abs=1e-6)  # closes are stored to 6 decimals
    assert record["in_sample"] == 1 and record["late"] == 1 and record["count"] == 10
    page = client.get("/ai-scores/track-record/").content.decode()
    assert "Calibration" in page and "<rect" in page and "<circle" in page

    # A replace after publication: new revisions become current, the record does not move,
    # and the cache key changed with them (the new rows are read at once).
    from insights.scores.models import AIScore as Score

    newer = make_version(promoted=False, last_bar=close.index[5].date())
    old = list(Score.objects.filter(date=day))
    Score.objects.filter(date=day).update(is_current=False)
    Score.objects.bulk_create(
        Score(
            ticker_id=s.ticker_id,
            date=day,
            score=11 - s.score,
            label="Hold",
            predicted_excess_return=-s.predicted_excess_return,
            baseline=0.0,
            contributions=[],
            model_version=newer,
            revision=2,
        )
        for s in old
    )
    again = selectors.track_record()
    assert {r["score"]: r["mean"] for r in again["by_score"]} == got
    assert again["count"] == 10
    # A score published on time for a new day shows at once (no stale cache).
    Score.objects.create(
        ticker=tickers[2],
        date=close.index[13].date(),
        score=5,
        label="Hold",
        predicted_excess_return=0.0,
        baseline=0.0,
        contributions=[],
        model_version=version,
        created_at=_published(close.index[13].date()),
    )
    assert selectors.track_record()["count"] == 11


def test_track_record_empty_and_pending_states(client):
    assert "No record yet" in client.get("/ai-scores/track-record/").content.decode()
    make_scores(3, day=date.today())
    from tests.factories import DailyBarFactory

    DailyBarFactory(ticker=Ticker.objects.get(symbol="Q000"), date=date.today())
    assert "Too early to judge" in client.get("/ai-scores/track-record/").content.decode()


def test_dashboard_panel_lists_best_and_worst(client):
    make_scores(12)
    page = client.get("/").content.decode()
    assert "ai-dash" in page and "Highest" in page and "Q009" in page


def test_watchlist_and_stock_list_columns(auth_client, user):
    make_scores(3)
    watchlist = WatchlistFactory(owner=user)
    WatchlistItemFactory(watchlist=watchlist, ticker=Ticker.objects.get(symbol="Q002"))
    page = auth_client.get(f"/watchlists/{watchlist.pk}/").content.decode()
    assert "AI score 3/10" in page
    assert "AI score 2/10" in auth_client.get("/stocks/").content.decode()


def test_nav_links_to_ai_scores(client):
    assert 'href="/ai-scores/"' in client.get("/ai-scores/").content.decode()


M = "\u2212"


def test_contributions_list_the_rest_as_other_features_and_add_up_to_the_gap():
    """The issue's case: six listed contributions added to +0.40 while the gap was +0.51.
    Nine features: the six largest are listed, the other three make one line, and the
    rounded figures on the card sum exactly to the rounded total."""
    from insights.scores.views import top_contributions

    values = [0.0012345, -0.0010049, 0.0008, 0.00061, -0.0005, 0.00035, 0.00033, 0.00031, 0.00005]
    items = [{"contribution": v} for v in values]
    shown = top_contributions(items)
    assert len(shown["contributions"]) == 6 and shown["other_count"] == 3
    from qunex.templatetags.numbers import points

    def as_number(text: str) -> float:
        return float(text.replace(M, "-"))

    listed = [as_number(points(c["contribution"])) for c in shown["contributions"]]
    other = as_number(points(shown["other_contribution"]))
    total = as_number(points(shown["contribution_gap"]))
    assert round(sum(listed) + other, 2) == total == 0.22
    assert top_contributions(items[:4])["other_contribution"] is None
    assert top_contributions([])["contribution_gap"] is None


def test_stock_card_shows_other_features_and_the_total(client):
    make_scores(1)
    score = AIScore.objects.get()
    score.contributions = [
        {"feature": f"f{i}", "contribution": c, "words": f"Feature {i} of -3.2% moved it."}
        for i, c in enumerate([0.002, -0.001, 0.0009, 0.0008, 0.0007, 0.0006, 0.0004, 0.0003])
    ]
    score.predicted_excess_return, score.baseline = 0.0047, 0.0
    score.save()
    page = client.get("/stocks/Q000/").content.decode()
    assert "Other features (2) together." in page and "+0.07" in page
    assert "<strong>+0.47</strong>" in page and f"{M}0.10" in page
    assert f"Feature 0 of {M}3.2% moved it." in page and "-3.2%" not in page


def test_dashboard_labels_the_figure_beside_each_score(client):
    make_scores(3)
    page = client.get("/").content.decode()
    assert "+0.30 pts" in page
    assert "forecast return over the market (SPY) in the next 20 sessions" in page


def test_model_card_uses_one_precision_and_a_true_minus(client):
    version = make_version(
        metrics={"rank_ic_mean": -0.0123456, "hit_rate": 0.52, "decile_spread": -0.0312},
        baseline_metrics={"rank_ic_mean": 0.0101},
        folds=[
            {
                "train_end": "2023-01-02",
                "test_start": "2023-02-01",
                "test_end": "2023-03-01",
                "rank_ic_mean": -0.012345,
                "baseline_rank_ic_mean": 0.004567,
            }
        ],
    )
    page = client.get(f"/ai-scores/models/{version.pk}/").content.decode()
    assert f"{M}0.0123" in page and "0.0101" in page and "0.0046" in page
    assert "-0.0123" not in page and "0.012345" not in page
    assert f"{M}3.12%" in page and "52.00%" in page
    assert "0.01000" in page  # coefficient weights: 5 decimals on every row


def test_stock_card_keeps_market_context_apart_and_hides_zero_reasons(client):
    version = make_version(promoted=True)
    t = Ticker.objects.create(symbol="CTX", name="Context Inc.")
    words = "{} of {} {} the forecast by {} percentage points."
    AIScore.objects.create(
        ticker=t,
        date=date(2024, 3, 1),
        score=7,
        label="Buy",
        predicted_excess_return=0.012,
        baseline=0.004,
        contributions=[
            {
                "feature": "ret_60",
                "name": "3-month return",
                "value": 0.1,
                "shown": "+10.0%",
                "contribution": 0.008,
                "words": words.format("3-month return", "+10.0%", "raised", "0.80"),
            },
            {
                "feature": "mkt_vol_20",
                "name": "market volatility (1 month)",
                "value": 0.2,
                "shown": "20.0%",
                "contribution": 0.003,
                "words": "Market volatility stored by an old run.",
            },
            {
                "feature": "rsi_14",
                "name": "RSI (14 days)",
                "value": 50.0,
                "shown": "50.0",
                "contribution": 0.00001,
                "words": words.format("RSI (14 days)", "50.0", "raised", "0.00"),
            },
        ],
        market_context=[
            {
                "feature": "mkt_above_sma200",
                "name": "market above its 200-day average",
                "value": 1.0,
                "shown": "yes",
                "contribution": 0.002,
                "words": "x",
            },
        ],
        model_version=version,
    )
    page = client.get("/stocks/CTX/").content.decode()
    assert "raised the forecast by 0.80 percentage points" in page
    assert "Market volatility stored by an old run" not in page  # never a stock's reason
    assert "by 0.00" not in page  # a contribution that rounds to zero is not listed
    assert "Market context" in page and "does not change the rank" in page
    assert "percentage points of forecast 20-session excess return over SPY" in page
    assert "the average stock that day" in page


def test_model_card_names_its_test_window_and_the_decision(client):
    folds = [
        {"train_end": "2023-01-03", "test_start": "2023-02-01", "test_end": "2023-04-28"},
        {"train_end": "2023-04-03", "test_start": "2023-05-01", "test_end": "2023-07-31"},
    ]
    promoted = make_version(promoted=True, folds=folds, note="no model was promoted")
    page = client.get(f"/ai-scores/models/{promoted.pk}/").content.decode()
    assert "Test window 2023-02-01 \u2013 2023-07-31" in page
    assert "no model was promoted" not in page  # the old rule's wording is gone
    rejected = make_version(
        folds=folds,
        note="not promoted: its rank IC 0.0100 (t 0.50) is not significant (needs t >= 2)",
        comparison={
            "incumbent": promoted.pk,
            "incumbent_metrics": {"rank_ic_mean": 0.02},
            "incumbent_note": f"v{promoted.pk}'s method re-run on these folds",
            "vs_baseline": {"ic_gain": 0.001, "tstat": 0.3},
            "margin": 0.005,
            "min_tstat": 2.0,
        },
    )
    page = client.get(f"/ai-scores/models/{rejected.pk}/").content.decode()
    assert "Not promoted." in page and "Promoted, scoring" not in page
    assert f"Incumbent v{promoted.pk}" in page and "same test days" in page
