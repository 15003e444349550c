"""Portfolios, their transactions, watchlists, price alerts and in-app notifications.

Rows state facts; every figure derived from transactions (holdings, P&L, cash, returns)
comes from `portfolios.ledger` / `portfolios.performance` through `portfolios.selectors`.
Writes go through `portfolios.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from markets.models import Ticker
from portfolios.ledger import AMOUNT_TYPES, SYMBOL_TYPES, TRADE_TYPES, Txn, TxnType, cash_delta
from qunex.templatetags import numbers

ZERO = Decimal(0)


class Portfolio(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios"
    )
    name = models.CharField(max_length=100)
    benchmark = models.ForeignKey(
        Ticker,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The same deposits and withdrawals invested here (SPY by default).",
    )
    track_cash = models.BooleanField(
        default=False,
        help_text="Track a cash balance: buys need deposited cash, and only deposits and "
        "withdrawals count as money in and out.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="portfolio_unique_owner_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolios:portfolio_detail", args=[self.pk])


class Transaction(models.Model):
    """One row of a portfolio's history; `to_txn()` hands it to the ledger.

    buy/sell: quantity at price plus fees. split: quantity is the ratio (4 = 4-for-1).
    dividend/fee/interest/deposit/withdrawal: amount (positive).
    """

    class Type(models.TextChoices):
        BUY = TxnType.BUY.value, "Buy"
        SELL = TxnType.SELL.value, "Sell"
        DIVIDEND = TxnType.DIVIDEND.value, "Dividend"
        FEE = TxnType.FEE.value, "Fee"
        INTEREST = TxnType.INTEREST.value, "Interest"
        DEPOSIT = TxnType.DEPOSIT.value, "Deposit"
        WITHDRAWAL = TxnType.WITHDRAWAL.value, "Withdrawal"
        SPLIT = TxnType.SPLIT.value, "Split"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="transactions")
    type = models.CharField(max_length=12, choices=Type.choices)
    ticker = models.ForeignKey(
        Ticker, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    trade_date = models.DateField()
    quantity = models.DecimalField(max_digits=24, decimal_places=8, default=ZERO)
    price = models.DecimalField(max_digits=18, decimal_places=6, default=ZERO)
    fees = models.DecimalField(max_digits=14, decimal_places=4, default=ZERO)
    amount = models.DecimalField(max_digits=18, decimal_places=4, default=ZERO)
    notes = models.TextField(blank=True, help_text="Plain text; HTML is removed.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trade_date", "id"]
        indexes = [models.Index(fields=["portfolio", "trade_date"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(type__in=sorted(t.value for t in (*TRADE_TYPES, TxnType.SPLIT)))
                | Q(quantity__gt=0),
                name="transaction_quantity_positive",
            ),
            models.CheckConstraint(
                condition=~Q(type__in=sorted(t.value for t in AMOUNT_TYPES)) | Q(amount__gt=0),
                name="transaction_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(type__in=sorted(t.value for t in SYMBOL_TYPES))
                | Q(ticker__isnull=False),
                name="transaction_ticker_required",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(fees__gte=0),
                name="transaction_price_fees_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.to_txn().describe()

    @property
    def symbol(self) -> str | None:
        return self.ticker.symbol if self.ticker_id else None

    @property
    def is_trade(self) -> bool:
        return self.type in (TxnType.BUY, TxnType.SELL)

    @property
    def total(self) -> Decimal:
        """What the row did to cash, signed (the ledger's definition)."""
        return cash_delta(self.to_txn())

    def to_txn(self) -> Txn:
        return Txn(
            type=TxnType(self.type),
            trade_date=self.trade_date,
            symbol=self.symbol,
            quantity=self.quantity,
            price=self.price,
            fees=self.fees,
            amount=self.amount,
            id=self.pk,
        )


class Watchlist(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists"
    )
    name = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="watchlist_unique_owner_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolios:watchlist_detail", args=[self.pk])


class WatchlistItem(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    target_above = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Flag when the price is at or above.",
    )
    target_below = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Flag when the price is at or below.",
    )
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticker__symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "ticker"], name="watchlistitem_unique_ticker"
            ),
            models.CheckConstraint(
                condition=(Q(target_above__isnull=True) | Q(target_above__gt=0))
                & (Q(target_below__isnull=True) | Q(target_below__gt=0)),
                name="watchlistitem_targets_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.watchlist_id}:{self.ticker_id}"

    @property
    def symbol(self) -> str:
        return self.ticker.symbol


class PriceAlert(models.Model):
    """Fires once when the latest price crosses `threshold`; re-arm to watch again."""

    class Direction(models.TextChoices):
        ABOVE = "above", "Rises to or above"
        BELOW = "below", "Falls to or below"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="price_alerts"
    )
    ticker = models.ForeignKey(Ticker, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=5, choices=Direction.choices)
    threshold = models.DecimalField(max_digits=18, decimal_places=6)
    armed = models.BooleanField(default=True, db_index=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-armed", "ticker__symbol", "threshold"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gt=0), name="pricealert_threshold_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticker} {self.direction} {self.threshold}"

    @property
    def symbol(self) -> str:
        return self.ticker.symbol

    def holds_at(self, price: Decimal) -> bool:
        if self.direction == self.Direction.ABOVE:
            return price >= self.threshold
        return price <= self.threshold

    def describe(self) -> str:
        word = (
            "rises to or above" if self.direction == self.Direction.ABOVE else "falls to or below"
        )
        return f"{self.ticker.symbol} {word} {numbers.price(self.threshold)}"  # "150.00"


class AlertFiring(models.Model):
    alert = models.ForeignKey(PriceAlert, on_delete=models.CASCADE, related_name="firings")
    price = models.DecimalField(max_digits=18, decimal_places=6)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["-fired_at", "-id"]

    def __str__(self) -> str:
        return f"{self.alert_id} @ {self.price} {self.fired_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read"])]

    def __str__(self) -> str:
        return self.text
