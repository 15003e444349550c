"""The "AI score" backtest strategy: long while the stored point-in-time score is at or above
a threshold.

The scores come as an extra bars column `ai_score` (the score stored for that session, NaN
where none was stored), which `scores_column` builds from `AIScore` rows for the caller that
loads the bars. A score stored for session D uses only data up to D's close, and the target
for bar D is filled at D+1's open, so the strategy cannot look ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtests.columns import register_column
from backtests.strategies import Param, Signal, register

if TYPE_CHECKING:
    from backtests.strategies import Bars

NAME = "ai_score"
COLUMN = "ai_score"
THRESHOLD = Param("threshold", int, 1, 10, 8, "Hold while the stored AI score is at least this.")


def ai_score_signal(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Long while the AI score stored for the session is at or above the threshold; flat on
    days without a stored score (and throughout when the bars carry no `ai_score` column)."""
    scores = bars.extra.get(COLUMN)
    if scores is None:  # no stored score for any session: flat throughout
        return Signal(target=np.zeros(len(bars), dtype=np.int8), warmup=0)
    scores = np.asarray(scores, dtype=float)
    with np.errstate(invalid="ignore"):
        long = np.nan_to_num(scores, nan=0.0) >= p["threshold"]
    target = long.astype(np.int8)
    target[:1] = 0
    return Signal(target=target, warmup=0)


def register_strategy() -> None:
    register_column(COLUMN, provider=scores_column, strategies={NAME})
    register(
        NAME,
        label="AI score",
        params=(THRESHOLD,),
        description=ai_score_signal.__doc__ or "",
        replace=True,
    )(ai_score_signal)


def scores_column(*, ticker_id: int, index: pd.DatetimeIndex) -> np.ndarray:
    """The AI score first stored for each session of `index` (NaN where none): a later
    revision (`--replace`) never changes what a backtest of that day sees. One query."""
    from insights.scores.models import AIScore

    if len(index) == 0:
        return np.array([], dtype=float)
    rows = (
        AIScore.objects.filter(
            ticker_id=ticker_id, date__gte=index[0].date(), date__lte=index[-1].date()
        )
        .order_by("date", "-revision")
        .values_list("date", "score")
    )
    series = pd.Series({pd.Timestamp(d): float(s) for d, s in rows}, dtype=float)
    return series.reindex(index).to_numpy(dtype=float)
