"""Daily prices from CSV files, checked row by row before anything is stored.

A file holds one ticker (its symbol from the file name, `AAPL.csv`, or given) or many (a
`symbol` column). Columns, in any order and any case: date, open, high, low, close, volume,
optional adj_close ("Adj Close"); an unnamed first column is taken as the date (pandas'
`to_csv` writes the index that way). Every problem is reported with its file, line and column;
the caller stores nothing unless there is none.

`PriceReader` streams: it yields valid bars in batches and never holds a whole file, so
memory stays flat whatever the files' size (the import command writes each batch inside one
transaction and rolls it all back when any row was wrong). Duplicate (symbol, date) rows are
found with one bitmap of dates per symbol; the line of the first occurrence is looked up by
a second pass only when there is a duplicate to report.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
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

# Asset types an import knows without being told (`import_prices --asset-type` overrides;
# `sync_tickers` fills the rest from the vendor's reference data). The AI score trains on and
# scores common stocks only, so a fund or an index must never default to "stock".
KNOWN_ETFS = frozenset(
    {
        "SPY", "IVV", "VOO", "VTI", "QQQ", "DIA", "IWM", "IWB", "IWV", "MDY", "RSP", "EFA",
        "EEM", "VEA", "VWO", "AGG", "BND", "TLT", "IEF", "SHY", "LQD", "HYG", "GLD", "SLV",
        "USO", "VNQ", "XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV",
        "XLY", "SMH", "SOXX", "ARKK", "VUG", "VTV", "VIG", "SCHD", "TQQQ", "SQQQ",
    }
)  # fmt: skip
INDEX_PREFIX = "^"  # Yahoo-style index symbols: ^GSPC, ^VIX


def known_asset_type(symbol: str) -> str | None:
    """ "etf" or "index" for a symbol known to be one, else None (no opinion)."""
    if symbol.startswith(INDEX_PREFIX):
        return "index"
    return "etf" if symbol in KNOWN_ETFS else None


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
    """Read every file into memory at once (small files, tests); the import command streams
    with `PriceReader` instead."""
    reader = PriceReader(paths, symbol=symbol, source=source)
    parsed = ParsedPrices()
    for batch in reader.batches():
        parsed.bars.extend(batch)
    parsed.errors, parsed.files = reader.errors, reader.files
    return parsed


class _SeenDates:
    """Per symbol, a growable bitmap of the dates seen: about 46 bytes per symbol-year."""

    def __init__(self) -> None:
        self._maps: dict[str, tuple[int, bytearray]] = {}

    def add(self, symbol: str, day: date) -> bool:
        """Record (symbol, day); False when it was there already."""
        ordinal = day.toordinal()
        base, bits = self._maps.get(symbol, (ordinal, bytearray()))
        if ordinal < base:
            shift = (base - ordinal + 7) // 8
            bits = bytearray(shift) + bits
            base -= shift * 8
        offset = ordinal - base
        if offset // 8 >= len(bits):
            bits.extend(bytearray(offset // 8 - len(bits) + 366))
        byte, bit = divmod(offset, 8)
        seen = bits[byte] >> bit & 1
        bits[byte] |= 1 << bit
        self._maps[symbol] = (base, bits)
        return not seen


class PriceReader:
    """Streams bars out of CSV files; `errors` fills as rows are read (see the module doc).

    `off_calendar` counts valid rows dated on a day that is not an NYSE session (a weekend,
    a holiday) when `calendar` is "nyse"; `calendar="none"` accepts any day silently (non-US
    or synthetic data)."""

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        symbol: str | None = None,
        source: str = "csv",
        calendar: str = "nyse",
    ) -> None:
        self.paths = csv_files(paths)
        self.symbol = symbol
        self.source = source
        self.calendar = calendar
        self.errors: list[str] = []
        self.files = 0
        self.rows = 0
        self.off_calendar = 0
        self.off_calendar_examples: list[str] = []
        self.symbols: set[str] = set()

    def batches(self, size: int = 20_000) -> Iterator[list[Bar]]:
        """Valid bars in lists of at most `size`. Rows keep being checked after an error
        (so every problem is reported), but no batch is yielded after the first one."""
        seen = _SeenDates()
        # (symbol, date) -> [(line of the repeat, index of its error)]
        duplicates: dict[tuple[str, date], list[tuple[str, int]]] = {}
        batch: list[Bar] = []
        for where, bar in self._rows():
            if not seen.add(bar.symbol, bar.date):
                self.errors.append("")  # in reading order; worded once the first line is known
                duplicates.setdefault((bar.symbol, bar.date), []).append(
                    (where, len(self.errors) - 1)
                )
                continue
            self.rows += 1
            self.symbols.add(bar.symbol)
            self._check_session(where, bar)
            if self.errors:
                continue
            batch.append(bar)
            if len(batch) >= size:
                yield batch
                batch = []
        if duplicates:
            self._name_first_lines(duplicates)
        if batch and not self.errors:
            yield batch
        if not self.files:
            self.errors.append("no CSV files found")

    def _check_session(self, where: str, bar: Bar) -> None:
        if self.calendar == "none":
            return
        from markets import calendar

        if not calendar.is_session(bar.date):
            self.off_calendar += 1
            if len(self.off_calendar_examples) < 5:
                self.off_calendar_examples.append(f"{where} ({bar.symbol} {bar.date})")

    def _name_first_lines(self, duplicates: dict[tuple[str, date], list[tuple[str, int]]]) -> None:
        """Second pass, errors only: where each duplicated (symbol, date) first appeared."""
        first: dict[tuple[str, date], str] = {}
        for where, bar in self._rows(record=False):
            key = (bar.symbol, bar.date)
            if key in duplicates and key not in first:
                first[key] = where
        for (symbol, day), repeats in duplicates.items():
            for where, index in repeats:
                self.errors[index] = (
                    f"{where}, column date: {day} for {symbol} already on {first[(symbol, day)]}"
                )

    def _rows(self, *, record: bool = True) -> Iterator[tuple[str, Bar]]:
        errors = self.errors if record else []
        for path in self.paths:
            if record:
                self.files += 1
            if not path.is_file():
                errors.append(f"{path}: no such file")
                continue
            try:
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    yield from _parse(handle, path.name, self.symbol, self.source, errors)
            except UnicodeDecodeError:
                errors.append(f"{path.name}: not a UTF-8 text file")
            except csv.Error as exc:
                errors.append(f"{path.name}: not a readable CSV file ({exc})")


def _parse(
    handle, name: str, symbol: str | None, source: str, errors: list[str]
) -> Iterator[tuple[str, Bar]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        errors.append(f"{name}: the file is empty")
        return
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        label = raw.strip().lower()
        for column, aliases in ALIASES.items():
            if label in aliases and column not in columns and (label or index == 0):
                columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        errors.append(
            f"{name} line 1: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(h.strip() or '(unnamed)' for h in header)})"
        )
        return
    file_symbol = None
    if "symbol" not in columns:
        file_symbol = (symbol or symbol_from_filename(Path(name))).strip().upper()
        if not SYMBOL.match(file_symbol):
            errors.append(
                f"{name}: {file_symbol!r} is not a ticker symbol; name the file AAPL.csv, "
                "pass --symbol, or add a symbol column"
            )
            return
    for row in reader:
        if len(errors) >= MAX_ERRORS:
            return
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name} line {reader.line_num}"
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
        if problems:
            errors.extend(f"{where}, {p}" for p in problems)
            continue
        yield where, Bar(row_symbol, day, o, h, lo, c, adj, volume, source)


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


@dataclass(frozen=True)
class CopyLayout:
    """How PostgreSQL's COPY can take a file as it is: the staging column for each of the
    header's columns (the first column a label names, `extra<n>` for the others), and the
    file's symbol when it has no symbol column."""

    path: Path
    columns: tuple[str, ...]
    symbol: str | None


def copy_layout(path: Path, symbol: str | None) -> CopyLayout | None:
    """The file's header read like `_parse` reads it, or None when the file is not plainly
    a header plus rows (missing, unreadable, empty, a column missing, a bad file name):
    `PriceReader` then reads it and words the problem."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return None
    if not first.endswith("\n"):
        return None  # empty, or a header without rows (nothing to gain)
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None
    names: list[str] = []
    for index, raw in enumerate(header):
        label = raw.strip().lower()
        name = f"extra{index}"
        for column, aliases in ALIASES.items():
            if label in aliases and column not in names and (label or index == 0):
                name = column
                break
        names.append(name)
    if any(c not in names for c in REQUIRED):
        return None
    file_symbol = None
    if "symbol" not in names:
        file_symbol = (symbol or symbol_from_filename(path)).strip().upper()
        if not SYMBOL.match(file_symbol):
            return None
    return CopyLayout(path, tuple(names), file_symbol)
