"""Formatting and the heatmap's colour buckets (pure functions over a stored result)."""

from __future__ import annotations

from backtests import display


def test_format_stat():
    assert display.format_stat("Return [%]", 12.345) == "+12.35%"
    assert display.format_stat("Win Rate [%]", 54.321) == "54.32%", "a level, not a change"
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


def test_heat_classes_diverge_around_the_centre_and_mark_missing_cells():
    assert display.heat_class(0.0, 0.0, 1.0) == "heat-mid"
    assert display.heat_class(1.0, 0.0, 1.0) == "heat-9"
    assert display.heat_class(-1.0, 0.0, 1.0) == "heat-0"
    assert display.heat_class(0.05, 0.0, 1.0) == "heat-5", "a small gain is the faintest green"
    assert display.heat_class(-0.05, 0.0, 1.0) == "heat-4", "a small loss is the faintest red"
    assert display.heat_class(0.55, 0.0, 1.0) == "heat-7"
    assert display.heat_class(None, 0.0, 1.0) == "heat-none"
    assert display.heat_class(float("nan"), 0.0, 1.0) == "heat-none"
    assert display.heat_class(3.0, 3.0, 0.0) == "heat-mid"
    assert display.count_class(0, 10) == "heat-count-0"
    assert display.count_class(10, 10) == "heat-count-4"


def _sweep(rows, grid=None, **extra):
    return {"grid": grid or {"fast": [5, 10, 20], "slow": [10, 20]}, "rows": rows, **extra}


def _row(fast, slow, sharpe, trades=3, ret=1.0):
    stats = {"Sharpe Ratio": sharpe, "# Trades": trades, "Return [%]": ret}
    return {"params": {"fast": fast, "slow": slow}, "stats": stats}


def test_a_positive_sharpe_is_never_red_whatever_the_other_cells():
    """The issue's case: 0.31 was red because the scale ran from the lowest to the highest."""
    heat = display.heatmap(_sweep([_row(5, 10, 0.31), _row(5, 20, 1.8)]), "Sharpe Ratio")
    cells = [c for r in heat["rows"] for c in r["cells"] if c["kind"] == "value"]
    assert {c["value"]: c["css"] for c in cells} == {1.8: "heat-9", 0.31: "heat-5"}
    assert heat["low"] == "\u22121.80" and heat["mid"] == "0.00" and heat["high"] == "1.80"
    assert heat["diverging"]


def test_no_trades_skipped_and_undefined_cells_differ_and_say_why():
    rows = [
        _row(5, 10, 0.5),
        _row(5, 20, None, trades=0, ret=0.0),  # ran, never traded
        _row(10, 20, float("nan"), trades=4),  # traded, Sharpe undefined
        # (10, 10), (20, 10), (20, 20): fast >= slow, skipped: not in the rows
    ]
    heat = display.heatmap(_sweep(rows, n_skipped=3), "Sharpe Ratio")
    by_xy = {(c["x"], r["y"]): c for r in heat["rows"] for c in r["cells"]}
    assert by_xy[(5, 10)]["kind"] == "value"
    assert by_xy[(5, 20)]["kind"] == "no-trades" and by_xy[(5, 20)]["css"] == "heat-no-trades"
    assert by_xy[(5, 20)]["display"] == "no trades"
    assert "no trades" in by_xy[(5, 20)]["title"] and "fast 5, slow 20" in by_xy[(5, 20)]["title"]
    assert by_xy[(10, 20)]["kind"] == "undefined" and by_xy[(10, 20)]["display"] == "n/a"
    assert by_xy[(20, 10)]["kind"] == "skipped" and by_xy[(20, 10)]["css"] == "heat-skipped"
    assert "skipped" in by_xy[(20, 10)]["title"]
    assert by_xy[(5, 10)]["title"] == "fast 5, slow 10: 0.50"
    assert heat["has_no_trades"] and heat["has_skipped"] and heat["has_undefined"]


def test_a_zero_trade_return_never_beats_a_traded_one_in_a_cell():
    grid = {"fast": [5], "slow": [10], "hold": [1, 2]}
    rows = [
        {"params": {"fast": 5, "slow": 10, "hold": 1}, "stats": {"Return [%]": 0.0, "# Trades": 0}},
        {
            "params": {"fast": 5, "slow": 10, "hold": 2},
            "stats": {"Return [%]": -2.0, "# Trades": 1},
        },
    ]
    heat = display.heatmap({"grid": grid, "rows": rows}, "Return [%]")
    (cell,) = heat["rows"][0]["cells"]
    assert cell["value"] == -2.0 and cell["css"] == "heat-0"


def test_final_equity_is_centred_on_the_starting_cash_and_trades_on_one_colour():
    rows = [_row(5, 10, 1.0), _row(5, 20, 1.0, trades=10)]
    for r, equity in zip(rows, (9_000.0, 12_000.0), strict=True):
        r["stats"]["Equity Final [$]"] = equity
    result = _sweep(rows, config={"cash": 10_000.0})
    heat = display.heatmap(result, "Equity Final [$]")
    cells = {c["value"]: c["css"] for r in heat["rows"] for c in r["cells"] if c["value"]}
    assert cells[9_000.0].startswith("heat-") and int(cells[9_000.0][5:]) < 5, "a loss is red"
    assert cells[12_000.0] == "heat-9"
    assert heat["mid"] == "$10,000.00"
    trades = display.heatmap(result, "# Trades")
    assert not trades["diverging"]
    css = {c["value"]: c["css"] for r in trades["rows"] for c in r["cells"] if c["value"]}
    assert css == {3: "heat-count-1", 10: "heat-count-4"}


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
    assert [c["css"] for c in row["cells"]] == ["heat-9", "heat-undefined"]
    assert display.heatmap(result, "Not a metric") is None


def test_money_and_numbers_have_separators_and_a_real_minus_sign():
    assert display.money(1234567.891) == "$1,234,567.89"
    assert display.money(-1234.5) == "\u2212$1,234.50"
    assert display.number(-0.001) == "0.00", "no minus on a figure that rounds to zero"
    assert display.number(-3.2) == "\u22123.20"
    assert display.format_stat("Return [%]", -12.345) == "\u221212.35%"
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
    assert row["pnl_money"] == "\u2212$91,852.80" and row["return_text"] == "\u22125.02%"
    assert row["reason_label"] == "end of test" and row["exit_date"] == "2024-02-01"


def test_statistics_split_in_two_columns():
    rows = display.stat_rows({"Return [%]": 1.0, "Sharpe Ratio": 2.0, "# Trades": 3})
    left, right = display.stat_columns(rows)
    assert [r.key for r in left] == ["Return [%]", "Sharpe Ratio"]
    assert [r.key for r in right] == ["# Trades"]
