"""Turn a stored result into what the detail page shows: formatted statistics, the sweep
heatmap (colour buckets computed here, no inline styles), chart data. No queries."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from backtests.stats import STAT_KEYS, SWEEP_KEYS

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


MINUS = "\u2212"  # a real minus sign: as wide as a plus, never breaks a line


def number(value: float, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; -3.2 -> MINUS + '3.20' (thousands separators, a real minus)."""
    text = f"{value:,.{places}f}"
    if text.startswith("-"):
        text = (
            MINUS + text[1:] if any(c not in "0.,-" for c in text) else text[1:]
        )  # no minus on 0.00
    return text


def money(value: float, places: int = 2) -> str:
    """1234.5 -> '$1,234.50'; -1234.5 -> MINUS + '$1,234.50'."""
    text = number(value, places)
    return f"{MINUS}${text[1:]}" if text.startswith(MINUS) else f"${text}"


def format_stat(key: str, value: Any) -> str:
    """One statistic as a trader reads it: 12.34 %, $10,512.20, 34 days, 2024-01-02."""
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
        return f"{number(value)} %"
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
        row["pnl_money"] = money(row["pnl"])
        row["return_text"] = f"{number(row['return_pct'])} %"
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


def heat_class(value: Any, low: float, high: float) -> str:
    if not _finite(value):
        return "heat-none"
    if high <= low:
        return f"heat-{HEAT_LEVELS // 2}"
    level = int((value - low) / (high - low) * HEAT_LEVELS)
    return f"heat-{min(max(level, 0), HEAT_LEVELS - 1)}"


def heatmap(result: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """The metric over the first two swept parameters (columns x rows).

    With more than two swept parameters each cell shows the best value over the others;
    with one, a single row. Cells with no valid combination (fast >= slow) are empty.
    Colour classes heat-0 (lowest) .. heat-9 (highest) are spread over the finite values.
    """
    grid = result.get("grid") or {}
    names = list(grid)
    if not names or metric not in SWEEP_KEYS:
        return None
    x_name, y_name = names[0], (names[1] if len(names) > 1 else None)
    best: dict[tuple[Any, Any], float] = {}
    for row in result.get("rows", []):
        value = row["stats"].get(metric)
        if not _finite(value):
            continue
        key = (row["params"].get(x_name), row["params"].get(y_name) if y_name else None)
        if key not in best or value > best[key]:
            best[key] = value
    values = list(best.values())
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    xs = sorted(grid[x_name])
    ys = sorted(grid[y_name]) if y_name else [None]
    rows = [
        {
            "y": y,
            "cells": [
                {
                    "x": x,
                    "value": best.get((x, y)),
                    "display": format_stat(metric, best[(x, y)]) if (x, y) in best else "",
                    "css": heat_class(best.get((x, y)), low, high),
                }
                for x in xs
            ],
        }
        for y in reversed(ys)  # larger values at the top, like a chart's y axis
    ]
    return {
        "metric": metric,
        "x_name": x_name,
        "y_name": y_name,
        "xs": xs,
        "rows": rows,
        "others": names[2:],
        "low": format_stat(metric, low) if values else "",
        "high": format_stat(metric, high) if values else "",
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
