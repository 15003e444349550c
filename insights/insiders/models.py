"""Insider trades reported on SEC Form 4 (and 4/A): one `InsiderFiling` per filing and one
`InsiderTransaction` per row of its non-derivative and derivative tables.

A transaction is unique on (filing, table, row), so loading a filing twice changes nothing.
An amendment (4/A) supersedes the filing it amends: the original stays, marked `amended_by`,
WITH its transactions, because until the amendment was filed they were what the market knew.
Pages and the API show the amended view (rows of filings not amended); the AI score's
features count the original's rows until the amendment's `known_at` and the amendment's
from then on.
"""

from __future__ import annotations

from django.db import models

from markets.models import Ticker

__all__ = ["InsiderFiling", "InsiderTransaction"]

# The SEC's Form 4 transaction codes (General Instructions, item 8).
TRANSACTION_CODES: dict[str, str] = {
    "P": "Open-market or private purchase",
    "S": "Open-market or private sale",
    "A": "Grant or award",
    "D": "Disposition to the issuer",
    "F": "Tax withholding or exercise price paid in shares",
    "I": "Discretionary transaction",
    "M": "Exercise or conversion of a derivative (exempt)",
    "C": "Conversion of a derivative security",
    "E": "Expiration of a short derivative position",
    "H": "Expiration or cancellation of a long derivative position",
    "O": "Exercise of an out-of-the-money derivative",
    "X": "Exercise of an in-the-money or at-the-money derivative",
    "G": "Gift",
    "L": "Small acquisition",
    "W": "Acquisition or disposition by will or laws of descent",
    "Z": "Deposit into or withdrawal from a voting trust",
    "J": "Other acquisition or disposition",
    "K": "Equity swap or similar instrument",
    "U": "Disposition in a change-of-control tender",
    "V": "Transaction voluntarily reported earlier than required",
}


class InsiderFiling(models.Model):
    accession = models.CharField(max_length=40, unique=True, help_text="SEC accession number.")
    form = models.CharField(max_length=5, help_text="4, 4/A, 5 or 5/A.")
    filed_on = models.DateField(db_index=True, help_text="When it became public (date).")
    known_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Best known moment it became public: EDGAR's acceptance time, else the end "
        "of its filing date, else of its signature date (never before its last trade).",
    )
    period = models.DateField(null=True, blank=True, help_text="periodOfReport.")
    issuer_cik = models.CharField(max_length=10, db_index=True)
    issuer_name = models.CharField(max_length=200)
    issuer_symbol = models.CharField(max_length=12, blank=True)
    ticker = models.ForeignKey(
        Ticker, null=True, blank=True, on_delete=models.SET_NULL, related_name="insider_filings"
    )
    insider_cik = models.CharField(max_length=10, db_index=True)
    insider_name = models.CharField(max_length=300)
    is_director = models.BooleanField("director", default=False)
    is_officer = models.BooleanField("officer", default=False)
    officer_title = models.CharField(max_length=200, blank=True)
    is_ten_percent_owner = models.BooleanField("10% owner", default=False)
    is_other = models.BooleanField("other role", default=False)
    other_text = models.CharField(max_length=200, blank=True)
    rule_10b5_1 = models.BooleanField(
        null=True,
        blank=True,
        help_text="aff10b5One: made under a Rule 10b5-1 plan (unknown on old forms).",
    )
    amended_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="amends"
    )
    source = models.CharField(max_length=20, default="sec")
    url = models.URLField(max_length=500, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-filed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.form} {self.accession} {self.issuer_symbol} {self.insider_name}"

    @property
    def relationship(self) -> str:
        parts = []
        if self.is_director:
            parts.append("Director")
        if self.is_officer:
            parts.append(self.officer_title or "Officer")
        if self.is_ten_percent_owner:
            parts.append("10% owner")
        if self.is_other:
            parts.append(self.other_text or "Other")
        return ", ".join(parts) or "—"


class InsiderTransaction(models.Model):
    class Table(models.TextChoices):
        NON_DERIVATIVE = "nd", "Non-derivative"
        DERIVATIVE = "d", "Derivative"

    filing = models.ForeignKey(InsiderFiling, on_delete=models.CASCADE, related_name="transactions")
    table = models.CharField(max_length=2, choices=Table.choices)
    row = models.PositiveSmallIntegerField()
    ticker = models.ForeignKey(
        Ticker, null=True, blank=True, on_delete=models.SET_NULL, related_name="insider_trades"
    )
    security_title = models.CharField(max_length=200)
    trade_date = models.DateField(db_index=True)
    code = models.CharField(max_length=1, db_index=True)
    acquired = models.BooleanField(help_text="A (acquired) or D (disposed).")
    shares = models.DecimalField(max_digits=20, decimal_places=4)
    price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    value = models.DecimalField(max_digits=22, decimal_places=2, null=True, blank=True)
    shares_after = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    direct = models.BooleanField(default=True)
    ownership_nature = models.CharField(max_length=200, blank=True)
    underlying_title = models.CharField(max_length=200, blank=True)
    underlying_shares = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    exercise_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    footnotes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-trade_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "table", "row"], name="insidertransaction_unique_row"
            )
        ]
        indexes = [models.Index(fields=["code", "-trade_date"])]

    def __str__(self) -> str:
        return f"{self.code} {self.shares} {self.security_title} on {self.trade_date}"

    @property
    def code_meaning(self) -> str:
        return TRANSACTION_CODES.get(self.code, "Unknown code")

    @property
    def is_derivative(self) -> bool:
        return self.table == self.Table.DERIVATIVE

    @property
    def shares_before(self):
        if self.shares_after is None:
            return None
        return self.shares_after - self.shares if self.acquired else self.shares_after + self.shares
