"""Demo portfolio, watchlist and alerts for the demo user, priced from the demo daily bars.

`seed(user=, stdout=)` runs after markets' demo seed (qunex/demo.py). Every trade is priced
at the close of its trading day, read from DailyBar, so the portfolio's figures agree with the
charts. It goes through the services, so the ledger checks each row. Idempotent: an existing
demo portfolio, watchlist or alert is left as it is.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import ROUND_DOWN, Decimal
from typing import TextIO

from django.db import transaction

from markets.models import DailyBar, Ticker
from portfolios import services
from portfolios.models import Portfolio, PriceAlert, Watchlist, WatchlistItem

PORTFOLIO_NAME = "Demo: long-term portfolio"
WATCHLIST_NAME = "Demo: watching"
CENT = Decimal("0.01")
COMMISSION = Decimal("1.00")

# (years after the start, symbol, dollars to invest)
BUYS = [
    (0.0, "AAPL", 8000),
    (0.0, "MSFT", 8000),
    (0.0, "JPM", 6000),
    (0.0, "KO", 5000),
    (0.0, "SPY", 8000),
    (1.0, "NVDA", 5000),
    (1.0, "XOM", 4000),
    (3.0, "AMZN", 6000),
]
DEPOSITS = [(0.0, 40000), (1.0, 10000), (3.0, 5000)]
WITHDRAWALS = [(3.5, 3000)]
SALES = [(2.0, "AAPL", Decimal("0.5"))]  # sell half the AAPL position
ACCOUNT_FEES = [(1.5, 25), (2.5, 25), (3.5, 25)]
# Quarterly dividend per share (roughly the real ones).
DIVIDENDS = {
    "AAPL": "0.24",
    "MSFT": "0.75",
    "JPM": "1.10",
    "KO": "0.46",
    "XOM": "0.95",
    "SPY": "1.70",
}
WATCHLIST = ["NVDA", "AMD", "TSLA", "GOOGL", "META", "LLY", "COST", "V"]
YEARS = 4


class _Closes:
    """Closes per symbol from one query; `on(symbol, day)` is the first close on/after day."""

    def __init__(self, symbols: list[str], start: dt.date) -> None:
        rows = (
            DailyBar.objects.filter(ticker__symbol__in=symbols, date__gte=start)
            .order_by("date")
            .values_list("ticker__symbol", "date", "close")
        )
        self.dates: dict[str, list[dt.date]] = {}
        self.closes: dict[str, list[Decimal]] = {}
        for symbol, day, close in rows:
            self.dates.setdefault(symbol, []).append(day)
            self.closes.setdefault(symbol, []).append(close)

    def on(self, symbol: str, day: dt.date) -> tuple[dt.date, Decimal] | None:
        dates = self.dates.get(symbol, [])
        i = bisect.bisect_left(dates, day)
        if i == len(dates):
            return None
        return dates[i], self.closes[symbol][i].quantize(CENT)


def _plan(start: dt.date, last: dt.date, closes: _Closes) -> list[dict]:
    """The demo history as transaction_create keyword arguments, in date order."""

    def when(years: float) -> dt.date:
        return start + dt.timedelta(days=round(years * 365.25))

    rows: list[dict] = []
    held: dict[str, Decimal] = {}
    for years, amount in DEPOSITS:
        rows.append({"type": "deposit", "trade_date": when(years), "amount": Decimal(amount)})
    for years, amount in WITHDRAWALS:
        rows.append({"type": "withdrawal", "trade_date": when(years), "amount": Decimal(amount)})
    for years, amount in ACCOUNT_FEES:
        rows.append(
            {
                "type": "fee",
                "trade_date": when(years),
                "amount": Decimal(amount),
                "notes": "Account fee",
            }
        )
    trades = [(y, "buy", s, Decimal(a)) for y, s, a in BUYS] + [
        (y, "sell", s, share) for y, s, share in SALES
    ]
    for years, kind, symbol, size in sorted(trades, key=lambda t: (t[0], t[1] == "sell")):
        found = closes.on(symbol, when(years))
        if found is None:
            continue
        day, price = found
        if kind == "buy":
            quantity = ((size - COMMISSION) / price).to_integral_value(ROUND_DOWN)
            if quantity <= 0:
                continue
            held[symbol] = held.get(symbol, Decimal(0)) + quantity
            notes = ""
        else:
            quantity = (held.get(symbol, Decimal(0)) * size).to_integral_value(ROUND_DOWN)
            if quantity <= 0:
                continue
            held[symbol] -= quantity
            notes = "Trimmed after a strong run"
        rows.append(
            {
                "type": kind,
                "trade_date": day,
                "symbol": symbol,
                "quantity": quantity,
                "price": price,
                "fees": COMMISSION,
                "notes": notes,
            }
        )
    rows.extend(_dividends(rows, start, last))
    return sorted(rows, key=lambda r: (r["trade_date"], r["type"] != "deposit"))


def _dividends(trades: list[dict], start: dt.date, last: dt.date) -> list[dict]:
    """A dividend every quarter on the shares held that day."""
    rows = []
    day = start + dt.timedelta(days=45)
    while day <= last - dt.timedelta(days=5):
        for symbol, per_share in DIVIDENDS.items():
            shares = sum(
                (t["quantity"] if t["type"] == "buy" else -t["quantity"])
                for t in trades
                if t.get("symbol") == symbol and t["trade_date"] < day
            )
            if shares > 0:
                amount = (shares * Decimal(per_share)).quantize(CENT)
                rows.append(
                    {"type": "dividend", "trade_date": day, "symbol": symbol, "amount": amount}
                )
        day += dt.timedelta(days=91)
    return rows


@transaction.atomic
def _seed_portfolio(user, stdout: TextIO) -> None:
    if Portfolio.objects.filter(owner=user, name=PORTFOLIO_NAME).exists():
        stdout.write(f"Portfolios: {PORTFOLIO_NAME!r} already there, left as it is.")
        return
    last = (
        DailyBar.objects.filter(ticker__symbol="SPY")
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if last is None:
        stdout.write("Portfolios: no daily closes for the demo tickers, so no demo portfolio.")
        return
    start = last - dt.timedelta(days=round(YEARS * 365.25))
    symbols = sorted({s for _, s, _ in BUYS} | set(DIVIDENDS))
    plan = _plan(start, last, _Closes(symbols, start))
    portfolio = services.portfolio_create(owner=user, name=PORTFOLIO_NAME, track_cash=True)
    for row in plan:
        services.transaction_create(portfolio=portfolio, **row)
    stdout.write(
        f"Portfolios: {PORTFOLIO_NAME!r} with {len(plan)} transactions, {plan[0]['trade_date']}.."
        f"{plan[-1]['trade_date']}."
    )


@transaction.atomic
def _seed_watchlist(user, stdout: TextIO) -> None:
    watchlist, _ = Watchlist.objects.get_or_create(owner=user, name=WATCHLIST_NAME)
    tickers = Ticker.objects.with_quote().filter(symbol__in=WATCHLIST)
    added = 0
    for ticker in tickers:
        quote = getattr(ticker, "quote", None)
        above = (
            (quote.price * Decimal("1.1")).quantize(CENT)
            if quote and ticker.symbol in ("NVDA", "LLY")
            else None
        )
        _, created = WatchlistItem.objects.get_or_create(
            watchlist=watchlist,
            ticker=ticker,
            defaults={"target_above": above, "note": "Breakout watch" if above else ""},
        )
        added += created
    alerts = 0
    for symbol, direction, factor in (("NVDA", "above", "1.08"), ("AAPL", "below", "0.92")):
        ticker = Ticker.objects.with_quote().filter(symbol=symbol).first()
        if ticker is None or getattr(ticker, "quote", None) is None:
            continue
        _, created = PriceAlert.objects.get_or_create(
            owner=user,
            ticker=ticker,
            direction=direction,
            defaults={"threshold": (ticker.quote.price * Decimal(factor)).quantize(CENT)},
        )
        alerts += created
    stdout.write(
        f"Watchlists: {WATCHLIST_NAME!r} ({added} tickers added), {alerts} price alert(s) added."
    )


def seed(*, user, stdout: TextIO) -> None:
    _seed_portfolio(user, stdout)
    _seed_watchlist(user, stdout)
