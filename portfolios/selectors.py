"""Reads shared by the pages, the API, the dashboard panel and the alert job.

Every figure comes from `portfolios.ledger` and `portfolios.performance`; this module only
fetches rows (a fixed number of queries whatever the number of transactions or holdings)
and hands them to that maths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet

from markets.models import DailyBar, Ticker
from markets.prices import PriceInfo, latest_prices, price_annotations, price_info
from portfolios import performance as perf
from portfolios.ledger import (
    SHORT_TERM_MAX_DAYS,
    ZERO,
    Ledger,
    LedgerError,
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

PERIOD_LABELS = {
    "1M": "1 month",
    "3M": "3 months",
    "YTD": "Year to date",
    "1Y": "1 year",
    "Max": "Since start",
}


# --- portfolios ------------------------------------------------------------------------------


def portfolios_for(*, user) -> QuerySet[Portfolio]:
    return Portfolio.objects.filter(owner=user).select_related("benchmark")


def transactions_for(*, user) -> QuerySet[Transaction]:
    return (
        Transaction.objects.filter(portfolio__owner=user)
        .select_related("ticker", "portfolio")
        .order_by("trade_date", "id")
    )


@dataclass(frozen=True)
class HoldingRow:
    symbol: str
    name: str
    ticker_id: int | None
    sector: str
    is_demo: bool
    quantity: Decimal
    average_cost: Decimal
    cost_basis: Decimal
    price: Decimal
    price_source: str  # "quote", "close" or "trade" (last trade price: no market price)
    market_value: Decimal
    unrealized: Decimal
    unrealized_pct: Decimal | None
    previous_close: Decimal | None
    day_change: Decimal | None
    day_change_pct: Decimal | None
    weight: float
    dividends: Decimal


@dataclass
class PortfolioSummary:
    portfolio: Portfolio
    transactions: list[Transaction]
    ledger: Ledger | None
    holdings: list[HoldingRow] = field(default_factory=list)
    error: str = ""
    market_value: Decimal = ZERO
    cash: Decimal = ZERO
    total_value: Decimal = ZERO
    cost_basis: Decimal = ZERO
    unrealized: Decimal = ZERO
    realized: Decimal = ZERO
    dividends: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    fee_charges: Decimal = ZERO
    net_flows: Decimal = ZERO
    total_gain: Decimal = ZERO
    day_change: Decimal = ZERO
    previous_value: Decimal = ZERO
    has_demo: bool = False
    sectors: dict[str, str] = field(default_factory=dict)

    @property
    def day_change_pct(self) -> Decimal | None:
        return self.day_change / self.previous_value * 100 if self.previous_value else None

    @property
    def unrealized_pct(self) -> Decimal | None:
        return self.unrealized / self.cost_basis * 100 if self.cost_basis else None

    @property
    def income(self) -> Decimal:
        return self.dividends + self.interest

    @property
    def income_net(self) -> Decimal:
        """Dividends + interest - fee charges: with unrealized and realized P&L, the parts
        that add up to the total gain."""
        return self.income - self.fee_charges

    @property
    def prices(self) -> dict[str, Decimal]:
        return {h.symbol: h.price for h in self.holdings}

    @property
    def symbols(self) -> list[str]:
        return [h.symbol for h in self.holdings]

    def allocation_by_holding(self) -> dict[str, float]:
        return perf.allocation_by_holding(
            {h.symbol: h.market_value for h in self.holdings}, cash=self.cash
        )

    def allocation_by_sector(self) -> dict[str, float]:
        return perf.allocation_by_sector(
            {h.symbol: h.market_value for h in self.holdings}, self.sectors, cash=self.cash
        )


def _last_trade_prices(ledger: Ledger) -> dict[str, Decimal]:
    """Last buy/sell price per symbol, adjusted for later splits (used when no market price)."""
    last: dict[str, Decimal] = {}
    for txn in ledger.txns:
        if txn.type in (TxnType.BUY, TxnType.SELL):
            last[txn.symbol] = txn.price
        elif txn.type is TxnType.SPLIT and txn.symbol in last:
            last[txn.symbol] = last[txn.symbol] / txn.quantity
    return last


def _sector(info: PriceInfo) -> str:
    """The ticker's sector; funds without one count as "ETFs and funds"."""
    if info.sector:
        return info.sector
    return "ETFs and funds" if info.asset_type in ("etf", "index") else "Unknown"


