"""The label the model learns: the forward 20-session return in excess of the market's.

Pure pandas (no Django). The label at session D uses the close of D + HORIZON, so it is only
known HORIZON sessions later: walk-forward validation leaves a gap of HORIZON sessions
between the last training label and the first test day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZON = 20


def forward_excess_return(
    close: pd.DataFrame, market: pd.Series, horizon: int = HORIZON
) -> pd.DataFrame:
    """Wide frame: close[D+h]/close[D] - 1 - (market[D+h]/market[D] - 1); NaN near the end."""
    close = close.where(close > 0)
    market = market.reindex(close.index).astype(float)
    stock = close.shift(-horizon) / close - 1.0
    bench = market.shift(-horizon) / market - 1.0
    return stock.sub(bench, axis=0)


def stack(label: pd.DataFrame) -> pd.Series:
    """Long Series indexed by (date, symbol), NaN rows dropped."""
    values = label.to_numpy(dtype=float).ravel()
    n_dates, n_syms = label.shape
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat(label.index.to_numpy(), n_syms),
            np.tile(np.asarray([str(c) for c in label.columns], dtype=object), n_dates),
        ],
        names=["date", "symbol"],
    )
    series = pd.Series(values, index=index, name="label")
    return series[np.isfinite(values)]


def aligned(close: pd.DataFrame, market: pd.Series, index: pd.MultiIndex) -> pd.Series:
    """The labels of the rows `compute_features` returns for `close` (every (date, symbol)
    with a close, date-major), without building and re-indexing a second long index: the
    same rows as `stack(forward_excess_return(...)).reindex(index)`, NaN where unknown."""
    has_close = close.notna().to_numpy().ravel()
    values = forward_excess_return(close, market).to_numpy(dtype=float).ravel()[has_close]
    if len(values) != len(index):
        raise ValueError("index is not the feature rows of these closes")
    return pd.Series(values, index=index, name="label")
