"""Bars shared by the backtest tests: a seeded synthetic series and GOOG 2004-2013, the daily
bars backtesting.py ships as `backtesting.test.GOOG` (no dependency on ../shared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_bars(n: int = 2520, seed: int = 20240607, start: str = "2014-01-02") -> pd.DataFrame:
    """Geometric random walk on business days: about ten years of daily OHLCV.

    Opens gap at most ~1 % from the previous close so a 5 % stop set before the open
    is always on the right side of it (the reference engine rejects the order otherwise).
    """
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))
    prev_close = np.r_[100.0, close[:-1]]
    open_ = prev_close * np.exp(np.clip(rng.normal(0, 0.004, n), -0.01, 0.01))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.008, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.008, n)))
    volume = rng.integers(100_000, 2_000_000, n).astype(float)
    index = pd.bdate_range(start, periods=n, name="Date")
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}, index=index
    )


def goog_bars() -> pd.DataFrame:
    """GOOG daily bars 2004-08-19..2013-03-01 (2,148 rows) as backtesting.py 0.6.6 ships them;
    skips the test when backtesting.py (a development dependency) is not installed."""
    test_data = pytest.importorskip("backtesting.test")
    return test_data.GOOG.copy()


def frame(rows: list[tuple[float, float, float, float]], start: str = "2024-01-01") -> pd.DataFrame:
    """Tiny hand-written bars (open, high, low, close) on consecutive business days."""
    index = pd.bdate_range(start, periods=len(rows))
    df = pd.DataFrame(rows, columns=["Open", "High", "Low", "Close"], index=index, dtype=float)
    df["Volume"] = 1_000.0
    return df
