"""Every write to portfolios, transactions, watchlists, alerts and notifications.

Keyword-only and atomic. A transaction write is accepted only if the ledger accepts the
portfolio's whole resulting history (`_replay`), so an impossible sale or an overdraft is
refused with the ledger's message and nothing is saved. Errors are Django `ValidationError`s
keyed by the field they are about (`NON_FIELD_ERRORS` when they are about the history).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from markets.models import Ticker
from portfolios import csv_io
from portfolios.ledger import (
    Ledger,
    LedgerError,
    Txn,
    TxnType,
    build_ledger,
)
from portfolios.models import (
    AlertFiring,
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)
from portfolios.selectors import unread_cache_key
from portfolios.validation import (
    ZERO,
    clean_text,
    decimal_input,
    ledger_error_field,
    ticker_resolve,
    transaction_fields,
)
from qunex.templatetags import numbers

logger = logging.getLogger(__name__)

DEFAULT_BENCHMARK = "SPY"
_UNSET: Any = object()


# --- helpers ---------------------------------------------------------------------------------


def replay(
    txns: Iterable[Txn], *, track_cash: bool, subject: Txn | None = None, what: str = ""
) -> Ledger:
    """build_ledger over `txns`; a LedgerError becomes a ValidationError.

    When the offending transaction is `subject` (the one being written) the error goes on the
    field it is about; otherwise it is about the rest of the history and says so.
    """
    try:
        return build_ledger(txns, track_cash=track_cash)
    except LedgerError as exc:
        message = str(exc)
        if subject is not None and exc.txn is subject:
            raise ValidationError({ledger_error_field(exc): message}) from None
        prefix = f"{what} would break the history: " if what else ""
        raise ValidationError({NON_FIELD_ERRORS: prefix + message}) from None


def _history(portfolio: Portfolio, *, exclude: int | None = None) -> list[Txn]:
    rows = portfolio.transactions.select_related("ticker")
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return [row.to_txn() for row in rows]


def _lock(portfolio: Portfolio) -> Portfolio:
    """Serialize writes to one portfolio's history (row lock on PostgreSQL)."""
    return Portfolio.objects.select_for_update().get(pk=portfolio.pk)


def _benchmark(symbol: str | None) -> Ticker | None:
    """The benchmark ticker: None for blank; the default SPY quietly falls back to None."""
    text = (symbol or "").strip().upper()
    if not text:
        return None
    if text == DEFAULT_BENCHMARK:
        return Ticker.objects.filter(symbol=text).first()
    return ticker_resolve(text, field="benchmark")


def _clean_name(name: str) -> str:
    text = clean_text(name, max_length=100)
    if not text:
        raise ValidationError({"name": "Enter a name."})
    return text


def _taken(field: str, message: str) -> ValidationError:
    """A unique conflict (code "unique": the API answers 409, a page names the field)."""
    return ValidationError({field: ValidationError(message, code="unique")})


# --- portfolios ------------------------------------------------------------------------------


@transaction.atomic
def portfolio_create(
    *, owner, name: str, benchmark: str | None = DEFAULT_BENCHMARK, track_cash: bool = False
) -> Portfolio:
    name = _clean_name(name)
    if Portfolio.objects.filter(owner=owner, name=name).exists():
        raise _taken("name", f"You already have a portfolio named {name!r}.")
    portfolio = Portfolio(
        owner=owner, name=name, benchmark=_benchmark(benchmark), track_cash=track_cash
    )
    try:
        with transaction.atomic():
            portfolio.save()
    except IntegrityError:
        raise _taken("name", f"You already have a portfolio named {name!r}.") from None
    return portfolio


