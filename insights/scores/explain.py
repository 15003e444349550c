"""Per-stock explanations: which features pushed the predicted excess return up or down.

Pure (no Django). For the ridge model the prediction is exactly
`baseline + sum(contribution_i)` where contribution_i = coef * z of feature i plus its
missing indicator's (see `ScoreModel.contributions`), so the numbers shown add up.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from insights.scores.features import DESCRIPTIONS
from insights.scores.model import ScoreModel

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
    """One sentence, e.g. "12-month return of +35.20% raised the forecast by 0.41 points"."""
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
        f"{what[0].upper()}{what[1:]} {verb} the forecast by {abs(contribution) * 100:.2f} points."
    )


def explain_rows(model: ScoreModel, X: pd.DataFrame) -> list[dict[str, Any]]:
    """For each row of X: {"prediction", "baseline", "contributions": [...]} with every
    feature's contribution, largest in absolute value first."""
    contrib = model.contributions(X)
    pred = model.predict(X)
    raw = X.reindex(columns=model.features).to_numpy(dtype=float)
    out = []
    for i in range(len(X)):
        order = np.argsort(-np.abs(contrib[i]), kind="stable")
        items = []
        for j in order:
            feature = model.features[j]
            value = raw[i, j]
            c = float(contrib[i, j])
            items.append(
                {
                    "feature": feature,
                    "name": DESCRIPTIONS.get(feature, feature),
                    "value": None if not math.isfinite(value) else float(value),
                    "shown": format_value(feature, value),
                    "contribution": c,
                    "words": describe(feature, value, c),
                }
            )
        out.append(
            {"prediction": float(pred[i]), "baseline": model.baseline, "contributions": items}
        )
    return out