def summarize(
    portfolio: Portfolio, transactions: Sequence[Transaction], prices: dict[int, PriceInfo]
) -> PortfolioSummary:
    """The summary of one portfolio from rows already fetched (no query)."""
    summary = PortfolioSummary(portfolio=portfolio, transactions=list(transactions), ledger=None)
    try:
        ledger = build_ledger((t.to_txn() for t in transactions), track_cash=portfolio.track_cash)
    except LedgerError as exc:
        summary.error = f"The history has an error the ledger cannot accept: {exc}."
        return summary
    summary.ledger = ledger
    ticker_ids = {t.symbol: t.ticker_id for t in transactions if t.ticker_id}
    fallback = _last_trade_prices(ledger)
    rows: list[HoldingRow] = []
    for symbol, holding in ledger.holdings.items():
        info = prices.get(ticker_ids.get(symbol, -1))
        if info is not None and info.price is not None:
            price, source = info.price, info.source
        else:
            price, source = fallback.get(symbol, holding.average_cost), "trade"
        quantity = holding.quantity
        value = holding.market_value(price)
        previous = info.previous_close if info is not None and source != "trade" else None
        day = quantity * (price - previous) if previous is not None else None
        if previous is not None:
            summary.previous_value += quantity * previous
            summary.day_change += day
        else:
            summary.previous_value += value
        if info is not None:
            summary.sectors[symbol] = _sector(info)
            summary.has_demo = summary.has_demo or info.is_demo
        unrealized = holding.unrealized_pnl(price)
        rows.append(
            HoldingRow(
                symbol=symbol,
                name=info.name if info else "",
                ticker_id=ticker_ids.get(symbol),
                sector=_sector(info) if info else "Unknown",
                is_demo=bool(info and info.is_demo),
                quantity=quantity,
                average_cost=holding.average_cost,
                cost_basis=holding.cost_basis,
                price=price,
                price_source=source,
                market_value=value,
                unrealized=unrealized,
                unrealized_pct=unrealized / holding.cost_basis * 100
                if holding.cost_basis
                else None,
                previous_close=previous,
                day_change=day,
                day_change_pct=(price - previous) / previous * 100 if previous else None,
                weight=0.0,
                dividends=ledger.dividends_by_symbol.get(symbol, ZERO),
            )
        )
    prices_by_symbol = {r.symbol: r.price for r in rows}
    summary.market_value = ledger.market_value(prices_by_symbol)
    summary.cash = ledger.cash
    summary.previous_value += ledger.cash
    summary.total_value = ledger.total_value(prices_by_symbol)
    summary.cost_basis = ledger.cost_basis
    summary.unrealized = ledger.unrealized_pnl(prices_by_symbol)
    summary.realized = ledger.realized_pnl
    summary.dividends = ledger.dividends
    summary.interest = ledger.interest
    summary.fees = ledger.fees_total
    summary.fee_charges = ledger.fee_charges
    summary.net_flows = ledger.net_external_flows
    summary.total_gain = ledger.total_gain(prices_by_symbol)
    total = summary.total_value
    summary.holdings = sorted(
        (
            HoldingRow(
                **{**r.__dict__, "weight": float(r.market_value / total) if total > 0 else 0.0}
            )
            for r in rows
        ),
        key=lambda r: (-r.market_value, r.symbol),
    )
    return summary


def portfolio_summary(*, portfolio: Portfolio) -> PortfolioSummary:
    """Holdings, totals and realized P&L: 2 queries (transactions, latest prices)."""
    transactions = list(
        portfolio.transactions.select_related("ticker").order_by("trade_date", "id")
    )
    prices = latest_prices(ticker_ids=(t.ticker_id for t in transactions if t.ticker_id))
    return summarize(portfolio, transactions, prices)


def portfolio_summaries(*, user) -> list[PortfolioSummary]:
    """Every portfolio of `user` with its summary: 3 queries whatever their number."""
    portfolios = list(portfolios_for(user=user))
    transactions = list(
        Transaction.objects.filter(portfolio__owner=user)
        .select_related("ticker")
        .order_by("trade_date", "id")
    )
    prices = latest_prices(ticker_ids=(t.ticker_id for t in transactions if t.ticker_id))
    by_portfolio: dict[int, list[Transaction]] = {p.pk: [] for p in portfolios}
    for t in transactions:
        by_portfolio.setdefault(t.portfolio_id, []).append(t)
    return [summarize(p, by_portfolio[p.pk], prices) for p in portfolios]


# --- performance -----------------------------------------------------------------------------


