"""Point-in-time features for the AI score, vectorised over the whole universe.

Pure pandas/numpy (no Django). Inputs are wide frames: one row per trading session (sorted,
unique `DatetimeIndex`), one column per symbol. Every feature at session D is a function of
rows <= D only (rolling windows, `shift(n)` with n > 0, trailing calendar windows for news
and insider observations), so changing any bar after D cannot change D's row.

Every price feature needs at most the last `LOOKBACK` sessions (253 closes for the 252-day
return and 52-week high), so scoring one day only needs that trailing window: `features_for`
computes it from `LOOKBACK` rows and gives exactly the same numbers as the full history
(RSI uses simple averages of gains and losses — Cutler's RSI — for that reason: an
exponential average would depend, however slightly, on where the history starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

RETURN_WINDOWS = (5, 20, 60, 120, 252)
LOOKBACK = 253  # sessions of closes the longest feature needs (252-day return: 253 closes)

PRICE_FEATURES = (
    "ret_5",
    "ret_20",
    "ret_60",
    "ret_120",
    "ret_252",
    "vol_20",
    "vol_60",
    "dist_52w_high",
    "px_sma50",
    "px_sma200",
    "rsi_14",
    "volume_trend",
)
MARKET_FEATURES = ("mkt_above_sma200", "mkt_vol_20")
EVENT_FEATURES = ("sentiment_7", "sentiment_30", "insider_net_90")
FEATURES = PRICE_FEATURES + MARKET_FEATURES + EVENT_FEATURES

DESCRIPTIONS = {
    "ret_5": "1-week return",
    "ret_20": "1-month return",
    "ret_60": "3-month return",
    "ret_120": "6-month return",
    "ret_252": "12-month return",
    "vol_20": "1-month volatility",
    "vol_60": "3-month volatility",
    "dist_52w_high": "distance from the 52-week high",
    "px_sma50": "price against its 50-day average",
    "px_sma200": "price against its 200-day average",
    "rsi_14": "RSI (14 days)",
    "volume_trend": "volume trend (1 month against 3 months)",
    "mkt_above_sma200": "market above its 200-day average",
    "mkt_vol_20": "market volatility (1 month)",
    "sentiment_7": "news sentiment (7 days)",
    "sentiment_30": "news sentiment (30 days)",
    "insider_net_90": "insider net buying (90 days)",
}

Observation = tuple[str, date, float]


def _check(frame: pd.DataFrame, name: str) -> None:
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(f"{name} needs a DatetimeIndex of sessions.")
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique):
        raise ValueError(f"{name}: sessions must be unique and increasing.")


def rsi(close: pd.DataFrame, n: int = 14) -> pd.DataFrame:
    """Cutler's RSI: 100 - 100 / (1 + mean gain / mean loss) over the last n changes."""
    change = close.diff()
    gain = change.clip(lower=0).rolling(n, min_periods=n).mean()
    loss = (-change).clip(lower=0).rolling(n, min_periods=n).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + gain / loss)
    # No losses in the window: RSI is 100 (gain > 0) or undefined-but-neutral 50 (flat).
    value = value.mask((loss == 0) & (gain > 0), 100.0).mask((loss == 0) & (gain == 0), 50.0)
    return value


