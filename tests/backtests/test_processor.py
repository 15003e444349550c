"""`manage.py process_backtests` end to end on the real engine (SQLite / whatever DB is set)."""

from __future__ import annotations

from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from backtests import engine
from backtests.bars import Bars, bars_fingerprint
from backtests.models import Backtest
from backtests.runner import buy_hold_curve
from backtests.selectors import bars_frame
from backtests.services import backtest_enqueue
from qunex.models import JobRun
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("process_backtests", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def enqueue(user, **overrides):
    kwargs = {
        "user": user,
        "ticker": "SPY",
        "start": "2023-01-02",
        "end": "2023-06-30",
        "strategy": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "commission": "0.001",
    }
    return backtest_enqueue(**{**kwargs, **overrides})


def test_success_stores_stats_series_trades_and_fingerprint(user, spy):
    job = enqueue(user)
    out = run()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.attempts == 1 and job.error == "" and job.finished_at is not None
    assert job.engine_version == engine.ENGINE_VERSION

    # The stored result is exactly what the engine computes on the same bars.
    frame, adjusted = bars_frame(ticker_id=spy.pk, start=job.start, end=job.end)
    expected = engine.run_backtest(
        frame, "sma_cross", {"fast": 5, "slow": 20}, config=engine.Config(commission=0.001)
    )
    assert job.bars_fingerprint == bars_fingerprint(frame)
    result = job.result
    assert result["kind"] == "single" and result["bars"] == len(frame) and adjusted is False
    assert result["stats"]["# Trades"] == expected.stats["# Trades"] > 0
    assert result["stats"]["Return [%]"] == pytest.approx(expected.stats["Return [%]"])
    assert len(result["trades"]) == len(expected.trades)
    series = result["series"]
    assert len(series["dates"]) == len(series["equity"]) == len(series["drawdown"]) == len(frame)
    assert series["buy_hold"][0] == pytest.approx(10_000)
    assert series["buy_hold"][-1] == pytest.approx(
        10_000 * frame["Close"].iloc[-1] / frame["Close"].iloc[0], abs=1e-3
    )
    assert "succeeded 1" in out
    run_row = JobRun.objects.get(command="process_backtests")
    assert run_row.status == "succeeded" and run_row.counts == {"succeeded": 1}


def test_adjusted_closes_are_used_when_every_bar_has_one(user, spy):
    spy.bars.update(adj_close=50)  # every close becomes 50: a flat, adjusted series
    job = enqueue(user, strategy="buy_hold", params={})
    run()
    job.refresh_from_db()
    assert job.result["adjusted"] is True
    assert set(job.result["series"]["buy_hold"]) == {10_000.0}


def test_strategy_error_fails_that_job_and_the_processor_goes_on(user, spy, test_strategies):
    bad = enqueue(user, strategy="test_raise", params={"code": 7})
    good = enqueue(user)
    out = run("--retry-delay", "0")
    bad.refresh_from_db()
    good.refresh_from_db()
    assert good.status == "succeeded"
    assert bad.status == "failed" and bad.attempts == 3
    assert bad.error == "RuntimeError: strategy exploded (code 7)"
    assert bad.result is None and bad.bars_fingerprint == ""
    assert "requeued 2" in out and "failed 1" in out and "succeeded 1" in out
    assert JobRun.objects.get(command="process_backtests").status == "partial"


def test_a_raising_job_waits_for_its_retry_delay(user, spy, test_strategies):
    bad = enqueue(user, strategy="test_raise", params={})
    run()  # default retry delay: one attempt per run
    bad.refresh_from_db()
    assert bad.status == "queued" and bad.attempts == 1
    assert bad.error.startswith("Attempt 1 of 3 failed: RuntimeError")
    assert bad.available_at > bad.queued_at


def test_input_error_fails_at_once(user, spy):
    job = BacktestFactory(
        owner=user, ticker=spy, params={"fast": 50, "slow": 20}
    )  # bypassed validation
    run("--retry-delay", "0")
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 1
    assert "Invalid parameters" in job.error and "fast" in job.error


def test_bars_gone_since_enqueue_fails_with_a_clear_message(user, spy):
    job = enqueue(user)
    spy.bars.all().delete()
    run()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "SPY has 0 daily bars between 2023-01-02 and 2023-06-30" in job.error


def test_max_jobs_limits_one_run(user, spy):
    jobs = [enqueue(user) for _ in range(3)]
    run("--max-jobs", "2")
    statuses = sorted(
        Backtest.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True)
    )
    assert statuses == ["queued", "succeeded", "succeeded"]
    run()
    assert set(Backtest.objects.values_list("status", flat=True)) == {"succeeded"}


def test_max_seconds_stops_claiming(user, spy, test_strategies):
    first = enqueue(user, strategy="test_sleep", params={"seconds": 0.3})
    second = enqueue(user)
    run("--max-seconds", "0.2")  # the first job outlasts the budget: the second is left
    assert Backtest.objects.get(pk=first.pk).status == "succeeded"
    assert Backtest.objects.get(pk=second.pk).status == "queued"


def test_only_given_ids(user, spy):
    a, b = enqueue(user), enqueue(user)
    run("--id", str(b.pk))
    assert Backtest.objects.get(pk=a.pk).status == "queued"
    assert Backtest.objects.get(pk=b.pk).status == "succeeded"


def test_nothing_to_do_says_so(db):
    assert "nothing to do" in run()


