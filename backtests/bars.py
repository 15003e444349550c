"""One instrument's OHLCV bars as numpy arrays, shared by the engine, the statistics and the
strategies (each imports this module; it imports none of them)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Bars", "as_bars", "as_ns", "bars_fingerprint"]

_COLUMNS = ("open", "high", "low", "close", "volume")
_MISSING = object()


@dataclass(eq=False)
class Bars:
    """OHLCV arrays of one instrument plus a memo of what has been computed on them."""

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    _memo: dict[tuple, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Bars:
        """Accepts Open/High/Low/Close[/Volume] columns in any case and a DatetimeIndex (or a
        `date` column). Other numeric columns are kept in `extra` for strategies to use."""
        columns = df.columns.tolist()  # iterating the Index itself boxes each name: slower
        by_lower = {str(c).lower(): c for c in columns}
        missing = [c for c in _COLUMNS[:4] if c not in by_lower]
        if missing:
            raise ValueError(f"Bars need columns {', '.join(missing)}.")
        index = df.index
        if not isinstance(index, pd.DatetimeIndex):
            if "date" not in by_lower:
                raise ValueError("Bars need a DatetimeIndex or a 'date' column.")
            index = pd.DatetimeIndex(pd.to_datetime(df[by_lower["date"]]))
        if len(df) < 2:
            raise ValueError("Bars need at least two rows.")
        if not (index.is_monotonic_increasing and index.is_unique):
            raise ValueError("Bar dates must be unique and increasing.")
        arrays = _float_columns(df, [by_lower.get(name) for name in _COLUMNS])
        if any(math.isnan(arrays[c].min()) for c in _COLUMNS[:4]):  # min() propagates NaN
            raise ValueError("Open, high, low and close must not contain missing values.")
        known = {*_COLUMNS, "date"}
        extra = {
            str(c).lower(): df[c].to_numpy(dtype=float)
            for c in columns
            if str(c).lower() not in known and pd.api.types.is_numeric_dtype(df[c])
        }
        return cls(index=index, extra=extra, **arrays)

    @classmethod
    def from_arrays(cls, dates: np.ndarray, ohlcv: np.ndarray) -> Bars:
        """Bars from datetime64 dates and an (n, 5) float array of open, high, low, close,
        volume (the database loader's shape: no DataFrame in between)."""
        if len(dates) < 2:
            raise ValueError("Bars need at least two rows.")
        ns = dates.astype("datetime64[ns]")
        if not (ns[1:] > ns[:-1]).all():
            raise ValueError("Bar dates must be unique and increasing.")
        if np.isnan(ohlcv[:, :4].min()):
            raise ValueError("Open, high, low and close must not contain missing values.")
        columns = np.ascontiguousarray(ohlcv.T, dtype=float)
        return cls(pd.DatetimeIndex(ns, name="date"), *columns)

    def __len__(self) -> int:
        return len(self.close)

    def memo(self, key: tuple, compute: Any) -> Any:
        """Return `compute()` once per key; indicators are shared across a sweep this way."""
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = self._memo[key] = compute()
        return value

    @property
    def ns(self) -> np.ndarray:
        """Bar times as int64 nanoseconds since the epoch (UTC for a tz-aware index)."""
        return self.memo(("ns",), lambda: as_ns(self.index))

    def times(self, bar_numbers: list[int] | np.ndarray) -> list[datetime]:
        """The bars' times as datetimes (local wall time with tzinfo for a tz-aware index)."""
        if self.index.tz is not None:
            return list(self.index.take(np.asarray(bar_numbers, dtype=np.intp)))
        picked = self.ns[np.asarray(bar_numbers, dtype=np.intp)].view("datetime64[ns]")
        return picked.astype("datetime64[us]").tolist()  # datetime objects

    def head(self, stop: int) -> Bars:
        """The first `stop` bars as new Bars (own memo)."""
        return Bars(
            index=self.index[:stop],
            open=self.open[:stop],
            high=self.high[:stop],
            low=self.low[:stop],
            close=self.close[:stop],
            volume=self.volume[:stop],
            extra={k: v[:stop] for k, v in self.extra.items()},
        )

    def tail(self, start: int) -> Bars:
        """Bars from `start` on as new Bars (own memo)."""
        return Bars(
            index=self.index[start:],
            open=self.open[start:],
            high=self.high[start:],
            low=self.low[start:],
            close=self.close[start:],
            volume=self.volume[start:],
            extra={k: v[start:] for k, v in self.extra.items()},
        )


def _float_columns(df: pd.DataFrame, columns: list[Any]) -> dict[str, np.ndarray]:
    """The named columns as contiguous float arrays (NaN for a None); one conversion of the
    whole frame when it is all numeric, which is much faster than column by column."""
    try:
        block = df.to_numpy(dtype=float)
    except (TypeError, ValueError):
        block = None
    out = {}
    for name, column in zip(_COLUMNS, columns, strict=True):
        if column is None:
            out[name] = np.full(len(df), np.nan)
        elif block is not None:
            out[name] = np.ascontiguousarray(block[:, df.columns.get_loc(column)])
        else:
            out[name] = df[column].to_numpy(dtype=float, copy=True)
    return out


_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def as_ns(index: pd.DatetimeIndex) -> np.ndarray:
    return index.asi8 * _NS_PER_UNIT[index.unit]


def as_bars(data: pd.DataFrame | Bars) -> Bars:
    return data if isinstance(data, Bars) else Bars.from_frame(data)


def bars_fingerprint(data: pd.DataFrame | Bars) -> str:
    """sha256 over the dates (ns since epoch, UTC) and the OHLCV values as float64."""
    bars = as_bars(data)
    digest = hashlib.sha256(b"qunex-bars/1\n")
    digest.update(np.ascontiguousarray(bars.ns, dtype="<i8").tobytes())
    for column in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        digest.update(np.ascontiguousarray(column, dtype="<f8").tobytes())
    for name in sorted(bars.extra):  # columns a strategy read (e.g. stored AI scores)
        digest.update(name.encode() + b"\n")
        digest.update(np.ascontiguousarray(bars.extra[name], dtype="<f8").tobytes())
    return digest.hexdigest()
