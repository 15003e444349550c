"""Point-in-time features for the AI score, vectorised over the whole universe.

Pure pandas/numpy (no Django). Inputs are wide frames: one row per trading session (sorted,
unique `DatetimeIndex`), one column per symbol. Every feature at session D is a function of
rows <= D only (rolling windows, `shift(n)` with n > 0, trailing calendar windows for news
and insider observations), so changing any bar after D cannot change D's row. Event
observations come dated by the session they belong to (`inputs.to_sessions`: cut at each
session's close in New York), so nothing known after D's close reaches D's row either.

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

# (symbol, session it belongs to, value) or (symbol, session, value, session it stops
# counting): `inputs` maps each observation's known-at time to the first session whose close
# comes at or after it, so an observation dated D is known at D's close. The 4-tuple is an
# amended Form 4: its rows count from its session until the amendment's session.
Observation = tuple[str, date, float] | tuple[str, date, float, date | None]

CHUNK = 504  # sessions of features built at a time (plus LOOKBACK - 1 warm-up sessions)


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


def _observations(observations: Iterable[Observation] | None, symbols: list[str]) -> pd.DataFrame:
    """The observations of `symbols` as a frame (col: symbol position, date, value, until),
    sorted by date; NaN values and unknown symbols dropped. `set(symbols)` is built once."""
    position = {s: i for i, s in enumerate(symbols)}
    cols: list[int] = []
    days: list = []
    values: list[float] = []
    untils: list = []
    for obs in observations or ():
        col = position.get(obs[0])
        value = obs[2]
        if col is None or value != value:
            continue
        cols.append(col)
        days.append(obs[1])
        values.append(float(value))
        untils.append(obs[3] if len(obs) > 3 else None)
    frame = pd.DataFrame(
        {
            "col": np.asarray(cols, dtype=np.int64),
            "date": pd.to_datetime(pd.Series(days, dtype=object)).dt.normalize(),
            "value": np.asarray(values, dtype=float),
            "until": pd.to_datetime(pd.Series(untils, dtype=object)).dt.normalize(),
        }
    )
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def _event_window(
    obs: pd.DataFrame, sessions: pd.DatetimeIndex, n_symbols: int, days: int, how: str
) -> np.ndarray:
    """sessions x symbols: for each session D, the mean (how="mean") or sum (how="sum") of
    the values of observations belonging to calendar days D-days+1 .. D (and, for an amended
    filing's rows, to sessions before its amendment's). NaN when there is none."""
    out = np.full((len(sessions), n_symbols), np.nan)
    if len(sessions) == 0 or obs.empty:
        return out
    lo = sessions[0] - pd.Timedelta(days=days - 1)
    obs = obs[(obs["date"] >= lo) & (obs["date"] <= sessions[-1])]
    if obs.empty:
        return out
    total = np.zeros((len(sessions), n_symbols))
    count = np.zeros((len(sessions), n_symbols))
    plain = obs[obs["until"].isna()]
    if not plain.empty:
        calendar = pd.date_range(lo, sessions[-1], freq="D")
        row = calendar.get_indexer(plain["date"])
        daily_total = np.zeros((len(calendar), n_symbols))
        daily_count = np.zeros((len(calendar), n_symbols))
        np.add.at(daily_total, (row, plain["col"].to_numpy()), plain["value"].to_numpy())
        np.add.at(daily_count, (row, plain["col"].to_numpy()), 1.0)
        cum_t = np.vstack([np.zeros((1, n_symbols)), np.cumsum(daily_total, axis=0)])
        cum_c = np.vstack([np.zeros((1, n_symbols)), np.cumsum(daily_count, axis=0)])
        end = calendar.get_indexer(sessions) + 1
        start = np.maximum(end - days, 0)
        total += cum_t[end] - cum_t[start]
        count += np.rint(cum_c[end] - cum_c[start])
    for col, day, value, until in obs[obs["until"].notna()].itertuples(index=False):
        live = (sessions >= day) & (sessions < until) & (sessions < day + pd.Timedelta(days=days))
        total[live, col] += value
        count[live, col] += 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        value = total / count if how == "mean" else total
    return np.where(count > 0, value, np.nan)


def event_features(
    sessions: pd.DatetimeIndex,
    symbols: list[str],
    sentiment: Iterable[Observation] | pd.DataFrame | None,
    insider: Iterable[Observation] | pd.DataFrame | None,
) -> dict[str, pd.DataFrame]:
    """News sentiment means over 7 and 30 days and insider net buying over 90 days.

    `None` (the source is not installed) and days without observations stay NaN, never 0.
    Net buying is in dollars, compressed as sign(x) * log10(1 + |x|) so one huge purchase
    does not swamp the model.
    """
    news = sentiment if isinstance(sentiment, pd.DataFrame) else _observations(sentiment, symbols)
    trades = insider if isinstance(insider, pd.DataFrame) else _observations(insider, symbols)
    n = len(symbols)
    net = _event_window(trades, sessions, n, 90, "sum")

    def wide(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=sessions, columns=symbols)

    return {
        "sentiment_7": wide(_event_window(news, sessions, n, 7, "mean")),
        "sentiment_30": wide(_event_window(news, sessions, n, 30, "mean")),
        "insider_net_90": wide(np.sign(net) * np.log10(1.0 + np.abs(net))),
    }


def compute_features(
    close: pd.DataFrame,
    volume: pd.DataFrame,
    *,
    market: pd.Series | None = None,
    sentiment: Iterable[Observation] | None = None,
    insider: Iterable[Observation] | None = None,
    chunk: int = CHUNK,
) -> pd.DataFrame:
    """Long float32 frame indexed by (date, symbol) with one column per name in FEATURES.
    Rows where the stock has no close are dropped.

    Built per window of `chunk` sessions, each from its own LOOKBACK - 1 warm-up sessions
    (every feature needs at most LOOKBACK closes), so the wide intermediate frames stay the
    size of one window whatever the length of the history; the numbers are those of the
    whole history (computed in float64, stored as float32: 7 significant digits).
    """
    _check(close, "close")
    symbols = [str(c) for c in close.columns]
    close = close.astype(float)
    volume = volume.reindex_like(close).astype(float)
    mkt = market_features(market_close(close, market))
    news, trades = _observations(sentiment, symbols), _observations(insider, symbols)
    has_close = close.notna().to_numpy()
    n_rows = int(has_close.sum())
    data = np.empty((n_rows, len(FEATURES)), dtype=np.float32)
    n_dates, n_syms = close.shape
    written = 0
    for start in range(0, n_dates, max(int(chunk), 1)):
        stop = min(start + chunk, n_dates)
        warm = max(start - (LOOKBACK - 1), 0)
        wide = price_features(close.iloc[warm:stop], volume.iloc[warm:stop])
        sessions = close.index[start:stop]
        wide.update(event_features(sessions, symbols, news, trades))
        keep = has_close[start:stop].ravel()
        block = np.empty((int(keep.sum()), len(FEATURES)), dtype=np.float32)
        for j, name in enumerate(FEATURES):
            if name in MARKET_FEATURES:
                values = np.repeat(mkt[name].to_numpy(dtype=float)[start:stop], n_syms)
            else:
                values = wide[name].to_numpy(dtype=float)[-(stop - start) :].ravel()
            block[:, j] = values[keep]
        data[written : written + len(block)] = block
        written += len(block)
    data[~np.isfinite(data)] = np.nan
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat(close.index.to_numpy(), n_syms)[has_close.ravel()],
            np.tile(np.asarray(symbols, dtype=object), n_dates)[has_close.ravel()],
        ],
        names=["date", "symbol"],
    )
    return pd.DataFrame(data, index=index, columns=list(FEATURES), copy=False)


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
