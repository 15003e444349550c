"""The "AI score" backtest strategy: registered, long at or above the threshold, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.engine import Bars
from backtests.strategies import compute_signal, get_strategy
from insights.scores.strategy import scores_column
from tests.insights.scores.factories import make_scores


def _bars(scores: list[float]) -> Bars:
    n = len(scores)
    close = np.linspace(100, 110, n)
    df = pd.DataFrame(
        {
            "Open": close,
            "High": close,
            "Low": close,
            "Close": close,
            "Volume": 1.0,
            "ai_score": scores,
        },
        index=pd.bdate_range("2024-01-01", periods=n),
    )
    return Bars.from_frame(df)


def test_registered_with_a_threshold_parameter():
    spec = get_strategy("ai_score")
    assert spec.label == "AI score"
    assert [p.name for p in spec.params] == ["threshold"]


def test_long_while_the_stored_score_is_at_or_above_the_threshold():
    bars = _bars([9, 9, 7, 8, np.nan, 10, 3])
    signal = compute_signal(bars, "ai_score", {"threshold": 8}, allow_short=False)
    assert signal.target.tolist() == [0, 1, 0, 1, 0, 1, 0]


def test_never_looks_ahead():
    rng = np.random.default_rng(2)
    scores = rng.integers(1, 11, 300).astype(float)
    k = 200
    changed = scores.copy()
    changed[k + 1 :] = changed[k + 1 :][::-1]
    for threshold in (3, 8):
        a = compute_signal(_bars(list(scores)), "ai_score", {"threshold": threshold}, False).target
        b = compute_signal(_bars(list(changed)), "ai_score", {"threshold": threshold}, False).target
        assert a[: k + 1].tolist() == b[: k + 1].tolist()


def test_without_stored_scores_it_stays_flat():
    df = pd.DataFrame(
        {"Open": [1.0, 2.0], "High": [1.0, 2.0], "Low": [1.0, 2.0], "Close": [1.0, 2.0]},
        index=pd.bdate_range("2024-01-01", periods=2),
    )
    signal = compute_signal(Bars.from_frame(df), "ai_score", {"threshold": 8}, False)
    assert signal.target.tolist() == [0, 0]


@pytest.mark.django_db
def test_scores_column_aligns_stored_scores_to_the_bars():
    from markets.models import Ticker

    make_scores(3)
    t = Ticker.objects.get(symbol="Q002")
    index = pd.bdate_range("2024-02-28", "2024-03-04")
    column = scores_column(ticker_id=t.pk, index=index)
    assert np.isnan(column[:2]).all() and column[2] == 3.0 and np.isnan(column[3:]).all()


@pytest.mark.django_db
def test_a_backtest_job_reads_the_stored_scores_through_the_column_registry():
    """The whole job path: bars from the database, the stored AI scores as the `ai_score`
    column, the engine. Long from the bar after the first day scored >= 8, out after the
    first day scored below it."""
    from backtests import runner
    from insights.scores.models import AIScore
    from tests.backtests.factories import BacktestFactory, business_days, seed_bars
    from tests.insights.scores.factories import make_version

    ticker = seed_bars("AIS", n=40)
    days = business_days(BacktestFactory.start, 40)
    version = make_version()
    for i, day in enumerate(days[10:20]):
        AIScore.objects.create(
            ticker=ticker,
            date=day,
            score=9 if i < 5 else 3,
            label="x",
            predicted_excess_return=0.0,
            baseline=0.0,
            contributions=[],
            model_version=version,
        )
    job = BacktestFactory(ticker=ticker, strategy="ai_score", params={"threshold": 8}, end=days[-1])
    output = runner.execute(job)
    trades = output.result["trades"]
    assert len(trades) == 1
    # Scored 9 on bars 10..14: the target turns long at bar 10's close, filled at bar 11's open;
    # the score drops at bar 15, so the position is closed at bar 16's open.
    assert trades[0]["entry_time"].startswith(str(days[11]))
    assert trades[0]["exit_time"].startswith(str(days[16]))