def price_features(close: pd.DataFrame, volume: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Wide frames (sessions x symbols), one per price feature."""
    _check(close, "close")
    close = close.where(close > 0)
    out: dict[str, pd.DataFrame] = {}
    for n in RETURN_WINDOWS:
        out[f"ret_{n}"] = close / close.shift(n) - 1.0
    log_ret = np.log(close / close.shift(1))
    out["vol_20"] = log_ret.rolling(20, min_periods=20).std() * np.sqrt(252)
    out["vol_60"] = log_ret.rolling(60, min_periods=60).std() * np.sqrt(252)
    out["dist_52w_high"] = close / close.rolling(252, min_periods=252).max() - 1.0
    out["px_sma50"] = close / close.rolling(50, min_periods=50).mean() - 1.0
    out["px_sma200"] = close / close.rolling(200, min_periods=200).mean() - 1.0
    out["rsi_14"] = rsi(close, 14)
    vol = volume.reindex_like(close).astype(float).where(lambda v: v > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["volume_trend"] = np.log(
            vol.rolling(20, min_periods=20).mean() / vol.rolling(60, min_periods=60).mean()
        )
    return out


def market_close(close: pd.DataFrame, market: pd.Series | None) -> pd.Series:
    """The market's closes on the sessions of `close`: the market series (e.g. SPY) when given,
    else an equal-weight index of the universe (mean daily return, compounded)."""
    if market is not None and market.notna().any():
        return market.reindex(close.index).astype(float)
    daily = (close / close.shift(1) - 1.0).mean(axis=1, skipna=True).fillna(0.0)
    return (1.0 + daily).cumprod()


def market_features(market: pd.Series) -> dict[str, pd.Series]:
    sma200 = market.rolling(200, min_periods=200).mean()
    above = (market > sma200).astype(float).where(sma200.notna())
    log_ret = np.log(market / market.shift(1))
    return {
        "mkt_above_sma200": above,
        "mkt_vol_20": log_ret.rolling(20, min_periods=20).std() * np.sqrt(252),
    }


def _event_window(
    observations: Iterable[Observation],
    sessions: pd.DatetimeIndex,
    symbols: list[str],
    days: int,
    how: str,
) -> pd.DataFrame:
    """For each session D and symbol: mean (how="mean") or sum (how="sum") of the values of
    observations made public on calendar days D-days+1 .. D. NaN when there is none."""
    empty = pd.DataFrame(np.nan, index=sessions, columns=symbols)
    rows = [(s, d, v) for s, d, v in observations if s in set(symbols) and v == v]
    if not rows or len(sessions) == 0:
        return empty
    obs = pd.DataFrame(rows, columns=["symbol", "date", "value"])
    obs["date"] = pd.to_datetime(obs["date"])
    start = min(obs["date"].min(), sessions[0] - pd.Timedelta(days=days))
    calendar = pd.date_range(start, max(sessions[-1], obs["date"].max()), freq="D")
    total = obs.pivot_table(index="date", columns="symbol", values="value", aggfunc="sum")
    count = obs.pivot_table(index="date", columns="symbol", values="value", aggfunc="count")
    total = total.reindex(index=calendar, columns=symbols).fillna(0.0)
    count = count.reindex(index=calendar, columns=symbols).fillna(0.0)
    total = total.rolling(days, min_periods=1).sum().reindex(sessions)
    count = count.rolling(days, min_periods=1).sum().reindex(sessions)
    value = total / count if how == "mean" else total
    return value.where(count > 0)


def event_features(
    sessions: pd.DatetimeIndex,
    symbols: list[str],
    sentiment: Iterable[Observation] | None,
    insider: Iterable[Observation] | None,
) -> dict[str, pd.DataFrame]:
    """News sentiment means over 7 and 30 days and insider net buying over 90 days.

    `None` (the source is not installed) and days without observations stay NaN, never 0.
    Net buying is in dollars, compressed as sign(x) * log10(1 + |x|) so one huge purchase
    does not swamp the model.
    """
    sentiment = list(sentiment) if sentiment is not None else []
    insider = list(insider) if insider is not None else []
    net = _event_window(insider, sessions, symbols, 90, "sum")
    return {
        "sentiment_7": _event_window(sentiment, sessions, symbols, 7, "mean"),
        "sentiment_30": _event_window(sentiment, sessions, symbols, 30, "mean"),
        "insider_net_90": np.sign(net) * np.log10(1.0 + net.abs()),
    }


def compute_features(
    close: pd.DataFrame,
    volume: pd.DataFrame,
    *,
    market: pd.Series | None = None,
    sentiment: Iterable[Observation] | None = None,
    insider: Iterable[Observation] | None = None,
) -> pd.DataFrame:
    """Long frame indexed by (date, symbol) with one column per name in FEATURES (float32 would
    lose the exactness tests rely on, so float64). Rows where the stock has no close are
    dropped."""
    _check(close, "close")
    symbols = [str(c) for c in close.columns]
    wide = price_features(close, volume)
    mkt = market_features(market_close(close, market))
    wide.update(event_features(close.index, symbols, sentiment, insider))
    has_close = close.notna().to_numpy().ravel()
    n_dates, n_syms = close.shape
    data = {name: wide[name].to_numpy(dtype=float).ravel()[has_close] for name in PRICE_FEATURES}
    for name in MARKET_FEATURES:
        data[name] = np.repeat(mkt[name].to_numpy(dtype=float), n_syms)[has_close]
    for name in EVENT_FEATURES:
        data[name] = wide[name].to_numpy(dtype=float).ravel()[has_close]
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat(close.index.to_numpy(), n_syms)[has_close],
            np.tile(np.asarray(symbols, dtype=object), n_dates)[has_close],
        ],
        names=["date", "symbol"],
    )
    frame = pd.DataFrame(data, index=index, columns=list(FEATURES))
    return frame.replace([np.inf, -np.inf], np.nan)


def features_for(
    day: pd.Timestamp | date,
    close: pd.DataFrame,
    volume: pd.DataFrame,
    *,
    market: pd.Series | None = None,
    sentiment: Iterable[Observation] | None = None,
    insider: Iterable[Observation] | None = None,
) -> pd.DataFrame:
    """Features of one session (rows: symbols), from the trailing LOOKBACK sessions only.

    Rows after `day` are dropped first, so the result is point-in-time by construction.
    """
    day = pd.Timestamp(day)
    close = close.loc[:day].iloc[-LOOKBACK:]
    volume = volume.reindex_like(close)
    if market is not None:
        market = market.loc[:day]
    if len(close) == 0 or close.index[-1] != day:
        return pd.DataFrame(columns=list(FEATURES), dtype=float)
    frame = compute_features(close, volume, market=market, sentiment=sentiment, insider=insider)
    return frame.xs(day, level="date")
