"""CSV import and export of a portfolio's transactions.

Columns (header names are case-insensitive; spaces and hyphens count as underscores):

    date      trade date, YYYY-MM-DD (or MM/DD/YYYY)   aliases: trade_date, tradedate
    type      buy, sell, dividend, fee, interest, deposit, withdrawal, split
                                                       aliases: action, transaction, side
    symbol    ticker symbol (buy, sell, dividend, split; optional for fee, interest)
                                                       aliases: ticker
    quantity  shares (buy/sell) or ratio (split: 4 = 4-for-1)   aliases: qty, shares
    price     price per share (buy/sell)
    fees      commission of a buy/sell                 aliases: fee, commission, commissions
    amount    cash amount of dividend, fee, interest, deposit, withdrawal
    notes     free text (HTML removed)                 aliases: note, memo, description

Numbers may carry "$" and thousands separators. Rows are numbered as in a spreadsheet: the
header is row 1. An import is all-or-nothing: `parse_csv` reads the file, `check_rows` checks
tickers, dates, duplicates (against the portfolio and within the file) and the ledger over the
whole resulting history; only a file without errors can be committed
(`services.transactions_import`). `export_csv` writes the canonical columns, and its output
imports into an empty portfolio as the same history.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from markets.models import Ticker
from portfolios.ledger import LedgerError, Txn, TxnType, build_ledger
from portfolios.models import Portfolio, Transaction
from portfolios.validation import ledger_error_field, transaction_fields

COLUMNS = ("date", "type", "symbol", "quantity", "price", "fees", "amount", "notes")
REQUIRED = ("date", "type")
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "trade_date", "tradedate", "trade_dt"),
    "type": ("type", "action", "transaction", "transaction_type", "side"),
    "symbol": ("symbol", "ticker"),
    "quantity": ("quantity", "qty", "shares"),
    "price": ("price", "share_price", "unit_price"),
    "fees": ("fees", "fee", "commission", "commissions"),
    "amount": ("amount",),
    "notes": ("notes", "note", "memo", "description"),
}
TYPE_ALIASES = {
    "bought": "buy",
    "purchase": "buy",
    "sold": "sell",
    "div": "dividend",
    "withdraw": "withdrawal",
    "commission": "fee",
}
FIELD_TO_COLUMN = {"trade_date": "date", "ticker": "symbol"}
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d")
FORMULA_STARTS = ("=", "+", "-", "@")


class ImportRejected(Exception):
    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = list(errors)


@dataclass(frozen=True)
class RowError:
    row: int | None  # spreadsheet row (header = 1); None: about the whole file
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(frozen=True)
class ImportRow:
    """One parsed row; values are normalised strings so the row fits in the session."""

    row: int
    type: str
    date: str
    symbol: str = ""
    quantity: str = "0"
    price: str = "0"
    fees: str = "0"
    amount: str = "0"
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportRow:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class ParsedFile:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class CheckedRows:
    fields: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _column_map(header: Sequence[str]) -> tuple[dict[str, int], list[str], list[RowError]]:
    lookup = {alias: canonical for canonical, names in ALIASES.items() for alias in names}
    found: dict[str, int] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for index, raw in enumerate(header):
        canonical = lookup.get(_header_key(raw))
        if canonical is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if canonical in found:
            errors.append(
                RowError(1, raw.strip(), f"is a second {canonical!r} column; keep only one.")
            )
            continue
        found[canonical] = index
    for column in REQUIRED:
        if column not in found:
            names = ", ".join(ALIASES[column])
            errors.append(RowError(1, column, f"is missing from the header (accepted: {names})."))
    return found, ignored, errors


def _number(text: str) -> str:
    cleaned = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    if cleaned == "":
        return "0"
    value = Decimal(cleaned)  # InvalidOperation handled by the caller
    if not value.is_finite():
        raise InvalidOperation
    return format(value.normalize(), "f") if value else "0"


def _date(text: str) -> str:
    value = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(value)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_csv(data: bytes | str) -> ParsedFile:
    """Read rows and report every unreadable value by row and column; no database access."""
    result = ParsedFile()
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            result.errors.append(RowError(None, None, "The file is larger than 2 MB; split it."))
            return result
        data = decode(data)
    reader = csv.reader(io.StringIO(data))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        result.errors.append(
            RowError(None, None, "The file is empty; the first row must be a header.")
        )
        return result
    columns, result.ignored_columns, header_errors = _column_map(header)
    if header_errors:
        result.errors.extend(header_errors)
        return result
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(result.rows) >= MAX_ROWS:
            result.errors.append(
                RowError(number, None, f"More than {MAX_ROWS} rows; split the file.")
            )
            break
        row = _parse_row(number, cells, columns, result.errors)
        if row is not None:
            result.rows.append(row)
    if not result.rows and not result.errors:
        result.errors.append(RowError(None, None, "The file has a header but no rows."))
    return result


def _parse_row(
    number: int, cells: list[str], columns: dict[str, int], errors: list[RowError]
) -> ImportRow | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    values: dict[str, str] = {}
    before = len(errors)
    kind = cell("type").lower()
    kind = TYPE_ALIASES.get(kind, kind)
    if kind not in TxnType._value2member_map_:
        choices = ", ".join(t.value for t in TxnType)
        shown = cell("type") or "(empty)"
        errors.append(RowError(number, "type", f"{shown!r} is not a type; use one of {choices}."))
    values["type"] = kind
    try:
        values["date"] = _date(cell("date"))
    except ValueError:
        shown = cell("date") or "(empty)"
        errors.append(RowError(number, "date", f"{shown!r} is not a date; use YYYY-MM-DD."))
    for name in ("quantity", "price", "fees", "amount"):
        try:
            values[name] = _number(cell(name))
        except (InvalidOperation, ValueError):
            errors.append(RowError(number, name, f"{cell(name)!r} is not a number."))
    if len(errors) > before:
        return None
    notes = cell("notes")
    if notes[:1] == "'" and notes[1:2] in FORMULA_STARTS:
        notes = notes[1:]
    return ImportRow(row=number, symbol=cell("symbol").upper(), notes=notes, **values)


def _dup_key(txn_type: str, date: dt.date, symbol: str | None, *numbers: Decimal) -> tuple:
    return (txn_type, date, symbol or "", *(n.normalize() for n in numbers))


def check_rows(*, portfolio: Portfolio, rows: Sequence[ImportRow | dict]) -> CheckedRows:
    """Check parsed rows against the database: 2 queries (tickers, the portfolio's history).

    1. Each row becomes validated model fields (`validation.transaction_fields`): known ticker,
       no future date, positive quantity/amount, fields that apply to the type.
    2. A row equal (date, type, symbol, quantity, price, amount) to a transaction already in
       the portfolio, or to an earlier row of the file, is a duplicate.
    3. The ledger replays the portfolio's history plus all rows; its error names the row.
    """
    items = [r if isinstance(r, ImportRow) else ImportRow.from_dict(r) for r in rows]
    symbols = {r.symbol for r in items if r.symbol}
    tickers = {t.symbol: t for t in Ticker.objects.filter(symbol__in=symbols)} if symbols else {}
    history = list(portfolio.transactions.select_related("ticker"))
    existing = {
        _dup_key(t.type, t.trade_date, t.symbol, t.quantity, t.price, t.amount): t for t in history
    }
    result = CheckedRows()
    seen: dict[tuple, int] = {}
    txns: dict[int, Txn] = {}
    for item in items:
        try:
            fields = transaction_fields(
                type=item.type,
                trade_date=dt.date.fromisoformat(item.date),
                symbol=item.symbol,
                quantity=item.quantity,
                price=item.price,
                fees=item.fees,
                amount=item.amount,
                notes=item.notes,
                tickers=tickers,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = None if name == NON_FIELD_ERRORS else FIELD_TO_COLUMN.get(name, name)
                result.errors.extend(RowError(item.row, column, m) for m in messages)
            continue
        symbol = fields["ticker"].symbol if fields["ticker"] else None
        key = _dup_key(
            fields["type"],
            fields["trade_date"],
            symbol,
            fields["quantity"],
            fields["price"],
            fields["amount"],
        )
        if key in existing:
            result.errors.append(
                RowError(
                    item.row,
                    None,
                    f"duplicate of a transaction already in the portfolio ({existing[key]}).",
                )
            )
            continue
        if key in seen:
            result.errors.append(
                RowError(item.row, None, f"duplicate of row {seen[key]} of this file.")
            )
            continue
        seen[key] = item.row
        result.fields.append(fields)
        txns[item.row] = Txn(
            type=TxnType(fields["type"]),
            trade_date=fields["trade_date"],
            symbol=symbol,
            quantity=fields["quantity"],
            price=fields["price"],
            fees=fields["fees"],
            amount=fields["amount"],
        )
    if result.errors:
        return result
    try:
        build_ledger(
            [*(t.to_txn() for t in history), *txns.values()], track_cash=portfolio.track_cash
        )
    except LedgerError as exc:
        row = next((n for n, t in txns.items() if t is exc.txn), None)
        column = None
        if row is not None:
            name = ledger_error_field(exc)
            column = None if name == NON_FIELD_ERRORS else FIELD_TO_COLUMN.get(name, name)
        result.errors.append(RowError(row, column, str(exc)))
    return result


def _formula_safe(text: str) -> str:
    """Quote text a spreadsheet would run as a formula; `_parse_row` removes the quote."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def export_rows(transactions: Sequence[Transaction]) -> list[dict[str, str]]:
    def num(value: Decimal) -> str:
        return format(value.normalize(), "f") if value else "0"

    return [
        {
            "date": t.trade_date.isoformat(),
            "type": t.type,
            "symbol": t.symbol or "",
            "quantity": num(t.quantity),
            "price": num(t.price),
            "fees": num(t.fees),
            "amount": num(t.amount),
            "notes": _formula_safe(t.notes),
        }
        for t in transactions
    ]


def export_csv(*, portfolio: Portfolio) -> str:
    """The portfolio's transactions in the canonical columns, in trade order (1 query)."""
    rows = portfolio.transactions.select_related("ticker").order_by("trade_date", "id")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(list(rows)))
    return out.getvalue()