def _period_dict(r: perf.PeriodReturn) -> dict:
    return {
        "period": r.period,
        "start": r.start,
        "end": r.end,
        "days": r.days,
        "annualised": r.annualised,
        "twr": r.twr,
        "twr_annualised": r.twr_annualised,
        "xirr": r.xirr,
        "mwr": r.mwr,
        "benchmark_twr": r.benchmark_twr,
        "benchmark_xirr": r.benchmark_xirr,
        "explanation": r.explanation,
    }


@dataclass
class Performance:
    as_of: dt.date | None
    returns: list[perf.PeriodReturn]
    drawdown: perf.Drawdown | None
    series: list[dict]  # [{time, value}] portfolio value at each close of the window
    benchmark_series: list[dict]  # same flows invested in the benchmark
    benchmark_symbol: str | None
    period_starts: dict[str, str | None]
    note: str = ""
    start: dt.date | None = None  # the window asked for (None: inception)
    end: dt.date | None = None  # None: the last close
    window: perf.PeriodReturn | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.series)

    @property
    def selected_period(self) -> str | None:
        """The period button matching the window, if any ("Max" for the default window)."""
        if self.end is not None and self.end != self.as_of:
            return None
        if self.start is None:
            return "Max"
        wanted = self.start.isoformat()
        return next((p for p, s in self.period_starts.items() if s == wanted), None)

    def chart_data(self) -> dict:
        return {
            "series": self.series,
            "benchmark": self.benchmark_series,
            "benchmarkSymbol": self.benchmark_symbol,
        }

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of,
            "start": self.start,
            "end": self.end,
            "note": self.note,
            "benchmark": self.benchmark_symbol,
            "window": _period_dict(self.window) if self.window else None,
            "returns": [_period_dict(r) for r in self.returns],
            "max_drawdown": None
            if self.drawdown is None
            else {
                "depth": self.drawdown.depth,
                "peak": self.drawdown.peak,
                "trough": self.drawdown.trough,
                "recovered": self.drawdown.recovered,
            },
            "series": self.series,
            "benchmark_series": self.benchmark_series,
        }


