"""Latest prices for a set of tickers, in one query.

The latest price of a ticker is its Quote (the live feed), else the close of its last
DailyBar. The previous close (for the day change) is `price - change` when the quote carries
a change, else the last bar close before the quote's day, else the bar before the last bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from markets.models import DailyBar, Ticker


@dataclass(frozen=True)
class PriceInfo:
    ticker_id: int
    symbol: str
    name: str
    sector: str
    is_demo: bool
    asset_type: str
    price: Decimal | None
    previous_close: Decimal | None
    source: str  # "quote", "close" or "" (no price at all)
    as_of: object = None  # datetime for quotes, date for closes

    @property
    def day_change(self) -> Decimal | None:
        if self.price is None or self.previous_close is None:
            return None
        return self.price - self.previous_close

    @property
    def day_change_pct(self) -> Decimal | None:
        change = self.day_change
        if change is None or not self.previous_close:
            return None
        return change / self.previous_close * 100


def bar_subquery(field: str, offset: int, *, ticker_ref: str = "pk") -> Subquery:
    """`field` of the ticker's bar `offset` days back from the last (0 = last bar)."""
    bars = DailyBar.objects.filter(ticker=OuterRef(ticker_ref)).order_by("-date")
    return Subquery(bars.values(field)[offset : offset + 1])


def price_annotations(ticker_ref: str = "pk") -> dict[str, Subquery]:
    return {
        "last_close": bar_subquery("close", 0, ticker_ref=ticker_ref),
        "last_date": bar_subquery("date", 0, ticker_ref=ticker_ref),
        "prev_close": bar_subquery("close", 1, ticker_ref=ticker_ref),
    }


def ticker_prices_queryset(ticker_filter: dict):
    """Tickers (with quote) annotated with the last two bar closes; one SQL query."""
    return (
        Ticker.objects.filter(**ticker_filter)
        .select_related("quote")
        .annotate(**price_annotations())
    )


def price_info(ticker: Ticker, annotated: object | None = None) -> PriceInfo:
    """PriceInfo from a ticker (quote selected) and the row carrying `price_annotations`.

    `annotated` defaults to the ticker itself (as from `ticker_prices_queryset`); no query.
    """
    source_row = ticker if annotated is None else annotated
    try:
        quote = ticker.quote
    except ObjectDoesNotExist:
        quote = None
    last_close = getattr(source_row, "last_close", None)
    last_date = getattr(source_row, "last_date", None)
    prev_close = getattr(source_row, "prev_close", None)
    if quote is not None:
        price = quote.price
        if quote.change is not None:
            previous = quote.price - quote.change
        elif last_date is not None and last_date < timezone.localdate(quote.as_of):
            previous = last_close
        else:
            previous = prev_close
        source, as_of = "quote", quote.as_of
    elif last_close is not None:
        price, previous, source, as_of = last_close, prev_close, "close", last_date
    else:
        price, previous, source, as_of = None, None, "", None
    return PriceInfo(
        ticker_id=ticker.pk,
        symbol=ticker.symbol,
        name=ticker.name,
        sector=ticker.sector,
        is_demo=ticker.is_demo,
        asset_type=ticker.asset_type,
        price=price,
        previous_close=previous,
        source=source,
        as_of=as_of,
    )


def latest_prices(*, ticker_ids: Iterable[int]) -> dict[int, PriceInfo]:
    """{ticker_id: PriceInfo} for the given tickers; exactly one query (none when empty)."""
    ids = sorted(set(ticker_ids))
    if not ids:
        return {}
    return {t.pk: price_info(t) for t in ticker_prices_queryset({"pk__in": ids})}
