"""Per-stock explanations: which features pushed the predicted excess return up or down.

Pure (no Django). The unit is percentage points of forecast 20-session excess return over
SPY. "An average stock" is that day's average forecast over the scored stocks, so for the
ridge model each stock's forecast is exactly `day average + sum(contribution_i)` with
contribution_i = (coef * z of feature i plus its missing indicator's) minus the day's average
of the same (see `ScoreModel.contributions`): the numbers shown add up.

Market-wide features (`MARKET_FEATURES`) have the same value for every stock on a day, so
their contribution against the day's average is zero: they cannot move one stock's rank.
They are reported apart as the day's *market context*: how much they move every stock's
forecast against the training average. Contributions that are exactly zero are not listed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from insights.scores.features import DESCRIPTIONS, MARKET_FEATURES
from insights.scores.model import ScoreModel

UNIT = "percentage points of forecast 20-session excess return over SPY"

PERCENT = {
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
    "mkt_vol_20",
}


def format_value(feature: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "missing"
    # Percents at the site's 2 decimals (qunex/templatetags/numbers.py): a return reads "+1.00%"
    # here as on every page; the template turns a leading hyphen into a true minus.
    if feature in PERCENT:
        return (
            f"{value * 100:+.2f}%"
            if feature.startswith(("ret", "dist", "px"))
            else (f"{value * 100:.2f}%")
        )
    if feature == "volume_trend":
        return f"{(math.exp(value) - 1) * 100:+.2f}%"
    if feature == "mkt_above_sma200":
        return "yes" if value >= 0.5 else "no"
    if feature == "insider_net_90":
        dollars = math.copysign(10 ** abs(value) - 1, value)
        text = f"${abs(dollars):,.0f}"  # the sign before the currency: "+$12,000"
        return text if text == "$0" else ("+" if dollars > 0 else "-") + text
    if feature.startswith("sentiment"):
        return f"{value:+.2f}"
    return f"{value:.1f}"


def describe(feature: str, value: float | None, contribution: float) -> str:
    """One sentence, e.g. "12-month return of +35.20% raised the forecast by 0.41 points"
    (percentage points of forecast 20-session excess return over SPY)."""
    name = DESCRIPTIONS.get(feature, feature)
    shown = format_value(feature, value)
    if shown == "missing":
        what = f"{name} missing"
    elif feature == "mkt_above_sma200":
        what = f"{name}: {shown}," if shown == "yes" else "Market below its 200-day average"
    else:
        what = f"{name} of {shown}"
    verb = "raised" if contribution > 0 else "lowered"
    return (
        f"{what[0].upper()}{what[1:]} {verb} the forecast by {abs(contribution) * 100:.2f} "
        "percentage points."
    )


def _item(feature: str, value: float, contribution: float) -> dict[str, Any]:
    return {
        "feature": feature,
        "name": DESCRIPTIONS.get(feature, feature),
        "value": None if not math.isfinite(value) else float(value),
        "shown": format_value(feature, value),
        "contribution": contribution,
        "words": describe(feature, value, contribution),
    }


def explain_rows(model: ScoreModel, X: pd.DataFrame) -> list[dict[str, Any]]:
    """For each row of X (one day's stocks): {"prediction", "baseline" (the day's average
    forecast), "contributions": [...] (the stock's own features against the day's average,
    largest in absolute value first, exact zeros left out), "market_context": [...] (each
    market-wide feature's push on every stock's forecast against the training average)}."""
    contrib = model.contributions(X)
    pred = model.predict(X)
    raw = X.reindex(columns=model.features).to_numpy(dtype=float)
    if len(X) == 0:
        return []
    day_mean = contrib.mean(axis=0)
    relative = contrib - day_mean
    average = float(pred.mean())
    market = [j for j, f in enumerate(model.features) if f in MARKET_FEATURES]
    context = [
        {**_item(model.features[j], raw[0, j], float(day_mean[j])), "scope": "market"}
        for j in market
        if day_mean[j] != 0.0
    ]
    stock = np.array([j for j in range(len(model.features)) if j not in market], dtype=int)
    out = []
    for i in range(len(X)):
        row = relative[i, stock]
        order = stock[np.argsort(-np.abs(row), kind="stable")]
        items = [
            _item(model.features[j], raw[i, j], float(relative[i, j]))
            for j in order
            if relative[i, j] != 0.0
        ]
        out.append(
            {
                "prediction": float(pred[i]),
                "baseline": average,
                "contributions": items,
                "market_context": context,
            }
        )
    return out