@transaction.atomic
def portfolio_update(
    *,
    portfolio: Portfolio,
    name: str | None = None,
    benchmark: str | None = _UNSET,
    track_cash: bool | None = None,
) -> Portfolio:
    locked = _lock(portfolio)
    if name is not None:
        name = _clean_name(name)
        if (
            Portfolio.objects.filter(owner=locked.owner_id, name=name)
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise _taken("name", f"You already have a portfolio named {name!r}.")
        locked.name = name
    if benchmark is not _UNSET:
        locked.benchmark = _benchmark(benchmark)
    if track_cash is not None and track_cash != locked.track_cash:
        try:
            build_ledger(_history(locked), track_cash=track_cash)
        except LedgerError as exc:
            raise ValidationError(
                {
                    "track_cash": f"Tracking cash is not possible with this history: {exc}. "
                    "Record the deposits that funded it first."
                }
            ) from None
        locked.track_cash = track_cash
    locked.save()
    return locked


@transaction.atomic
def portfolio_delete(*, portfolio: Portfolio) -> None:
    portfolio.delete()


# --- transactions ----------------------------------------------------------------------------


def _as_txn(fields: dict[str, Any], pk: int | None = None) -> Txn:
    ticker = fields["ticker"]
    return Txn(
        type=TxnType(fields["type"]),
        trade_date=fields["trade_date"],
        symbol=ticker.symbol if ticker else None,
        quantity=fields["quantity"],
        price=fields["price"],
        fees=fields["fees"],
        amount=fields["amount"],
        id=pk,
    )


@transaction.atomic
def transaction_create(
    *,
    portfolio: Portfolio,
    type: str,
    trade_date: dt.date | None,
    symbol: str | None = None,
    quantity: Any = ZERO,
    price: Any = ZERO,
    fees: Any = ZERO,
    amount: Any = ZERO,
    notes: str = "",
) -> Transaction:
    locked = _lock(portfolio)
    fields = transaction_fields(
        type=type,
        trade_date=trade_date,
        symbol=symbol,
        quantity=quantity,
        price=price,
        fees=fees,
        amount=amount,
        notes=notes,
    )
    new = _as_txn(fields)
    replay([*_history(locked), new], track_cash=locked.track_cash, subject=new)
    return Transaction.objects.create(portfolio=locked, **fields)


@transaction.atomic
def transaction_update(
    *,
    transaction_: Transaction,
    type: str = _UNSET,
    trade_date: dt.date | None = _UNSET,
    symbol: str | None = _UNSET,
    quantity: Any = _UNSET,
    price: Any = _UNSET,
    fees: Any = _UNSET,
    amount: Any = _UNSET,
    notes: str = _UNSET,
) -> Transaction:
    """Change a transaction; arguments left out keep their current value."""
    row = transaction_
    locked = _lock(row.portfolio)

    def keep(value: Any, current: Any) -> Any:
        return current if value is _UNSET else value

    fields = transaction_fields(
        type=keep(type, row.type),
        trade_date=keep(trade_date, row.trade_date),
        symbol=keep(symbol, row.symbol),
        quantity=keep(quantity, row.quantity),
        price=keep(price, row.price),
        fees=keep(fees, row.fees),
        amount=keep(amount, row.amount),
        notes=keep(notes, row.notes),
    )
    changed = _as_txn(fields, pk=row.pk)
    replay(
        [*_history(locked, exclude=row.pk), changed],
        track_cash=locked.track_cash,
        subject=changed,
        what="This change",
    )
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


@transaction.atomic
def transaction_delete(*, transaction_: Transaction) -> None:
    locked = _lock(transaction_.portfolio)
    replay(
        _history(locked, exclude=transaction_.pk),
        track_cash=locked.track_cash,
        what=f"Deleting the {transaction_.type}",
    )
    transaction_.delete()


@transaction.atomic
def transactions_import(*, portfolio: Portfolio, rows: Sequence[Any]) -> list[Transaction]:
    """Create all rows of a checked CSV upload, or none.

    The rows are checked again under the portfolio lock (the history may have changed since
    the preview); any error raises `portfolios.csv_io.ImportRejected` with the row errors.
    """
    locked = _lock(portfolio)
    checked = csv_io.check_rows(portfolio=locked, rows=rows)
    if checked.errors:
        raise csv_io.ImportRejected(checked.errors)
    created = Transaction.objects.bulk_create(
        [Transaction(portfolio=locked, **fields) for fields in checked.fields]
    )
    return created


# --- watchlists ------------------------------------------------------------------------------


@transaction.atomic
def watchlist_create(*, owner, name: str) -> Watchlist:
    name = _clean_name(name)
    if Watchlist.objects.filter(owner=owner, name=name).exists():
        raise _taken("name", f"You already have a watchlist named {name!r}.")
    return Watchlist.objects.create(owner=owner, name=name)


@transaction.atomic
def watchlist_update(*, watchlist: Watchlist, name: str) -> Watchlist:
    name = _clean_name(name)
    if (
        Watchlist.objects.filter(owner=watchlist.owner_id, name=name)
        .exclude(pk=watchlist.pk)
        .exists()
    ):
        raise _taken("name", f"You already have a watchlist named {name!r}.")
    watchlist.name = name
    watchlist.save(update_fields=["name"])
    return watchlist


@transaction.atomic
def watchlist_delete(*, watchlist: Watchlist) -> None:
    watchlist.delete()


def _targets(target_above: Any, target_below: Any) -> tuple[Decimal | None, Decimal | None]:
    above = None if target_above in (None, "") else decimal_input(target_above, "target_above")
    below = None if target_below in (None, "") else decimal_input(target_below, "target_below")
    if above is not None and above <= 0:
        raise ValidationError({"target_above": "Enter a price above 0."})
    if below is not None and below <= 0:
        raise ValidationError({"target_below": "Enter a price above 0."})
    if above is not None and below is not None and below >= above:
        raise ValidationError({"target_below": "The lower target must be below the upper one."})
    return above, below


@transaction.atomic
def watchlist_item_add(
    *,
    watchlist: Watchlist,
    symbol: str,
    note: str = "",
    target_above: Any = None,
    target_below: Any = None,
) -> WatchlistItem:
    ticker = ticker_resolve(symbol)
    if WatchlistItem.objects.filter(watchlist=watchlist, ticker=ticker).exists():
        raise _taken("symbol", f"{ticker.symbol} is already on {watchlist.name}.")
    above, below = _targets(target_above, target_below)
    return WatchlistItem.objects.create(
        watchlist=watchlist,
        ticker=ticker,
        note=clean_text(note, max_length=200),
        target_above=above,
        target_below=below,
    )


@transaction.atomic
def watchlist_item_update(
    *, item: WatchlistItem, note: str = "", target_above: Any = None, target_below: Any = None
) -> WatchlistItem:
    item.target_above, item.target_below = _targets(target_above, target_below)
    item.note = clean_text(note, max_length=200)
    item.save(update_fields=["note", "target_above", "target_below"])
    return item


@transaction.atomic
def watchlist_item_remove(*, item: WatchlistItem) -> None:
    item.delete()


# --- alerts and notifications ----------------------------------------------------------------


@transaction.atomic
def alert_create(*, owner, symbol: str, direction: str, threshold: Any) -> PriceAlert:
    ticker = ticker_resolve(symbol)
    if direction not in PriceAlert.Direction.values:
        raise ValidationError({"direction": "Choose above or below."})
    value = decimal_input(threshold, "threshold")
    if value <= 0:
        raise ValidationError({"threshold": "Enter a price above 0."})
    return PriceAlert.objects.create(
        owner=owner, ticker=ticker, direction=direction, threshold=value
    )


@transaction.atomic
def alert_rearm(*, alert: PriceAlert) -> PriceAlert:
    """Watch again: the alert fires once more the next time its condition holds."""
    PriceAlert.objects.filter(pk=alert.pk).update(armed=True)
    alert.armed = True
    return alert


@transaction.atomic
def alert_delete(*, alert: PriceAlert) -> None:
    alert.delete()


def alert_check(*, alert: PriceAlert, price: Decimal | None, now: dt.datetime | None = None) -> str:
    """Fire `alert` if it is armed and its condition holds at `price`.

    Returns "fired", "fired_email_failed", "not_met" or "already_fired".
    1. Nothing happens without a price or while the condition does not hold.
    2. `UPDATE ... SET armed = false WHERE id = ? AND armed` decides the winner: of two
       concurrent runs exactly one updates the row, so the alert fires exactly once.
    3. The winner records the firing and an in-app notification in the same transaction,
       then emails the owner (a mail failure is logged; the in-app notification stands).
    """
    if price is None or not alert.holds_at(price):
        return "not_met"
    now = now or timezone.now()
    text = f"Price alert: {alert.describe()} (last {numbers.price(price)})."
    with transaction.atomic():
        won = PriceAlert.objects.filter(pk=alert.pk, armed=True).update(armed=False, fired_at=now)
        if not won:
            return "already_fired"
        AlertFiring.objects.create(alert=alert, price=price, fired_at=now)
        Notification.objects.create(
            user=alert.owner, text=text[:300], url=reverse("portfolios:alert_list")
        )
    cache.delete(unread_cache_key(alert.owner_id))  # the top bar's unread count
    alert.armed, alert.fired_at = False, now
    try:
        _alert_email(alert, text)
    except Exception:
        logger.exception("alert %s: email to the owner failed", alert.pk)
        return "fired_email_failed"
    return "fired"


def _alert_email(alert: PriceAlert, text: str) -> None:
    url = settings.SITE_URL.rstrip("/") + reverse("portfolios:alert_list")
    send_mail(
        subject=f"[Qunex] {alert.describe()}",
        message=f"{text}\n\nThe alert is now off; re-arm it at {url} to be told again.",
        from_email=None,
        recipient_list=[alert.owner.email],
    )


@transaction.atomic
def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read=False)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    changed = rows.update(read=True)
    cache.delete(unread_cache_key(user.pk))
    return changed
