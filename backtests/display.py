"""Turn a stored result into what the detail page shows: formatted statistics, the sweep
heatmap (colour buckets computed here, no inline styles), chart data. No queries."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from backtests.stats import STAT_KEYS, SWEEP_KEYS
from qunex.templatetags import numbers

HEAT_LEVELS = 10
HEADLINE = (
    "Return [%]",
    "Buy & Hold Return [%]",
    "Sharpe Ratio",
    "Max. Drawdown [%]",
    "# Trades",
    "Win Rate [%]",
)
DURATIONS = {
    "Duration",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "Max. Trade Duration",
    "Avg. Trade Duration",
}
DATES = {"Start", "End"}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# Percent figures that are changes (signed "+1.00%"); the other percents are levels
# (exposure, volatility, win rate: "54.30%").
SIGNED_PCT = {
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "CAGR [%]",
    "Alpha [%]",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Expectancy [%]",
}


def number(value: float, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; -3.2 -> MINUS + '3.20' (the site's rule: qunex/templatetags/numbers)."""
    return numbers.number(value, places)


def money(value: float) -> str:
    """1234.5 -> '$1,234.50'; -1234.5 -> MINUS + '$1,234.50'."""
    return numbers.money(value)


def format_stat(key: str, value: Any) -> str:
    """One statistic as a trader reads it: +12.34%, $10,512.20, 34 days, 2024-01-02."""
    if value is None:
        return "\u2013"  # en dash: no value
    if key in DATES:
        return str(value)[:10]
    if not _finite(value):
        return str(value)
    if key in DURATIONS:
        days = round(value)
        return f"{days} day" if days == 1 else f"{days} days"
    if key == "# Trades":
        return f"{int(value):,}"
    if "[$]" in key:
        return money(value)
    if "[%]" in key:
        return numbers.pct(value) if key in SIGNED_PCT else numbers.plain_pct(value)
    return number(value)


def tone(key: str, value: Any) -> str:
    """'up' / 'down' for figures where the sign is the message."""
    if not _finite(value) or key not in {
        "Return [%]",
        "Buy & Hold Return [%]",
        "Sharpe Ratio",
        "CAGR [%]",
        "Alpha [%]",
    }:
        return ""
    return "up" if value > 0 else "down" if value < 0 else ""


@dataclass(frozen=True)
class Stat:
    key: str
    label: str
    value: Any
    display: str
    tone: str


def stat_rows(stats: dict[str, Any], keys: tuple[str, ...] = STAT_KEYS) -> list[Stat]:
    """Statistics in the engine's order (JSON objects lose it in PostgreSQL's jsonb)."""
    return [
        Stat(
            k,
            k.replace(" [%]", "").replace(" [$]", ""),
            stats.get(k),
            format_stat(k, stats.get(k)),
            tone(k, stats.get(k)),
        )
        for k in keys
        if k in stats
    ]


