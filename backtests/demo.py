"""Demo backtests for the demo user: an SMA crossover on SPY over the whole demo history and a
parameter sweep with a walk-forward split, both run at once so the pages show results.

Runs after markets' demo data (qunex.demo). Idempotent: a demo backtest that already
succeeded is left alone; one that did not is run again.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.db.models import Max, Min

from backtests import queue
from backtests.models import Backtest
from backtests.services import backtest_enqueue
from markets.models import Ticker

SYMBOLS = ("SPY", "AAPL")  # the first one with bars is used


def _demos(first, last) -> list[dict[str, Any]]:
    costs = {"commission": Decimal("0.0005"), "spread": Decimal("0.0002")}
    return [
        {
            "label": "SMA 20/100 crossover",
            "strategy": "sma_cross",
            "params": {"fast": 20, "slow": 100},
            "sweep": None,
            "start": first,
            "end": last,
            **costs,
        },
        {
            "label": "SMA crossover sweep with walk-forward",
            "strategy": "sma_cross",
            "params": {},
            "sweep": {"fast": [5, 10, 20, 30, 50], "slow": [50, 100, 150, 200]},
            "walk_forward": Decimal("0.7"),
            "start": max(first, last - timedelta(days=round(365.25 * 6))),
            "end": last,
            **costs,
        },
    ]


def seed(*, user, stdout: TextIO) -> None:
    ticker = next(
        (t for s in SYMBOLS if (t := Ticker.objects.filter(symbol=s).first()) and t.bars.exists()),
        None,
    )
    if ticker is None:
        stdout.write(
            "backtests: no SPY or AAPL bars yet; demo backtests skipped (seed markets first)."
        )
        return
    span = ticker.bars.aggregate(first=Min("date"), last=Max("date"))
    worker = f"seed_demo:{queue.worker_id()}"
    for demo in _demos(span["first"], span["last"]):
        label = demo.pop("label")
        existing = Backtest.objects.filter(
            owner=user, ticker=ticker, strategy=demo["strategy"], params=demo["params"]
        )
        existing = (
            existing.filter(sweep=demo["sweep"])
            if demo["sweep"]
            else existing.filter(sweep__isnull=True)
        )
        job = existing.order_by("-id").first()
        if job and job.status == Backtest.Status.SUCCEEDED:
            stdout.write(f"backtests: demo {label} already there (#{job.pk}).")
            continue
        if job is None or job.status not in Backtest.ACTIVE:
            job = backtest_enqueue(user=user, ticker=ticker.symbol, **demo)
        queue.process(worker=worker, ids=[job.pk], max_jobs=1, retry_delay=timedelta(0))
        job.refresh_from_db()
        stdout.write(f"backtests: demo {label} on {ticker.symbol} #{job.pk} {job.status}.")
