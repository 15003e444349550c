"""Validation of one transaction's input, shared by the forms and API (through
`portfolios.services`) and the CSV import (`portfolios.csv_io`): plain text, known tickers,
numbers, dates, and the ledger's own per-transaction rules. Errors are Django
`ValidationError`s keyed by the field they are about. No writes here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from markets.models import Ticker
from portfolios.ledger import (
    AMOUNT_TYPES,
    SYMBOL_TYPES,
    TRADE_TYPES,
    LedgerError,
    Txn,
    TxnType,
    validate_txn,
)
from qunex.text import plain_text

ZERO = Decimal(0)
LEDGER_FIELDS = ("quantity", "price", "fees", "amount", "symbol", "trade_date")


def clean_text(text: str | None, *, max_length: int | None = None, multiline: bool = False) -> str:
    """Plain text from user input (`qunex.text.plain_text`): tags stripped and entities
    decoded to a fixed point, so `&lt;script&gt;` is not stored as a live tag; control
    characters dropped. Names fold white space; `multiline` notes keep their line breaks."""
    plain = plain_text(text, collapse_space=not multiline)
    return plain[:max_length].strip() if max_length else plain


def ticker_resolve(symbol: str | None, *, field: str = "symbol") -> Ticker:
    """The Ticker for `symbol`; ValidationError on `field` when it is not in the universe."""
    text = (symbol or "").strip().upper()
    if not text:
        raise ValidationError({field: "Enter a ticker symbol."})
    ticker = Ticker.objects.filter(symbol=text).first()
    if ticker is None:
        raise ValidationError({field: f"Unknown ticker {text!r}: pick a symbol from the list."})
    return ticker


def decimal_input(value: Any, field: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: f"Enter a number, not {value!r}."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a finite number."})
    return number


def ledger_error_field(exc: LedgerError) -> str:
    """The form field a LedgerError is about: its own `field`, else the whole history."""
    if exc.field in LEDGER_FIELDS or exc.field == "type":
        return exc.field
    return NON_FIELD_ERRORS


def transaction_fields(
    *,
    type: str,
    trade_date: dt.date | None,
    symbol: str | None = None,
    quantity: Any = ZERO,
    price: Any = ZERO,
    fees: Any = ZERO,
    amount: Any = ZERO,
    notes: str = "",
    today: dt.date | None = None,
    tickers: dict[str, Ticker] | None = None,
) -> dict[str, Any]:
    """Validated model fields for one transaction; ValidationError naming the first bad field.

    Fields that do not apply to the type are zeroed (a deposit has no quantity). `tickers`
    is an optional {SYMBOL: Ticker} cache (CSV import resolves all symbols in one query).
    """
    try:
        kind = TxnType(str(type).strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in TxnType)
        raise ValidationError({"type": f"Unknown type {type!r}; use one of {choices}."}) from None
    if not isinstance(trade_date, dt.date):
        raise ValidationError({"trade_date": "Enter the trade date."})
    if trade_date > (today or timezone.localdate()):
        raise ValidationError({"trade_date": f"{trade_date} is in the future; enter a past trade."})
    text = (symbol or "").strip().upper()
    ticker = None
    if kind in SYMBOL_TYPES or (text and kind in (TxnType.FEE, TxnType.INTEREST)):
        if tickers is not None:
            ticker = tickers.get(text)
            if ticker is None:
                field_error = (
                    "Enter a ticker symbol."
                    if not text
                    else (f"Unknown ticker {text!r}: pick a symbol from the list.")
                )
                raise ValidationError({"symbol": field_error})
        else:
            ticker = ticker_resolve(text)
    values = {
        "quantity": decimal_input(quantity, "quantity"),
        "price": decimal_input(price, "price"),
        "fees": decimal_input(fees, "fees"),
        "amount": decimal_input(amount, "amount"),
    }
    if kind in TRADE_TYPES:
        values["amount"] = ZERO
    elif kind is TxnType.SPLIT:
        values.update(price=ZERO, fees=ZERO, amount=ZERO)
    elif kind in AMOUNT_TYPES:
        values.update(quantity=ZERO, price=ZERO, fees=ZERO)
    txn = Txn(type=kind, trade_date=trade_date, symbol=ticker.symbol if ticker else None, **values)
    try:
        validate_txn(txn)
    except LedgerError as exc:
        raise ValidationError({ledger_error_field(exc): str(exc)}) from None
    return {
        "type": kind.value,
        "trade_date": trade_date,
        "ticker": ticker,
        "notes": clean_text(notes, multiline=True),
        **values,
    }