def chart_data(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """Series for the equity-vs-buy-&-hold and drawdown charts (dates as YYYY-MM-DD)."""
    if not run:
        return None
    series = run["series"]
    return {
        "dates": [d[:10] for d in series["dates"]],
        "equity": series["equity"],
        "buy_hold": series.get("buy_hold") or [],
        "drawdown": [round(-100 * v, 4) if v is not None else None for v in series["drawdown"]],
    }


def trade_rows(run: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not run:
        return []
    rows = list(run.get("trades") or [])
    if run.get("open_trade"):
        rows.append(run["open_trade"])
    for row in rows:
        row["entry_date"] = (row.get("entry_time") or "")[:10]
        row["exit_date"] = (row.get("exit_time") or "")[:10]
        row["reason_label"] = REASONS.get(row.get("exit_reason") or "", row.get("exit_reason"))
        row["shares"] = f"{abs(int(row['size'])):,}"
        row["entry_money"] = money(row["entry_price"])
        row["exit_money"] = money(row["exit_price"])
        row["pnl_money"] = numbers.signed_money(row["pnl"])
        row["return_text"] = numbers.pct(row["return_pct"])
    return rows


REASONS = {
    "signal": "signal",
    "stop_loss": "stop-loss",
    "take_profit": "take-profit",
    "end": "end of test",
    "open": "still open",
    "broke": "equity gone",
}


def stat_columns(rows: list[Stat]) -> tuple[list[Stat], list[Stat]]:
    """The statistics in two halves, for two side-by-side tables on a wide screen."""
    half = (len(rows) + 1) // 2
    return rows[:half], rows[half:]


HALF = HEAT_LEVELS // 2


def heat_class(value: Any, centre: float, scale: float) -> str:
    """A diverging colour bucket around `centre`: heat-0..4 below it (deeper is further),
    heat-5..9 above it, heat-mid exactly on it, heat-none for no finite value. `scale` is
    the largest distance from the centre on the map, so equal distances get equal colours
    and a positive Sharpe is never red."""
    if not _finite(value):
        return "heat-none"
    distance = value - centre
    if distance == 0 or scale <= 0:
        return "heat-mid"
    step = min(int(abs(distance) / scale * HALF), HALF - 1)
    return f"heat-{HALF + step}" if distance > 0 else f"heat-{HALF - 1 - step}"


def count_class(value: Any, high: float) -> str:
    """A one-colour bucket for counts (# Trades): more is not better, only more."""
    if not _finite(value):
        return "heat-none"
    if high <= 0:
        return "heat-count-0"
    return f"heat-count-{min(int(value / high * HALF), HALF - 1)}"


def _centre(result: dict[str, Any], metric: str) -> float | None:
    """Where the colour scale is neutral: 0 for returns, Sharpe and drawdown; the starting
    cash for final equity (a gain is green, a loss red); None for counts."""
    if metric == "# Trades":
        return None
    if "[$]" in metric:
        cash = (result.get("config") or {}).get("cash")
        return float(cash) if _finite(cash) else None
    return 0.0


def _cell(rows: list[dict[str, Any]], metric: str) -> tuple[str, float | None]:
    """What one cell holds: ("value", best), ("no-trades", None), ("undefined", None) or
    ("skipped", None) when no combination of the cell was run (it breaks the strategy's
    rules). Rows without trades never beat rows with trades."""
    if not rows:
        return "skipped", None
    traded = [r for r in rows if r["stats"].get("# Trades") != 0]
    values = [r["stats"].get(metric) for r in traded]
    values = [v for v in values if _finite(v)]
    if values:
        return "value", max(values)
    if not traded:
        return "no-trades", None
    return "undefined", None


CELL_TEXT = {
    "skipped": ("", "skipped: this combination breaks the strategy's rules, so it was not run"),
    "no-trades": ("no trades", "no trades: the signal never fired with these parameters"),
    "undefined": ("n/a", "not defined for this combination"),
}


def heatmap(result: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """The metric over the first two swept parameters (columns x rows).

    1. With more than two swept parameters each cell shows the best value over the others;
       with one, a single row.
    2. A cell is a value, "no trades" (every combination in it ran but never traded),
       "n/a" (the metric is undefined) or "skipped" (no valid combination, e.g. fast >=
       slow); each has its own class and tooltip.
    3. Colours diverge around a neutral centre (0, or the starting cash for final equity),
       scaled by the largest distance from it; "# Trades" uses a one-colour scale.
    """
    grid = result.get("grid") or {}
    names = list(grid)
    if not names or metric not in SWEEP_KEYS:
        return None
    x_name, y_name = names[0], (names[1] if len(names) > 1 else None)
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in result.get("rows", []):
        key = (row["params"].get(x_name), row["params"].get(y_name) if y_name else None)
        groups.setdefault(key, []).append(row)
    xs = sorted(grid[x_name])
    ys = sorted(grid[y_name]) if y_name else [None]
    cells = {(x, y): _cell(groups.get((x, y), []), metric) for x in xs for y in ys}
    values = [v for kind, v in cells.values() if kind == "value"]
    centre = _centre(result, metric)
    if centre is None:
        scale = max(values, default=0.0)
        low, mid, high = 0.0, None, scale
    else:
        scale = max((abs(v - centre) for v in values), default=0.0)
        low, mid, high = centre - scale, centre, centre + scale

    def cell(x: Any, y: Any) -> dict[str, Any]:
        kind, value = cells[(x, y)]
        where = f"{x_name} {x}" + (f", {y_name} {y}" if y_name else "")
        if kind == "value":
            display = format_stat(metric, value)
            css = count_class(value, scale) if centre is None else heat_class(value, centre, scale)
            return {
                "x": x,
                "value": value,
                "kind": kind,
                "display": display,
                "css": css,
                "title": f"{where}: {display}",
            }
        text, why = CELL_TEXT[kind]
        return {
            "x": x,
            "value": None,
            "kind": kind,
            "display": text,
            "css": f"heat-{kind}",
            "title": f"{where}: {why}",
        }

    kinds = {kind for kind, _ in cells.values()}
    return {
        "metric": metric,
        "x_name": x_name,
        "y_name": y_name,
        "xs": xs,
        "rows": [
            {"y": y, "cells": [cell(x, y) for x in xs]}
            for y in reversed(ys)  # larger values at the top, like a chart's y axis
        ],
        "others": names[2:],
        "diverging": centre is not None,
        "low": format_stat(metric, low) if values else "",
        "mid": format_stat(metric, mid) if values and mid is not None else "",
        "high": format_stat(metric, high) if values else "",
        "has_skipped": "skipped" in kinds,
        "has_no_trades": "no-trades" in kinds,
        "has_undefined": "undefined" in kinds,
    }


def sweep_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    names = list(result.get("grid") or {})
    best = result.get("best_params")
    return [
        {
            "params": [row["params"].get(n) for n in names],
            "stats": [
                {"value": row["stats"].get(k), "display": format_stat(k, row["stats"].get(k))}
                for k in SWEEP_KEYS
            ],
            "is_best": row["params"] == best,
        }
        for row in result.get("rows", [])
    ]


def walk_forward_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    wf = result.get("walk_forward") or {}
    names = list(result.get("grid") or {})
    keys = ("Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades")
    return [
        {
            "rank": row["rank"],
            "params": [row["params"].get(n) for n in names],
            "pairs": [
                {
                    "key": k,
                    "in_sample": format_stat(k, row["in_sample"].get(k)),
                    "out_of_sample": format_stat(k, row["out_of_sample"].get(k)),
                    "tone": tone(k, row["out_of_sample"].get(k)),
                }
                for k in keys
            ],
        }
        for row in wf.get("rows", [])
    ]


def split_date(result: dict[str, Any]) -> date | None:
    wf = result.get("walk_forward")
    return date.fromisoformat(wf["split_date"][:10]) if wf else None
