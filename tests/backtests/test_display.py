"""Formatting and the heatmap's colour buckets (pure functions over a stored result)."""

from __future__ import annotations

from backtests import display


def test_format_stat():
    assert display.format_stat("Return [%]", 12.345) == "12.35 %"
    assert display.format_stat("Equity Final [$]", 10512.2) == "$10,512.20"
    assert display.format_stat("Max. Trade Duration", 34.0) == "34 days"
    assert display.format_stat("Duration", 1.0) == "1 day"
    assert display.format_stat("Start", "2024-01-02T00:00:00") == "2024-01-02"
    assert display.format_stat("# Trades", 1234) == "1,234"
    assert display.format_stat("Sharpe Ratio", None) == "\u2013"


def test_stat_rows_keep_the_engine_order_whatever_the_json_order():
    rows = display.stat_rows({"Sharpe Ratio": 1.0, "Return [%]": -2.0, "Start": "2024-01-02"})
    assert [r.key for r in rows] == ["Start", "Return [%]", "Sharpe Ratio"]
    assert rows[1].tone == "down" and rows[2].tone == "up"


def test_heat_classes_span_0_to_9_and_mark_missing_cells():
    assert display.heat_class(0.0, 0.0, 1.0) == "heat-0"
    assert display.heat_class(1.0, 0.0, 1.0) == "heat-9"
    assert display.heat_class(0.55, 0.0, 1.0) == "heat-5"
    assert display.heat_class(None, 0.0, 1.0) == "heat-none"
    assert display.heat_class(3.0, 3.0, 3.0) == "heat-5"


def test_heatmap_takes_the_best_over_a_third_parameter():
    result = {
        "grid": {"a": [1, 2], "b": [10], "c": [0, 1]},
        "rows": [
            {"params": {"a": 1, "b": 10, "c": 0}, "stats": {"Sharpe Ratio": 0.5}},
            {"params": {"a": 1, "b": 10, "c": 1}, "stats": {"Sharpe Ratio": 0.9}},
            {"params": {"a": 2, "b": 10, "c": 0}, "stats": {"Sharpe Ratio": None}},
        ],
    }
    heat = display.heatmap(result, "Sharpe Ratio")
    assert heat["x_name"] == "a" and heat["y_name"] == "b" and heat["others"] == ["c"]
    (row,) = heat["rows"]
    assert [c["value"] for c in row["cells"]] == [0.9, None]
    assert [c["css"] for c in row["cells"]] == ["heat-5", "heat-none"]
    assert display.heatmap(result, "Not a metric") is None
