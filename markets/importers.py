"""Daily prices from CSV files, checked row by row before anything is stored.

A file holds one ticker (its symbol from the file name, `AAPL.csv`, or given) or many (a
`symbol` column). Columns, in any order and any case: date, open, high, low, close, volume,
optional adj_close ("Adj Close"); an unnamed first column is taken as the date (pandas'
`to_csv` writes the index that way). Every problem is reported with its file, line and column;
the caller stores nothing unless there is none.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from markets.providers import Bar

SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-^=]{0,11}$")
MAX_ERRORS = 200  # a file that is wrong everywhere stops being read here

ALIASES = {
    "date": {"date", "", "day", "timestamp", "time", "datetime"},
    "open": {"open", "o"},
    "high": {"high", "h"},
    "low": {"low", "l"},
    "close": {"close", "c", "last", "price"},
    "adj_close": {"adj_close", "adj close", "adjclose", "adjusted_close", "adjusted close"},
    "volume": {"volume", "vol", "v"},
    "symbol": {"symbol", "ticker"},
}
REQUIRED = ("date", "open", "high", "low", "close", "volume")


@dataclass
class ParsedPrices:
    bars: list[Bar] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def symbols(self) -> set[str]:
        return {b.symbol for b in self.bars}


def csv_files(paths: Iterable[str | Path]) -> list[Path]:
    """The given files, and the *.csv files directly inside the given directories."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv"))
        else:
            found.append(path)
    return found


def symbol_from_filename(path: Path) -> str:
    """`aapl.csv` -> AAPL, `BRK.B.csv` -> BRK.B, `MSFT_daily.csv` -> MSFT."""
    return path.stem.split("_")[0].strip().upper()


def parse_price_files(
    paths: Iterable[str | Path], *, symbol: str | None = None, source: str = "csv"
) -> ParsedPrices:
    """Read every file; collect all bars and all row errors (the same (symbol, date) twice,
    across files too, is an error)."""
    parsed = ParsedPrices()
    seen: dict[tuple[str, date], str] = {}
    for path in csv_files(paths):
        parsed.files += 1
        if not path.is_file():
            parsed.errors.append(f"{path}: no such file")
            continue
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                _parse(handle, path.name, symbol, source, parsed, seen)
        except UnicodeDecodeError:
            parsed.errors.append(f"{path.name}: not a UTF-8 text file")
        except csv.Error as exc:
            parsed.errors.append(f"{path.name}: not a readable CSV file ({exc})")
    if not parsed.files:
        parsed.errors.append("no CSV files found")
    return parsed


def _parse(
    handle,
    name: str,
    symbol: str | None,
    source: str,
    parsed: ParsedPrices,
    seen: dict[tuple[str, date], str],
) -> None:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        parsed.errors.append(f"{name}: the file is empty")
        return
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        label = raw.strip().lower()
        for column, aliases in ALIASES.items():
            if label in aliases and column not in columns and (label or index == 0):
                columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        parsed.errors.append(
            f"{name} line 1: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(h.strip() or '(unnamed)' for h in header)})"
        )
        return
    file_symbol = None
    if "symbol" not in columns:
        file_symbol = (symbol or symbol_from_filename(Path(name))).strip().upper()
        if not SYMBOL.match(file_symbol):
            parsed.errors.append(
                f"{name}: {file_symbol!r} is not a ticker symbol; name the file AAPL.csv, "
                "pass --symbol, or add a symbol column"
            )
            return
    for row in reader:
        if len(parsed.errors) >= MAX_ERRORS:
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name} line {line}"
        problems: list[str] = []

        def cell(column: str, row=row) -> str:
            index = columns.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        row_symbol = file_symbol or cell("symbol").upper()
        if not SYMBOL.match(row_symbol):
            problems.append(f"column symbol: {cell('symbol')!r} is not a ticker symbol")
        day = _date(cell("date"), problems)
        prices = {c: _number(c, cell(c), problems) for c in ("open", "high", "low", "close")}
        adj = _number("adj_close", cell("adj_close"), problems) if cell("adj_close") else None
        volume = _volume(cell("volume"), problems)
        if not problems:
            o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
            if h < max(o, lo, c):
                problems.append(f"column high: {h} is below open, low or close")
            if lo > min(o, c):
                problems.append(f"column low: {lo} is above open or close")
        if not problems:
            key = (row_symbol, day)
            if key in seen:
                problems.append(f"column date: {day} for {row_symbol} already on {seen[key]}")
            else:
                seen[key] = where
        if problems:
            parsed.errors.extend(f"{where}, {p}" for p in problems)
            continue
        parsed.bars.append(Bar(row_symbol, day, o, h, lo, c, adj, volume, source))


def _date(text: str, problems: list[str]) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
        if moment.time() != datetime.min.time():
            raise ValueError
        return moment.date()
    except ValueError:
        problems.append(f"column date: {text!r} is not a date (YYYY-MM-DD; daily bars only)")
        return date.min


def _number(column: str, text: str, problems: list[str]) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        problems.append(f"column {column}: {text!r} is not a number")
        return Decimal(0)
    if not value.is_finite() or value <= 0:
        problems.append(f"column {column}: {text!r} is not a positive price")
    return value


def _volume(text: str, problems: list[str]) -> int:
    try:
        value = Decimal(text.replace(",", "") or "0")
    except InvalidOperation:
        problems.append(f"column volume: {text!r} is not a number")
        return 0
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        problems.append(f"column volume: {text!r} is not a whole number of shares")
        return 0
    return int(value)
