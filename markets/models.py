from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Max, Min


class TickerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def with_quote(self):
        return self.select_related("quote")


class Ticker(models.Model):
    """A tradable symbol in the Qunex universe."""

    class AssetType(models.TextChoices):
        STOCK = "stock", "Stock"
        ETF = "etf", "ETF"
        INDEX = "index", "Index"

    symbol = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200, blank=True)
    exchange = models.CharField(max_length=40, blank=True)
    asset_type = models.CharField(max_length=8, choices=AssetType.choices, default=AssetType.STOCK)
    sector = models.CharField(max_length=80, blank=True, db_index=True)
    industry = models.CharField(max_length=120, blank=True)
    market_cap = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True, db_index=True)
    is_demo = models.BooleanField(
        "demo",
        default=False,
        help_text="Demo ticker with synthetic prices, labelled as demo wherever shown.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Market-data bookkeeping (markets.refresh): the day the vendors said they have no bars
    # for it (unknown or delisted: refreshes skip it for REFRESH_UNAVAILABLE_RETRY_DAYS),
    # and whether its stored history must be fetched again (a split after it was stored).
    bars_unavailable_since = models.DateField(null=True, blank=True)
    bars_refetch = models.BooleanField(default=False)

    objects = TickerQuerySet.as_manager()

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol

    def save(self, *args, **kwargs):
        self.symbol = self.symbol.strip().upper()
        super().save(*args, **kwargs)


class DailyBarQuerySet(models.QuerySet):
    def for_symbol(self, symbol: str):
        return self.filter(ticker__symbol=symbol.upper())

    def date_range(self):
        return self.aggregate(first=Min("date"), last=Max("date"))


class DailyBar(models.Model):
    """One trading day of one ticker. Prices as traded; `adj_close` adjusts for splits and
    dividends when the source provides it."""

    # No index of its own: the unique (ticker, date) index serves every lookup by ticker, and
    # a second index on the largest table slowed each bulk load (import_prices) by ~10 %.
    ticker = models.ForeignKey(
        Ticker, on_delete=models.CASCADE, related_name="bars", db_index=False
    )
    date = models.DateField()
    open = models.DecimalField(max_digits=18, decimal_places=6)
    high = models.DecimalField(max_digits=18, decimal_places=6)
    low = models.DecimalField(max_digits=18, decimal_places=6)
    close = models.DecimalField(max_digits=18, decimal_places=6)
    adj_close = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    volume = models.BigIntegerField(default=0)
    source = models.CharField(max_length=20)

    objects = DailyBarQuerySet.as_manager()

    class Meta:
        ordering = ["ticker", "date"]
        constraints = [
            models.UniqueConstraint(fields=["ticker", "date"], name="dailybar_unique_ticker_date"),
            models.CheckConstraint(
                condition=models.Q(high__gte=models.F("low")), name="dailybar_high_gte_low"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticker_id} {self.date} {self.close}"


class QuoteQuerySet(models.QuerySet):
    def latest_per_ticker(self):
        """One row per ticker: the table holds only the latest quote of each."""
        return self.select_related("ticker")


class Quote(models.Model):
    """The latest known price of a ticker (one row per ticker, replaced on refresh)."""

    ticker = models.OneToOneField(Ticker, on_delete=models.CASCADE, related_name="quote")
    price = models.DecimalField(max_digits=18, decimal_places=6)
    change = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    change_pct = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, help_text="Percent, not a fraction."
    )
    volume = models.BigIntegerField(null=True, blank=True)
    as_of = models.DateTimeField()
    source = models.CharField(max_length=20)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuoteQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.ticker_id} {self.price} @ {self.as_of:%Y-%m-%d %H:%M}"


class CorporateAction(models.Model):
    """A split or a cash dividend; portfolios use them to adjust lots and book income."""

    class Kind(models.TextChoices):
        SPLIT = "split", "Split"
        DIVIDEND = "dividend", "Cash dividend"

    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="corporate_actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ex_date = models.DateField()
    # Splits: ratio_from old shares become ratio_to new shares (4-for-1: 1 -> 4).
    ratio_from = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    ratio_to = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    # Dividends: cash per share.
    amount = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    pay_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=20)

    class Meta:
        ordering = ["ticker", "-ex_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticker", "kind", "ex_date"], name="corporateaction_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticker_id} {self.kind} {self.ex_date}"

    @property
    def split_ratio(self) -> Decimal | None:
        if self.kind != self.Kind.SPLIT or not self.ratio_from:
            return None
        return self.ratio_to / self.ratio_from


class MarketDataState(models.Model):
    """Small resumable state of the market-data jobs: which sessions the grouped daily call
    has stored ("grouped:2026-12-04"), where a paged reference sync stopped
    ("sync:tickers_cursor"), the last day corporate actions were synced through."""

    key = models.CharField(max_length=80, unique=True)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
