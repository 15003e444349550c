"""Writes: queue a backtest, re-run it, cancel it, requeue it (staff).

Every input is checked before anything is written; a `ValidationError` maps each bad field to
its message (strategy parameters as `params.<name>`, sweep ranges as `sweep.<name>`).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from backtests import queue
from backtests.models import Backtest
from backtests.runner import estimate_seconds
from backtests.selectors import bar_coverage
from backtests.strategies import (
    InvalidParams,
    StrategySpec,
    coerce_value,
    get_strategy,
    validate_params,
)
from backtests.sweep import expand_grid
from markets.models import DailyBar, Ticker

log = logging.getLogger(__name__)

MAX_ACTIVE_PER_USER = 20
MAX_SWEEP_COMBINATIONS = 2_500
MIN_BARS = 2
WALK_FORWARD_RANGE = (Decimal("0.5"), Decimal("0.9"))


class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _decimal(
    errors: _Errors,
    field: str,
    value: Any,
    *,
    low: Decimal | None = None,
    high: Decimal | None = None,
    low_open: bool = False,
    high_open: bool = True,
    message: str,
    places: int = 6,
    optional: bool = False,
) -> Decimal | None:
    if value is None or value == "":
        if optional:
            return None
        errors.add(field, "This field is required.")
        return None
    if isinstance(value, bool):
        errors.add(field, "Must be a number.")
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.add(field, "Must be a number.")
        return None
    if not number.is_finite():
        errors.add(field, "Must be a finite number.")
        return None
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        errors.add(field, message)
        return None
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        errors.add(field, f"Use at most {places} decimal places.")
        return None
    return number


def _date(errors: _Errors, field: str, value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            errors.add(field, "Enter a date as YYYY-MM-DD.")
            return None
    errors.add(field, "This field is required.")
    return None


def _sweep_params(
    errors: _Errors, spec: StrategySpec, params: dict[str, Any], grid: Any
) -> tuple[dict[str, Any], dict[str, list] | None]:
    """Clean the fixed parameters and the grid of a sweep.

    1. Fixed values (those not swept) are checked one by one against their declaration;
       cross-field rules are left to each combination.
    2. The grid is checked by `sweep.expand_grid` (names, values, the combination cap).
    3. At least one combination must satisfy the strategy's rules (e.g. fast < slow).
    """
    if not isinstance(grid, dict):
        errors.add("sweep", "Must map parameter names to lists of values.")
        return {}, None
    declared = {p.name: p for p in spec.params}
    fixed: dict[str, Any] = {}
    for name, raw in params.items():
        if name in grid:
            continue
        if name not in declared:
            errors.add(f"params.{name}", "Unknown parameter.")
            continue
        value, error = coerce_value(declared[name], raw)
        if error:
            errors.add(f"params.{name}", error)
        else:
            fixed[name] = value
    fixed = {p.name: fixed.get(p.name, p.default) for p in spec.params if p.name not in grid}
    try:
        combos, _ = expand_grid(spec.name, grid, fixed, max_combinations=MAX_SWEEP_COMBINATIONS)
    except InvalidParams as exc:
        for name, message in exc.errors.items():
            errors.add("sweep" if name == "grid" else f"sweep.{name}", message)
        return fixed, None
    if not combos:
        errors.add("sweep", "No combination satisfies the strategy's rules (e.g. fast < slow).")
        return fixed, None
    cleaned = {
        name: sorted({coerce_value(declared[name], v)[0] for v in values})
        for name, values in grid.items()
    }
    return fixed, cleaned


def backtest_submit(*, user, **inputs: Any) -> Backtest:
    """Queue a backtest (`backtest_enqueue`'s inputs and errors), then run it right here when
    its estimated run time is within `BACKTEST_INLINE_BUDGET_SECONDS`.

    1. The job is written and committed first, so it is recorded like any other.
    2. Small jobs are claimed and run by `queue.run_inline` (status, attempts, timings,
       fingerprint, engine version as the processor writes them); a failure inside the run
       fails the job with its message.
    3. Anything else, or anything that goes wrong around the run (e.g. the database), leaves
       the job queued for the processor: submitting never fails once the job is written.
    """
    backtest = backtest_enqueue(user=user, **inputs)
    backtest_run_if_small(backtest=backtest)
    return backtest


def backtest_run_if_small(*, backtest: Backtest) -> bool:
    """Run a queued backtest inline when it fits the budget; True when it ran (either way)."""
    budget = settings.BACKTEST_INLINE_BUDGET_SECONDS
    if budget <= 0 or backtest.status != Backtest.Status.QUEUED:
        return False
    n_bars = DailyBar.objects.filter(
        ticker_id=backtest.ticker_id, date__gte=backtest.start, date__lte=backtest.end
    ).count()
    if estimate_seconds(backtest, n_bars) > budget:
        return False
    try:
        outcome = queue.run_inline(backtest)
    except Exception:  # the processor will take it; the user sees it queued
        log.exception("Inline run of backtest %s failed around the run; left queued", backtest.pk)
        outcome = None
    backtest.refresh_from_db()
    return outcome is not None


@transaction.atomic
def backtest_enqueue(
    *,
    user,
    ticker: str,
    start: date | str,
    end: date | str,
    strategy: str,
    params: dict[str, Any] | None = None,
    cash: Decimal | float | str = Decimal("10000"),
    commission: Decimal | float | str = Decimal("0"),
    commission_fixed: Decimal | float | str = Decimal("0"),
    spread: Decimal | float | str = Decimal("0"),
    long_short: bool = False,
    stop_loss: Decimal | float | str | None = None,
    take_profit: Decimal | float | str | None = None,
    close_at_end: bool = False,
    sweep: dict[str, list] | None = None,
    walk_forward: Decimal | float | str | None = None,
    rerun_of: Backtest | None = None,
) -> Backtest:
    """Validate every input and queue the backtest; raise `ValidationError` (field -> messages)
    and write nothing when anything is wrong."""
    errors = _Errors()

    # 1. Strategy and its parameters (registry rules: type, range, cross-field checks);
    #    for a sweep, the fixed parameters and the grid.
    spec = None
    cleaned_params: dict[str, Any] = {}
    grid: dict[str, list] | None = None
    try:
        spec = get_strategy(strategy)
    except InvalidParams as exc:
        errors.add("strategy", exc.errors["strategy"])
    if spec is not None:
        if params is not None and not isinstance(params, dict):
            errors.add("params", "Must map parameter names to values.")
        elif sweep:
            cleaned_params, grid = _sweep_params(errors, spec, params or {}, sweep)
        else:
            check = validate_params(strategy, params or {})
            for name, message in check.errors.items():
                errors.add(f"params.{name}", message)
            cleaned_params = check.cleaned

    # 2. Ticker and dates.
    symbol = (ticker or "").strip().upper()
    ticker_obj = Ticker.objects.filter(symbol=symbol).first() if symbol else None
    if not symbol:
        errors.add("ticker", "This field is required.")
    elif ticker_obj is None:
        errors.add("ticker", f"Unknown ticker {symbol!r}.")
    start_date = _date(errors, "start", start)
    end_date = _date(errors, "end", end)
    if start_date and end_date and start_date > end_date:
        errors.add("start", "Must be on or before the end date.")
        start_date = end_date = None
    if ticker_obj and start_date and end_date:
        coverage = bar_coverage(ticker=ticker_obj, start=start_date, end=end_date)
        if coverage.count < MIN_BARS:
            stored = (
                f"{symbol} has daily bars from {coverage.first} to {coverage.last}."
                if coverage.first
                else f"{symbol} has no daily bars yet."
            )
            errors.add(
                "start",
                f"No daily bars between {start_date} and {end_date} "
                f"(need at least {MIN_BARS}). {stored}",
            )

    # 3. Account and execution settings.
    cash_d = _decimal(
        errors, "cash", cash, low=Decimal(0), low_open=True, high=Decimal("1e12"),
        message="Must be more than 0 and below 1,000,000,000,000.", places=2,
    )  # fmt: skip
    commission_d = _decimal(
        errors, "commission", commission, low=Decimal(0), high=Decimal("0.1"),
        message="Must be at least 0 and below 0.1 (10 %).",
    )  # fmt: skip
    fixed_d = _decimal(
        errors, "commission_fixed", commission_fixed, low=Decimal(0), high=Decimal("1e6"),
        message="Must be zero or a positive amount below 1,000,000.", places=4,
    )  # fmt: skip
    spread_d = _decimal(
        errors, "spread", spread, low=Decimal(0), high=Decimal("0.1"),
        message="Must be at least 0 and below 0.1 (10 %).",
    )  # fmt: skip
    stop_d = _decimal(
        errors, "stop_loss", stop_loss, low=Decimal(0), low_open=True, high=Decimal(1),
        message="Must be above 0 and below 1 (100 %).", optional=True,
    )  # fmt: skip
    take_d = _decimal(
        errors, "take_profit", take_profit, low=Decimal(0), low_open=True, high=Decimal(10),
        message="Must be above 0 and below 10 (1000 %).", optional=True,
    )  # fmt: skip

    # 4. Optional walk-forward split of a sweep.
    wf = _decimal(
        errors, "walk_forward", walk_forward, low=WALK_FORWARD_RANGE[0],
        high=WALK_FORWARD_RANGE[1], high_open=False, places=3, optional=True,
        message="Must be between 0.5 and 0.9 (the in-sample share).",
    )  # fmt: skip
    if wf is not None and not sweep:
        errors.add("walk_forward", "Walk-forward needs a parameter sweep to choose from.")

    # 5. A user can't flood the queue.
    active = Backtest.objects.for_owner(user).filter(status__in=Backtest.ACTIVE).count()
    if active >= MAX_ACTIVE_PER_USER:
        errors.add(
            NON_FIELD_ERRORS,
            f"You already have {active} backtests waiting or running; wait for some to finish.",
        )

    if errors:
        raise ValidationError(dict(errors))

    now = timezone.now()
    return Backtest.objects.create(
        owner=user,
        ticker=ticker_obj,
        start=start_date,
        end=end_date,
        strategy=strategy,
        params=cleaned_params,
        cash=cash_d,
        commission=commission_d,
        commission_fixed=fixed_d,
        spread=spread_d,
        long_short=bool(long_short),
        stop_loss=stop_d,
        take_profit=take_d,
        close_at_end=bool(close_at_end),
        sweep=grid,
        walk_forward=wf,
        status=Backtest.Status.QUEUED,
        queued_at=now,
        available_at=now,
        rerun_of=rerun_of,
    )


def backtest_rerun(*, backtest: Backtest, user) -> Backtest:
    """Queue a new backtest with the same inputs (checked again: bars may have changed);
    like any submission it runs at once when small."""
    return backtest_submit(
        user=user,
        ticker=backtest.ticker.symbol,
        start=backtest.start,
        end=backtest.end,
        strategy=backtest.strategy,
        params=backtest.params,
        cash=backtest.cash,
        commission=backtest.commission,
        commission_fixed=backtest.commission_fixed,
        spread=backtest.spread,
        long_short=backtest.long_short,
        stop_loss=backtest.stop_loss,
        take_profit=backtest.take_profit,
        close_at_end=backtest.close_at_end,
        sweep=backtest.sweep,
        walk_forward=backtest.walk_forward,
        rerun_of=backtest,
    )


@transaction.atomic
def backtest_cancel(*, backtest: Backtest) -> Backtest:
    """Cancel a queued or running backtest. A running one's processor finds its claim gone
    and discards its result."""
    now = timezone.now()
    updated = Backtest.objects.filter(pk=backtest.pk, status__in=Backtest.ACTIVE).update(
        status=Backtest.Status.CANCELLED,
        finished_at=now,
        lease_expires_at=None,
        error="Cancelled.",
    )
    backtest.refresh_from_db()
    if not updated:
        raise ValidationError(
            {
                "status": f"Only a queued or running backtest can be cancelled; this one {backtest.status}."
            }
        )
    return backtest


@transaction.atomic
def backtest_requeue(*, backtest: Backtest, delay: timedelta = timedelta(0)) -> Backtest:
    """Staff: put a finished (usually failed) backtest back in the queue with fresh attempts."""
    now = timezone.now()
    updated = Backtest.objects.filter(pk=backtest.pk, status__in=Backtest.FINISHED).update(
        status=Backtest.Status.QUEUED,
        attempts=0,
        claimed_by="",
        lease_expires_at=None,
        heartbeat_at=None,
        started_at=None,
        finished_at=None,
        error="",
        result=None,
        bars_fingerprint="",
        engine_version="",
        queued_at=now,
        available_at=now + delay,
    )
    backtest.refresh_from_db()
    if not updated:
        raise ValidationError({"status": "A queued or running backtest can't be requeued."})
    return backtest
