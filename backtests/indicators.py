"""Vectorised technical indicators over numpy arrays (no Django, no pandas objects).

Every function returns a float array of the input's length, NaN where the indicator is not
yet defined (its warm-up). Each value at bar i uses bars 0..i only, so none can look ahead.
Definitions are written out in docs/backtest-statistics.md.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def smooth(x: np.ndarray, alpha: float) -> np.ndarray:
    """First-order recursion y[0] = x[0], y[i] = alpha * x[i] + (1 - alpha) * y[i - 1].

    The same arithmetic, step for step, as `scipy.signal.lfilter([alpha], [1, alpha - 1], x,
    zi=[(1 - alpha) * x[0]])`, without importing scipy.signal (about 0.8 s at a cold start).
    """
    if not len(x):
        return np.empty(0)
    beta = 1.0 - alpha
    scaled = (x * alpha).tolist()
    first = scaled[0] + beta * float(x[0])
    steps = itertools.accumulate(scaled[1:], lambda y, v: v + beta * y, initial=first)
    return np.fromiter(steps, dtype=float, count=len(x))


def sma(x: np.ndarray, n: int, csum: np.ndarray | None = None) -> np.ndarray:
    """Simple moving average of the last n values; first defined at index n - 1.

    `csum` may pass `np.cumsum(x)` when several windows run over the same series.
    """
    if n > len(x):
        return np.full(len(x), np.nan)
    if csum is None:
        csum = np.cumsum(x, dtype=float)
    out = np.empty(len(x))
    out[: n - 1] = np.nan
    out[n - 1] = csum[n - 1] / n
    out[n:] = (csum[n:] - csum[:-n]) / n
    return out


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (n + 1), seeded with the first value.

    Same recursion as pandas `ewm(span=n, adjust=False)`; values before index n - 1 are
    masked as warm-up. NaNs at the start of `x` are skipped (the EMA starts at the first
    finite value), which lets MACD's signal line run over the MACD line.
    """
    out = np.full(len(x), np.nan)
    start = int(np.argmax(np.isfinite(x))) if len(x) else 0
    if len(x) == 0 or not np.isfinite(x[start]) or start + n - 1 >= len(x):
        return out
    alpha = 2.0 / (n + 1)
    tail = x[start:]
    smoothed = smooth(tail, alpha)
    out[start + n - 1 :] = smoothed[n - 1 :]
    return out


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI: gains and losses smoothed with alpha = 1 / n; first defined at index n.

    Average gain/loss start at the first change (bar 1) and run the recursion
    avg[t] = avg[t-1] + (x[t] - avg[t-1]) / n. RSI = 100 - 100 / (1 + gain / loss);
    100 when there was no loss, 50 when price did not move at all.
    """
    out = np.full(len(close), np.nan)
    if n >= len(close):
        return out
    delta = np.diff(close)
    gains = np.clip(delta, 0.0, None)
    losses = np.clip(-delta, 0.0, None)
    alpha = 1.0 / n
    avg_gain = smooth(gains, alpha)
    avg_loss = smooth(losses, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    value = np.where(avg_loss == 0.0, np.where(avg_gain == 0.0, 50.0, 100.0), value)
    out[n:] = value[n - 1 :]
    return out


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray]:
    """MACD line (EMA fast - EMA slow) and its signal line (EMA of the MACD line).

    The MACD line is defined from index slow - 1, the signal line from slow + signal - 2.
    """
    line = ema(close, fast) - ema(close, slow)
    return line, ema(line, signal)


def rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    """Population standard deviation (ddof=0) of the last n values, computed per window."""
    out = np.full(len(x), np.nan)
    if n > len(x):
        return out
    out[n - 1 :] = sliding_window_view(x, n).std(axis=1)
    return out


def bollinger(x: np.ndarray, n: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands: (lower, middle, upper) = SMA(n) -/+ k * population std(n)."""
    mid = sma(x, n)
    width = k * rolling_std(x, n)
    return mid - width, mid, mid + width


def prior_max(x: np.ndarray, n: int) -> np.ndarray:
    """Highest value of the n bars BEFORE bar i (bar i excluded); first defined at index n."""
    out = np.full(len(x), np.nan)
    if n >= len(x):
        return out
    out[n:] = sliding_window_view(x[:-1], n).max(axis=1)
    return out


def prior_min(x: np.ndarray, n: int) -> np.ndarray:
    """Lowest value of the n bars BEFORE bar i (bar i excluded); first defined at index n."""
    out = np.full(len(x), np.nan)
    if n >= len(x):
        return out
    out[n:] = sliding_window_view(x[:-1], n).min(axis=1)
    return out
