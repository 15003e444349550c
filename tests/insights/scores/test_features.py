"""Features on hand-computed series, point-in-time by construction, events aggregated with
missing kept missing."""

from __future__ import annotations

import math
import sys
import types
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from insights.scores import features as F
from insights.scores import inputs
from tests.insights.scores.factories import synthetic_closes


def test_returns_sma_rsi_and_volume_trend_by_hand():
    closes = [10.0] + [10.0 + i for i in range(1, 11)] + [19.0, 18.0, 17.0, 16.0]
    idx = pd.bdate_range("2024-01-01", periods=len(closes))
    close = pd.DataFrame({"A": closes}, index=idx)
    volume = pd.DataFrame({"A": [1000.0] * len(closes)}, index=idx)
    out = F.price_features(close, volume)
    last = idx[-1]
    # ret_5: 16 / the close 5 sessions earlier (19) - 1
    assert out["ret_5"].loc[last, "A"] == pytest.approx(16 / 19 - 1)
    # RSI over the 14 changes: +1 ten times, -1 four times -> 100 - 100 / (1 + 10/4)
    assert out["rsi_14"].loc[last, "A"] == pytest.approx(100 - 100 / (1 + 10 / 4))
    assert math.isnan(out["ret_20"].loc[last, "A"])  # not enough history: missing
    assert math.isnan(out["volume_trend"].loc[last, "A"])


def test_sma_and_52_week_high_and_volatility():
    n = 300
    idx = pd.bdate_range("2023-01-02", periods=n)
    values = np.linspace(100, 130, n)
    values[100] = 200.0  # the 52-week high, 199 sessions before the end
    close = pd.DataFrame({"A": values}, index=idx)
    vol = pd.DataFrame({"A": np.r_[np.full(240, 1000.0), np.full(60, 2000.0)]}, index=idx)
    out = F.price_features(close, vol)
    last = idx[-1]
    assert out["px_sma50"].loc[last, "A"] == pytest.approx(130 / values[-50:].mean() - 1)
    assert out["px_sma200"].loc[last, "A"] == pytest.approx(130 / values[-200:].mean() - 1)
    assert out["dist_52w_high"].loc[last, "A"] == pytest.approx(130 / 200 - 1)
    log_ret = np.diff(np.log(values))[-20:]
    assert out["vol_20"].loc[last, "A"] == pytest.approx(np.std(log_ret, ddof=1) * np.sqrt(252))
    # last 20 sessions all 2000, last 60 all 2000 -> log(1) = 0
    assert out["volume_trend"].loc[last, "A"] == pytest.approx(0.0)
    assert out["volume_trend"].loc[idx[-41], "A"] == pytest.approx(
        np.log(2000 / (1000 * 40 + 2000 * 20) * 60)
    )


def test_nothing_after_d_changes_features_at_d():
    close, volume, market = synthetic_closes(n_tickers=12, n_days=420, seed=5)
    k = 300
    day = close.index[k]
    changed_close, changed_vol, changed_mkt = close.copy(), volume.copy(), market.copy()
    changed_close.iloc[k + 1 :] = changed_close.iloc[k + 1 :].to_numpy()[::-1] * 3.0
    changed_vol.iloc[k + 1 :] = 1.0
    changed_mkt.iloc[k + 1 :] = changed_mkt.iloc[k + 1 :] * 0.5
    a = F.compute_features(close, volume, market=market).xs(day, level="date")
    b = F.compute_features(changed_close, changed_vol, market=changed_mkt).xs(day, level="date")
    pd.testing.assert_frame_equal(a, b)
    assert a[list(F.PRICE_FEATURES)].notna().all().all()


def test_trailing_window_gives_the_full_history_numbers():
    close, volume, market = synthetic_closes(n_tickers=8, n_days=600, seed=9)
    day = close.index[500]
    full = F.compute_features(close, volume, market=market).xs(day, level="date")
    window = F.features_for(day, close, volume, market=market)
    np.testing.assert_allclose(window.to_numpy(), full.to_numpy(), rtol=1e-10, atol=1e-12)


def test_event_windows_keep_missing_missing():
    sessions = pd.bdate_range("2024-01-01", "2024-04-30")
    sentiment = [
        ("A", date(2024, 1, 2), 0.6),
        ("A", date(2024, 1, 4), -0.2),
        ("Z", date(2024, 1, 4), 1.0),
    ]
    insider = [("A", date(2024, 1, 2), 1_000_000.0), ("A", date(2024, 1, 3), -200_000.0)]
    out = F.event_features(sessions, ["A", "B"], sentiment, insider)
    s7, s30, net = out["sentiment_7"], out["sentiment_30"], out["insider_net_90"]
    assert s7.loc["2024-01-08", "A"] == pytest.approx(0.2)  # 2nd..8th: both
    assert s7.loc["2024-01-09", "A"] == pytest.approx(-0.2)  # 3rd..9th: only the 4th
    assert math.isnan(s7.loc["2024-01-11", "A"])  # 5th..11th: none -> missing, not 0
    assert s30.loc["2024-01-11", "A"] == pytest.approx(0.2)
    assert math.isnan(s30.loc["2024-01-11", "B"])  # no news at all: missing
    assert net.loc["2024-01-03", "A"] == pytest.approx(math.log10(1 + 800_000))
    assert net.loc["2024-01-02", "A"] == pytest.approx(math.log10(1 + 1_000_000))
    assert math.isnan(net.loc["2024-04-02", "A"])  # window 4 Jan .. 2 Apr: nothing
    assert math.isnan(net.loc["2024-01-03", "B"])


