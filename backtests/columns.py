"""Extra per-bar columns that other apps supply to strategies that need them.

Backtests does not import the apps that own such data (insights' stored AI scores, say).
An app registers a provider in its `AppConfig.ready()`:

    register_column("ai_score", provider=scores_column, strategies={"ai_score"})

When a job of one of `strategies` loads its bars, `provider(ticker_id=..., index=...)` returns
one float per bar (NaN where there is no value), which strategies read as `bars.extra[name]`.
Other strategies never pay for the query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Provider = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Column:
    name: str
    provider: Provider
    strategies: frozenset[str]


_COLUMNS: dict[str, Column] = {}


def register_column(name: str, *, provider: Provider, strategies: Iterable[str]) -> None:
    _COLUMNS[name] = Column(name=name, provider=provider, strategies=frozenset(strategies))


def columns_for(*, strategy: str, ticker_id: int, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """{name: one value per bar} for every column `strategy` needs."""
    out: dict[str, np.ndarray] = {}
    for column in _COLUMNS.values():
        if strategy in column.strategies:
            values = np.asarray(column.provider(ticker_id=ticker_id, index=index), dtype=float)
            if len(values) != len(index):
                raise ValueError(
                    f"Column {column.name!r} has {len(values)} values for {len(index)} bars."
                )
            out[column.name] = values
    return out