def test_buy_hold_curve_is_cash_times_close_over_first_close():
    frame = pd.DataFrame(
        {"Open": [1, 2, 4], "High": [2, 3, 5], "Low": [1, 2, 4], "Close": [2.0, 3.0, 5.0]},
        index=pd.bdate_range("2024-01-01", periods=3),
    )
    assert buy_hold_curve(Bars.from_frame(frame), 1000) == [1000.0, 1500.0, 2500.0]


def test_sweep_stores_every_combination_the_best_and_its_full_run(user, spy):
    job = enqueue(user, params={"slow": 20}, sweep={"fast": [3, 5, 8], "slow": [10, 20]})
    run()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    result = job.result
    assert result["kind"] == "sweep" and result["metric"] == "Sharpe Ratio"
    assert result["n_combinations"] == 6 and result["n_skipped"] == 0
    assert sorted((r["params"]["fast"], r["params"]["slow"]) for r in result["rows"]) == [
        (3, 10), (3, 20), (5, 10), (5, 20), (8, 10), (8, 20)
    ]  # fmt: skip
    sharpe = [
        r["stats"]["Sharpe Ratio"] for r in result["rows"] if r["stats"]["Sharpe Ratio"] is not None
    ]
    best = result["best_params"]
    best_row = next(r for r in result["rows"] if r["params"] == best)
    assert best_row["stats"]["Sharpe Ratio"] == max(sharpe)
    # The best combination is also run in full, with series for the charts.
    assert result["best_run"]["params"] == best
    assert result["best_run"]["stats"]["Return [%]"] == pytest.approx(
        best_row["stats"]["Return [%]"]
    )
    assert len(result["best_run"]["series"]["buy_hold"]) == result["bars"]
    assert result["walk_forward"] is None


def test_sweep_skips_combinations_that_break_a_rule(user, spy):
    job = enqueue(user, sweep={"fast": [5, 10, 25], "slow": [10, 20]})
    run()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    # (10, 10), (25, 10), (25, 20) break fast < slow
    assert job.result["n_combinations"] == 3 and job.result["n_skipped"] == 3


def test_walk_forward_reports_in_and_out_of_sample(user, spy):
    job = enqueue(user, sweep={"fast": [3, 5], "slow": [15, 25]}, walk_forward="0.7")
    run()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    wf = job.result["walk_forward"]
    assert wf["in_sample_bars"] == round(job.result["bars"] * 0.7)
    assert wf["in_sample_bars"] + wf["out_of_sample_bars"] == job.result["bars"]
    assert [r["rank"] for r in wf["rows"]] == [1, 2, 3, 4]
    assert set(wf["rows"][0]["in_sample"]) == set(wf["rows"][0]["out_of_sample"])
    assert job.result["best_params"] == wf["rows"][0]["params"]
    assert set(wf["buy_hold"]) == {"in_sample", "out_of_sample"}


def test_a_run_records_its_worker_and_marks_a_killed_earlier_run_abandoned(db):
    from datetime import timedelta

    from django.utils import timezone

    from qunex.models import JobRun

    killed = JobRun.objects.create(
        command="process_backtests",
        arguments={"worker": "gone:1:dead"},
        started_at=timezone.now() - timedelta(hours=1),
    )
    out = run()
    killed.refresh_from_db()
    assert killed.status == "failed" and killed.error.startswith("abandoned:")
    this = JobRun.objects.exclude(pk=killed.pk).get()
    assert this.status == "succeeded" and this.arguments["worker"].count(":") == 2
    assert "abandoned runs 1" in out


def test_bars_arrays_equal_the_stored_decimals_and_dates(spy):
    import numpy as np

    from backtests.selectors import bars_arrays
    from markets.models import DailyBar

    rows = list(DailyBar.objects.filter(ticker=spy).order_by("date"))
    dates, ohlcv, adjusted = bars_arrays(ticker_id=spy.pk, start=rows[0].date, end=rows[-1].date)
    assert adjusted is False and ohlcv.shape == (len(rows), 5)
    assert dates.tolist() == [r.date for r in rows]
    expected = [
        [float(r.open), float(r.high), float(r.low), float(r.close), r.volume] for r in rows
    ]
    np.testing.assert_array_equal(ohlcv, np.array(expected))
    # One day in the middle only:
    day = rows[5].date
    dates, ohlcv, _ = bars_arrays(ticker_id=spy.pk, start=day, end=day)
    assert dates.tolist() == [day] and ohlcv[0, 3] == float(rows[5].close)


def test_bars_arrays_read_dates_before_1970_and_leap_days():
    """Dates travel as day numbers since 1970-01-01: negative before it, exact either side."""
    from datetime import date as day

    from backtests.selectors import bars_arrays
    from markets.models import DailyBar, Ticker

    ticker = Ticker.objects.create(symbol="OLD")
    days = [day(1962, 1, 2), day(1969, 12, 31), day(1970, 1, 1), day(2000, 2, 29), day(2024, 2, 29)]
    DailyBar.objects.bulk_create(
        DailyBar(ticker=ticker, date=d, open=1, high=2, low=1, close=1.5, volume=i)
        for i, d in enumerate(days)
    )
    dates, ohlcv, adjusted = bars_arrays(ticker_id=ticker.pk, start=days[0], end=days[-1])
    assert dates.tolist() == days and adjusted is False
    assert ohlcv[:, 3].tolist() == [1.5] * 5 and ohlcv[:, 4].tolist() == [0, 1, 2, 3, 4]
