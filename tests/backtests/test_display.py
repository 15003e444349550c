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


def test_money_and_numbers_have_separators_and_a_real_minus_sign():
    assert display.money(1234567.891) == "$1,234,567.89"
    assert display.money(-1234.5) == "\u2212$1,234.50"
    assert display.number(-0.001) == "0.00", "no minus on a figure that rounds to zero"
    assert display.number(-3.2) == "\u22123.20"
    assert display.format_stat("Return [%]", -12.345) == "\u221212.35 %"
    assert display.format_stat("Equity Final [$]", -5.0) == "\u2212$5.00"
    assert display.format_stat("Sharpe Ratio", -0.5) == "\u22120.50"


def test_trade_rows_format_money_shares_and_reasons():
    run = {
        "trades": [
            {
                "size": -1200,
                "side": "short",
                "entry_time": "2024-01-02T00:00:00",
                "exit_time": "2024-02-01T00:00:00",
                "entry_price": 1523.456,
                "exit_price": 1600.0,
                "pnl": -91852.8,
                "return_pct": -5.024,
                "exit_reason": "end",
            }
        ],
        "open_trade": None,
    }
    (row,) = display.trade_rows(run)
    assert row["shares"] == "1,200" and row["entry_money"] == "$1,523.46"
    assert row["pnl_money"] == "\u2212$91,852.80" and row["return_text"] == "\u22125.02 %"
    assert row["reason_label"] == "end of test" and row["exit_date"] == "2024-02-01"


def test_statistics_split_in_two_columns():
    rows = display.stat_rows({"Return [%]": 1.0, "Sharpe Ratio": 2.0, "# Trades": 3})
    left, right = display.stat_columns(rows)
    assert [r.key for r in left] == ["Return [%]", "Sharpe Ratio"]
    assert [r.key for r in right] == ["# Trades"]