def _closes_frame(rows: Iterable[tuple[str, dt.date, Decimal]]) -> pd.DataFrame:
    records = [(symbol, day, float(close)) for symbol, day, close in rows]
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame(records, columns=["symbol", "date", "close"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.pivot(index="date", columns="symbol", values="close").sort_index()


def _points(series: pd.Series) -> list[dict]:
    return [
        {"time": day.strftime("%Y-%m-%d"), "value": round(float(v), 2)}
        for day, v in series.items()
        if pd.notna(v)
    ]


def _from_start(series: pd.Series, start: dt.date | None) -> pd.Series:
    """`series` from the last row at or before `start` (the window's opening close) on."""
    if start is None:
        return series
    before = series.index[series.index <= pd.Timestamp(start)]
    first = before[-1] if len(before) else series.index[0]
    return series[series.index >= first]


def portfolio_performance(
    *,
    portfolio: Portfolio,
    ledger: Ledger | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Performance:
    """Value series, TWR/XIRR per period and for the window, benchmark and drawdown: 1 query.

    1. The window runs from the close on `start` (None: inception) to the close on `end`
       (None: the last close in the table); each date means the last trading day at or
       before it. `as_of` is that last trading day.
    2. The standard periods (1M … Max) are measured to `as_of`, so past figures can be asked
       for; the series and the drawdown cover the window only.
    3. The benchmark is the same external flows invested in `portfolio.benchmark`.
    """
    bench = portfolio.benchmark.symbol if portfolio.benchmark_id else None
    empty = Performance(None, [], None, [], [], bench, {}, start=start, end=end)
    if ledger is None or not ledger.txns:
        empty.note = "Add transactions to see performance."
        return empty
    symbols = {t.symbol for t in ledger.txns if t.type in (TxnType.BUY, TxnType.SELL)}
    wanted = symbols | ({bench} if bench else set())
    rows = DailyBar.objects.filter(ticker__symbol__in=wanted, date__gte=ledger.txns[0].trade_date)
    if end is not None:
        rows = rows.filter(date__lte=end)
    closes = _closes_frame(rows.values_list("ticker__symbol", "date", "close"))
    if closes.empty:
        empty.note = (
            "No daily closes yet for these tickers in this window, so there is no value history."
        )
        return empty
    own = closes.reindex(columns=sorted(symbols))
    frame = perf.daily_values(ledger, own, end=end)
    if frame.empty:
        empty.note = "No trading day with closes between the first transaction and the end date."
        return empty
    bench_frame = None
    if bench and bench in closes.columns and closes[bench].notna().any():
        bench_frame = perf.benchmark_values(frame, closes[bench].dropna())
    as_of = frame.index[-1].date()
    returns = perf.period_returns(frame, as_of, benchmark=bench_frame)
    window = perf.window_return(frame, start, as_of, benchmark=bench_frame)
    starts = {
        p: (s.isoformat() if (s := perf.period_start(p, as_of)) else None) for p in perf.PERIODS
    }
    return Performance(
        as_of=as_of,
        returns=returns,
        drawdown=perf.max_drawdown(_from_start(perf.twr_index(frame), start)),
        series=_points(_from_start(frame["value"], start)),
        benchmark_series=_points(_from_start(bench_frame["value"], start))
        if bench_frame is not None
        else [],
        benchmark_symbol=bench,
        period_starts=starts,
        note="" if bench_frame is not None or not bench else f"No closes for {bench} yet.",
        start=start,
        end=end,
        window=window,
    )


# --- realized gains --------------------------------------------------------------------------


@dataclass(frozen=True)
class RealizedYear:
    year: int
    rows: list
    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    short_term: Decimal
    long_term: Decimal


def realized_by_year(ledger: Ledger | None) -> list[RealizedYear]:
    """The realized-gains report grouped by year of sale, newest year first (no query)."""
    if ledger is None:
        return []
    years: dict[int, list] = {}
    for row in ledger.realized_gains():
        years.setdefault(row.sold.year, []).append(row)
    result = []
    for year in sorted(years, reverse=True):
        rows = years[year]
        result.append(
            RealizedYear(
                year=year,
                rows=rows,
                proceeds=sum((r.proceeds for r in rows), ZERO),
                cost=sum((r.cost for r in rows), ZERO),
                gain=sum((r.gain for r in rows), ZERO),
                short_term=sum((r.gain for r in rows if r.term == "short"), ZERO),
                long_term=sum((r.gain for r in rows if r.term == "long"), ZERO),
            )
        )
    return result


TERM_RULE = (
    f"short: held {SHORT_TERM_MAX_DAYS} days or fewer (sold - acquired, in calendar days); "
    "long: held longer. A fixed-day simplification of the one-year rule; not tax advice."
)


@dataclass(frozen=True)
class RealizedReport:
    years: list[RealizedYear]
    totals: dict[str, Decimal]
    term_rule: str = TERM_RULE


def realized_report(ledger: Ledger | None) -> RealizedReport:
    """`realized_by_year` plus totals over every year (no query)."""
    years = realized_by_year(ledger)
    totals = {
        name: sum((getattr(y, name) for y in years), ZERO)
        for name in ("proceeds", "cost", "gain", "short_term", "long_term")
    }
    return RealizedReport(years=years, totals=totals)


# --- watchlists ------------------------------------------------------------------------------


def watchlists_for(*, user) -> QuerySet[Watchlist]:
    return (
        Watchlist.objects.filter(owner=user)
        .annotate(item_count=Count("items"))
        .order_by("name", "id")
    )


@dataclass(frozen=True)
class WatchRow:
    item: WatchlistItem
    info: PriceInfo

    @property
    def target_hit(self) -> str:
        price = self.info.price
        if price is None:
            return ""
        if self.item.target_above is not None and price >= self.item.target_above:
            return "above"
        if self.item.target_below is not None and price <= self.item.target_below:
            return "below"
        return ""

    @property
    def alert_query(self) -> str:
        """`?symbol=&direction=&threshold=` for the row's Alert link: the item's target
        (above first) pre-filled, or just the symbol when it has none."""
        params = {"symbol": self.info.symbol}
        if self.item.target_above is not None:
            params |= {"direction": "above", "threshold": f"{self.item.target_above.normalize():f}"}
        elif self.item.target_below is not None:
            params |= {"direction": "below", "threshold": f"{self.item.target_below.normalize():f}"}
        return "?" + urlencode(params)


def watchlist_items_queryset(**filters) -> QuerySet[WatchlistItem]:
    return (
        WatchlistItem.objects.filter(**filters)
        .select_related("ticker", "ticker__quote")
        .annotate(**price_annotations("ticker_id"))
        .order_by("ticker__symbol")
    )


def watchlist_rows(*, watchlist: Watchlist) -> list[WatchRow]:
    """Items with their latest prices: 1 query whatever the number of items."""
    return [
        WatchRow(i, price_info(i.ticker, i)) for i in watchlist_items_queryset(watchlist=watchlist)
    ]


def dashboard_watchlist(*, user, limit: int = 12) -> tuple[Watchlist | None, list[WatchRow]]:
    """The user's first watchlist and its first `limit` rows: 2 queries."""
    watchlist = Watchlist.objects.filter(owner=user).order_by("name", "id").first()
    if watchlist is None:
        return None, []
    items = watchlist_items_queryset(watchlist=watchlist)[:limit]
    return watchlist, [WatchRow(i, price_info(i.ticker, i)) for i in items]


def ticker_options(limit: int = 5000) -> list[tuple[str, str]]:
    """(symbol, name) of active tickers for the symbol <datalist>: 1 query."""
    return list(Ticker.objects.active().order_by("symbol").values_list("symbol", "name")[:limit])


# --- alerts and notifications ----------------------------------------------------------------


def alerts_for(*, user) -> QuerySet[PriceAlert]:
    recent = AlertFiring.objects.order_by("-fired_at", "-id")
    return (
        PriceAlert.objects.filter(owner=user)
        .select_related("ticker", "ticker__quote")
        .prefetch_related(Prefetch("firings", queryset=recent))
    )


def alert_firings_for(*, user, limit: int = 50) -> QuerySet[AlertFiring]:
    return AlertFiring.objects.filter(alert__owner=user).select_related("alert__ticker")[:limit]


def armed_alerts_with_prices() -> list[tuple[PriceAlert, PriceInfo]]:
    """Every armed alert with the latest price of its ticker: 2 queries."""
    alerts = list(PriceAlert.objects.filter(armed=True).select_related("ticker", "owner"))
    prices = latest_prices(ticker_ids=(a.ticker_id for a in alerts))
    return [(a, prices[a.ticker_id]) for a in alerts]


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


UNREAD_CACHE_SECONDS = 60


def unread_cache_key(user_id: int) -> str:
    return f"portfolios:unread:{user_id}"


def prime_unread_count(sender=None, *, user, **kwargs) -> None:
    """`user_logged_in` receiver: cache the user's unread count (1 query, at login)."""
    count = Notification.objects.filter(user=user, read=False).count()
    cache.set(unread_cache_key(user.pk), count, UNREAD_CACHE_SECONDS)


def unread_count(*, user) -> int:
    """Unread notifications of `user`, for the top bar of every page: 1 query, then cached
    (the services that create or read notifications clear it; at most a minute stale)."""
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(user=user, read=False).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def watchlist_symbols_for(*, user, watchlist_id: int | None = None) -> list[str]:
    """Every symbol on `user`'s watchlists (or on one of them), for other areas' "my
    watchlists" filters; one query."""
    items = WatchlistItem.objects.filter(watchlist__owner=user)
    if watchlist_id is not None:
        items = items.filter(watchlist_id=watchlist_id)
    return list(
        items.order_by("ticker__symbol").values_list("ticker__symbol", flat=True).distinct()
    )


def held_symbols_for(*, user) -> set[str]:
    """Symbols `user` holds shares of in any portfolio, for other areas' "my holdings"
    filters: buys, sells and splits replayed in date order per portfolio; one query."""
    shares: dict[tuple[int, str], Decimal] = {}
    rows = (
        Transaction.objects.filter(
            portfolio__owner=user,
            type__in=[Transaction.Type.BUY, Transaction.Type.SELL, Transaction.Type.SPLIT],
            ticker__isnull=False,
        )
        .order_by("trade_date", "id")
        .values_list("portfolio_id", "ticker__symbol", "type", "quantity")
    )
    for portfolio_id, symbol, kind, quantity in rows:
        key = (portfolio_id, symbol)
        held = shares.get(key, Decimal(0))
        if kind == Transaction.Type.BUY:
            shares[key] = held + quantity
        elif kind == Transaction.Type.SELL:
            shares[key] = held - quantity
        else:
            shares[key] = held * quantity
    return {symbol for (_, symbol), quantity in shares.items() if quantity > 0}


def watched_symbols() -> list[str]:
    """Every symbol some user watches or has traded: the quote feed refreshes these (2
    queries, whatever the number of users)."""
    watched = WatchlistItem.objects.values_list("ticker__symbol", flat=True).distinct()
    traded = (
        Transaction.objects.filter(ticker__isnull=False)
        .values_list("ticker__symbol", flat=True)
        .distinct()
    )
    return sorted(set(watched) | set(traded))
