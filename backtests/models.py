"""A backtest is a queued job: its inputs, its place in the queue, and (once run) its result."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from backtests.strategies import list_strategies
from qunex.fields import FastJSONField


class BacktestQuerySet(models.QuerySet):
    def for_owner(self, user):
        return self.filter(owner=user)

    def claimable(self, now):
        """Queued and due, or running with an expired lease; and attempts left."""
        return self.filter(
            Q(status=Backtest.Status.QUEUED, available_at__lte=now)
            | Q(status=Backtest.Status.RUNNING, lease_expires_at__lt=now),
            attempts__lt=F("max_attempts"),
        )

    def abandoned(self, now):
        """Running, lease expired, and no attempts left: nobody will take these again."""
        return self.filter(
            status=Backtest.Status.RUNNING,
            lease_expires_at__lt=now,
            attempts__gte=F("max_attempts"),
        )


class Backtest(models.Model):
    """One strategy run (or parameter sweep) on one ticker's daily bars.

    Rates are fractions: commission 0.001 = 0.1 % of traded value per order.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests"
    )
    ticker = models.ForeignKey("markets.Ticker", on_delete=models.PROTECT, related_name="backtests")
    start = models.DateField()
    end = models.DateField()
    strategy = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)

    cash = models.DecimalField(max_digits=16, decimal_places=2, default=10_000)
    commission = models.DecimalField(
        max_digits=8, decimal_places=6, default=0, help_text="Fraction of traded value per order."
    )
    commission_fixed = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, help_text="Cash per order."
    )
    spread = models.DecimalField(
        max_digits=8,
        decimal_places=6,
        default=0,
        help_text="Slippage / spread as a fraction of the entry price, paid on entry.",
    )
    long_short = models.BooleanField(
        "long and short", default=False, help_text="Go short when the signal says so."
    )
    stop_loss = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    take_profit = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    close_at_end = models.BooleanField(
        default=False,
        help_text="Close a trade still open at the end (at the last bar's open) and count it "
        "in the statistics, as backtesting.py's finalize_trades=True.",
    )
    sweep = models.JSONField(
        null=True, blank=True, help_text="Parameter grid {name: [values]}; empty for one run."
    )
    walk_forward = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="In-sample share of the bars for a walk-forward sweep (e.g. 0.7).",
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField()
    available_at = models.DateTimeField(
        help_text="Earliest time a processor may take it (retries wait)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    bars_fingerprint = models.CharField(max_length=64, blank=True)
    engine_version = models.CharField(max_length=20, blank=True)
    result = FastJSONField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )

    objects = BacktestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The claim query: queued and due, oldest first.
            models.Index(fields=["status", "available_at", "id"], name="backtest_claim_queued"),
            # Running jobs whose lease expired.
            models.Index(fields=["status", "lease_expires_at"], name="backtest_claim_expired"),
            models.Index(fields=["owner", "-created_at"], name="backtest_owner_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="backtest_start_lte_end"),
            models.CheckConstraint(condition=Q(cash__gt=0), name="backtest_cash_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.strategy} {self.ticker_id} {self.start}..{self.end}"

    def get_absolute_url(self) -> str:
        return reverse("backtests:backtest_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def strategy_label(self) -> str:
        return next((s.label for s in list_strategies() if s.name == self.strategy), self.strategy)

    @property
    def is_sweep(self) -> bool:
        return bool(self.sweep)

    @property
    def stats(self) -> dict:
        return (self.result or {}).get("stats") or {}

    @property
    def return_pct(self) -> float | None:
        if self.is_sweep:
            best = (self.result or {}).get("best_run") or {}
            return (best.get("stats") or {}).get("Return [%]")
        return self.stats.get("Return [%]")