def test_sources_not_installed_mean_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "insights.news.models", None)
    monkeypatch.setitem(sys.modules, "insights.insiders.selectors", None)
    assert inputs.sentiment_observations(start=date(2024, 1, 1), end=date(2024, 2, 1)) is None
    assert inputs.insider_observations(start=date(2024, 1, 1), end=date(2024, 2, 1)) is None
    sessions = pd.bdate_range("2024-01-01", periods=5)
    out = F.event_features(sessions, ["A"], None, None)
    assert all(frame.isna().all().all() for frame in out.values())


def test_observations_belong_to_the_session_whose_close_follows_them(monkeypatch):
    """Cut at the close in New York: 15:59 belongs to that day, 23:30 UTC (after the 16:00
    close) to the next session, a Friday evening to Monday, a date-only observation to the
    next session, 13:00 on an early close (the day after Thanksgiving) to that day."""
    calls = []
    utc = ZoneInfo("UTC")
    ny = ZoneInfo("America/New_York")

    def net_buying_observations(*, start, end, symbols=None):
        calls.append((start, end, symbols))
        return [
            ("A", datetime(2024, 3, 5, 15, 59, tzinfo=ny), 1.0, None),
            ("A", datetime(2024, 3, 5, 23, 30, tzinfo=utc), 2.0, None),
            ("A", datetime(2024, 3, 8, 18, 0, tzinfo=ny), 3.0, None),
            ("A", date(2024, 3, 12), 4.0, None),
            ("A", datetime(2024, 11, 29, 12, 59, tzinfo=ny), 5.0, None),
            ("A", datetime(2024, 11, 29, 13, 1, tzinfo=ny), 6.0, None),
            ("A", datetime(2024, 3, 5, 12, tzinfo=ny), 7.0, datetime(2024, 3, 7, 20, tzinfo=utc)),
        ]

    monkeypatch.setitem(
        sys.modules,
        "insights.insiders.selectors",
        types.SimpleNamespace(net_buying_observations=net_buying_observations),
    )
    monkeypatch.setattr(inputs, "sentiment_observations", lambda **kwargs: None)
    _, insider = inputs.event_inputs(start=date(2024, 4, 1), end=date(2024, 4, 5), symbols=["A"])
    assert calls[0] == (date(2024, 1, 2), date(2024, 4, 5), ["A"])
    assert insider == [
        ("A", date(2024, 3, 5), 1.0),
        ("A", date(2024, 3, 6), 2.0),
        ("A", date(2024, 3, 11), 3.0),
        ("A", date(2024, 3, 13), 4.0),
        ("A", date(2024, 11, 29), 5.0),
        ("A", date(2024, 12, 2), 6.0),
        ("A", date(2024, 3, 5), 7.0, date(2024, 3, 7)),  # 20:00 UTC is 15:00 in New York
    ]


def test_an_amended_filings_rows_count_until_the_amendment():
    sessions = pd.bdate_range("2024-03-01", "2024-03-29")
    insider = [
        ("A", date(2024, 3, 5), 1_000_000.0, date(2024, 3, 12)),  # the original
        ("A", date(2024, 3, 12), 10_000.0),  # its amendment
    ]
    net = F.event_features(sessions, ["A"], None, insider)["insider_net_90"]["A"]
    assert math.isnan(net.loc["2024-03-04"])
    assert net.loc["2024-03-05"] == pytest.approx(math.log10(1 + 1_000_000))
    assert net.loc["2024-03-11"] == pytest.approx(math.log10(1 + 1_000_000))
    assert net.loc["2024-03-12"] == pytest.approx(math.log10(1 + 10_000))
    assert net.loc["2024-03-29"] == pytest.approx(math.log10(1 + 10_000))


def test_a_failing_source_is_missing_not_fatal(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("db down")

    monkeypatch.setitem(
        sys.modules,
        "insights.insiders.selectors",
        types.SimpleNamespace(net_buying_observations=broken),
    )
    assert inputs.insider_observations(start=date(2024, 1, 1), end=date(2024, 2, 1)) is None


def test_compute_features_rejects_unsorted_sessions():
    idx = pd.DatetimeIndex(["2024-01-03", "2024-01-02"])
    frame = pd.DataFrame({"A": [1.0, 2.0]}, index=idx)
    with pytest.raises(ValueError, match="sessions"):
        F.compute_features(frame, frame)
