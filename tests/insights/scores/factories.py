"""A small synthetic market in the database: tickers with random-walk daily bars, and a
helper that builds the same closes as frames for the pure-module tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from markets.models import DailyBar, Ticker

SECTORS = ("Information Technology", "Health Care", "Energy", "Financials")


def synthetic_closes(
    n_tickers: int = 30,
    n_days: int = 400,
    seed: int = 3,
    start: str = "2022-01-03",
    signal: float = 0.0,
    fixed_drift: float = 0.0006,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(close, volume, market) wide frames on business days; stocks share a market factor.

    `signal` > 0 plants a changing drift per stock (AR(1), phi 0.97, standard deviation
    `signal` a day): the last weeks' returns then predict the next 20 sessions (a
    continuation a model can learn and 12-1 momentum, which skips the last month, misses).
    `fixed_drift` is the spread of a permanent drift per stock; with both 0 every stock is a
    pure random walk (nothing to predict)."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=n_days)
    market_ret = rng.normal(0.0004, 0.01, n_days)
    drift = np.tile(rng.normal(0, fixed_drift, n_tickers), (n_days, 1))
    if signal:
        phi = 0.97
        state = rng.normal(0, signal, n_tickers)
        for t in range(n_days):
            state = phi * state + np.sqrt(1 - phi**2) * rng.normal(0, signal, n_tickers)
            drift[t] = state
    rets = market_ret[:, None] + drift + rng.normal(0, 0.015, (n_days, n_tickers))
    symbols = [f"S{i:03d}" for i in range(n_tickers)]
    close = pd.DataFrame(50 * np.exp(np.cumsum(rets, 0)), index=index, columns=symbols)
    volume = pd.DataFrame(
        rng.integers(100_000, 1_000_000, (n_days, n_tickers)).astype(float),
        index=index,
        columns=symbols,
    )
    market = pd.Series(400 * np.exp(np.cumsum(market_ret)), index=index, name="SPY")
    return close, volume, market


def seed_market(
    n_tickers: int = 30,
    n_days: int = 400,
    seed: int = 3,
    demo: bool = False,
    signal: float = 0.0,
    prefix: str = "S",
    fixed_drift: float = 0.0006,
    start: str = "2022-01-03",
) -> tuple[list[Ticker], pd.DataFrame]:
    """Store the synthetic market (plus SPY as an ETF) and return (stocks, close frame)."""
    close, volume, market = synthetic_closes(
        n_tickers, n_days, seed, start=start, signal=signal, fixed_drift=fixed_drift
    )
    close.columns = volume.columns = [c.replace("S", prefix, 1) for c in close.columns]
    tickers = [
        Ticker.objects.create(
            symbol=s, name=f"Company {s}", sector=SECTORS[i % len(SECTORS)], is_demo=demo
        )
        for i, s in enumerate(close.columns)
    ]
    spy, _ = Ticker.objects.get_or_create(
        symbol="SPY",
        defaults={"name": "S&P 500 ETF", "asset_type": Ticker.AssetType.ETF, "is_demo": demo},
    )
    bars = []
    for t in tickers:
        for d, c, v in zip(close.index, close[t.symbol], volume[t.symbol], strict=True):
            bars.append(_bar(t, d.date(), c, int(v)))
    if not spy.bars.exists():
        for d, c in zip(market.index, market, strict=True):
            bars.append(_bar(spy, d.date(), c, 1_000_000))
    DailyBar.objects.bulk_create(bars, batch_size=2000)
    return tickers, close


def _bar(ticker: Ticker, day: date, close: float, volume: int) -> DailyBar:
    c = Decimal(f"{close:.6f}")
    return DailyBar(
        ticker=ticker,
        date=day,
        open=c,
        high=c,
        low=c,
        close=c,
        adj_close=c,
        volume=volume,
        source="test",
    )


def make_version(coefs: dict[str, float] | None = None, **kwargs):
    """A ModelVersion with a valid (tiny) artifact, without training; `coefs` puts weights
    on named features (standardised values: z = raw value, medians 0, no clipping of note)."""
    from django.utils import timezone

    from insights.scores.features import FEATURES
    from insights.scores.models import ModelVersion

    n = len(FEATURES)
    artifact = {
        "features": list(FEATURES),
        "medians": [0.0] * n,
        "lower": [-1.0] * n,
        "upper": [1.0] * n,
        "means": [0.0] * (2 * n),
        "scales": [1.0] * (2 * n),
        "coefs": [0.01] + [0.0] * (2 * n - 1),
        "intercept": 0.001,
        "kind": "ridge-v1",
        "extra": {},
    }
    if coefs is not None:
        artifact["coefs"] = [float(coefs.get(f, 0.0)) for f in FEATURES] + [0.0] * n
        artifact["lower"], artifact["upper"] = [-1e12] * n, [1e12] * n
    values = {
        "trained_at": timezone.now(),
        "data_start": date(2020, 1, 2),
        "data_end": date(2024, 1, 2),
        "last_bar": date(2024, 1, 31),
        "features": list(FEATURES),
        "fingerprint": "0" * 64,
        "metrics": {"rank_ic_mean": 0.02, "test_days": 100, "independent_days": 5},
        "baseline_metrics": {"rank_ic_mean": 0.01, "test_days": 100, "independent_days": 5},
        "artifact": artifact,
        **kwargs,
    }
    return ModelVersion.objects.create(**values)


def make_scores(n: int, *, day: date = date(2024, 3, 1), version=None, prefix: str = "Q"):
    """n tickers each with one stored score on `day`."""
    from insights.scores.models import AIScore

    version = version or make_version(promoted=True)
    rows = []
    for i in range(n):
        t = Ticker.objects.create(
            symbol=f"{prefix}{i:03d}", name=f"Co {i}", sector=SECTORS[i % len(SECTORS)]
        )
        score = 1 + i % 10
        rows.append(
            AIScore(
                ticker=t,
                date=day,
                score=score,
                label="Hold",
                predicted_excess_return=0.001 * score,
                baseline=0.0,
                contributions=[
                    {
                        "feature": "ret_5",
                        "name": "1-week return",
                        "value": 0.01,
                        "shown": "+1.0%",
                        "contribution": 0.001 * score,
                        "words": "1-week return of +1.0% raised the forecast by 0.10 points.",
                    }
                ],
                model_version=version,
            )
        )
    AIScore.objects.bulk_create(rows)
    return version
