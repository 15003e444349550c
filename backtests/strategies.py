"""Strategy registry: each strategy declares its parameters and turns bars into a target position.

A strategy is a function `(bars, params, allow_short) -> Signal` registered with `@register`.
`Signal.target[i]` is the position (+1 long, 0 flat, -1 short) wanted after the close of
bar i, decided from bars 0..i only; the engine fills the change at bar i + 1's open.
Targets are 0 before `Signal.first_bar` (= warm-up + 1, the first bar backtesting.py calls
`Strategy.next()` on), and stateful rules (crossings, reversion, breakout) start flat there.

The crossover strategies (`sma_cross`, `ema_cross`, `macd_cross`) act on crossings only,
with `backtesting.lib.crossover` semantics: fast crosses above slow on bar t when
fast[t-1] < slow[t-1] and fast[t] > slow[t] (both strict), decided at bar t's close and
filled at bar t + 1's open. Long only, that opens a long and the opposite crossing closes
it; long/short, each crossing reverses. Before the first crossing the strategy is flat.
`sma_trend` keeps the older state rule (long while fast > slow) under its own name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backtests import indicators as ind
from backtests.bars import Bars

__all__ = [
    "Bars",
    "InvalidParams",
    "Param",
    "ParamCheck",
    "Signal",
    "StrategySpec",
    "clean_params",
    "compute_signal",
    "get_strategy",
    "list_strategies",
    "register",
    "unregister",
    "validate_params",
]

Number = int | float


@dataclass(frozen=True)
class Signal:
    target: np.ndarray  # int8, one value per bar: -1, 0 or +1
    warmup: int  # first bar on which every indicator is defined

    @property
    def first_bar(self) -> int:
        return self.warmup + 1


SignalFn = Callable[["Bars", Mapping[str, Any], bool], Signal]
CheckFn = Callable[[Mapping[str, Any]], dict[str, str]]


@dataclass(frozen=True)
class Param:
    name: str
    type: type[int] | type[float]
    min: Number
    max: Number
    default: Number
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.__name__,
            "min": self.min,
            "max": self.max,
            "default": self.default,
            "help": self.help,
        }


@dataclass(frozen=True)
class StrategySpec:
    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    signal: SignalFn
    check: CheckFn | None = None

    def defaults(self) -> dict[str, Number]:
        return {p.name: p.default for p in self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "params": [p.to_dict() for p in self.params],
        }


class InvalidParams(ValueError):
    """Parameters (or settings) failed validation; `errors` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class ParamCheck:
    cleaned: dict[str, Number] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


_REGISTRY: dict[str, StrategySpec] = {}


def register(
    name: str,
    *,
    label: str,
    params: tuple[Param, ...] = (),
    check: CheckFn | None = None,
    description: str = "",
    replace: bool = False,
) -> Callable[[SignalFn], SignalFn]:
    """Decorator that adds a signal function to the registry under `name`."""

    def decorator(fn: SignalFn) -> SignalFn:
        if name in _REGISTRY and not replace:
            raise ValueError(f"Strategy {name!r} is already registered.")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"Strategy {name!r} declares a parameter twice.")
        for p in params:
            if not p.min <= p.default <= p.max:
                raise ValueError(f"{name}.{p.name}: default outside [min, max].")
        _REGISTRY[name] = StrategySpec(
            name=name,
            label=label,
            description=" ".join((description or fn.__doc__ or "").split()),
            params=params,
            signal=fn,
            check=check,
        )
        return fn

    return decorator


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_strategy(name: str) -> StrategySpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidParams({"strategy": f"Unknown strategy {name!r}."}) from None


def list_strategies() -> list[StrategySpec]:
    return list(_REGISTRY.values())


def coerce_value(param: Param, raw: Any) -> tuple[Number | None, str | None]:
    kind = "a whole number" if param.type is int else "a number"
    if isinstance(raw, bool):
        return None, f"Must be {kind}."
    value: Number
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None, f"Must be {kind}."
    elif isinstance(raw, int | float | np.integer | np.floating):
        value = raw.item() if isinstance(raw, np.generic) else raw
    else:
        return None, f"Must be {kind}."
    if not math.isfinite(value):
        return None, "Must be a finite number."
    if param.type is int:
        if float(value) != int(value):
            return None, f"Must be {kind}."
        value = int(value)
    else:
        value = float(value)
    if not param.min <= value <= param.max:
        return None, f"Must be between {param.min} and {param.max}."
    return value, None


def validate_params(strategy: str, params: Mapping[str, Any] | None) -> ParamCheck:
    """Clean `params` for `strategy`: defaults for missing values, errors keyed by field.

    1. Unknown strategy -> error on "strategy"; unknown parameter -> error on its own name.
    2. Each value is coerced to the declared type and range-checked.
    3. Cross-field rules (e.g. fast < slow) run only when every field passed step 2.
    """
    if strategy not in _REGISTRY:
        return ParamCheck(errors={"strategy": f"Unknown strategy {strategy!r}."})
    spec = _REGISTRY[strategy]
    params = dict(params or {})
    declared = {p.name: p for p in spec.params}
    errors = {k: "Unknown parameter." for k in params if k not in declared}
    cleaned: dict[str, Number] = {}
    for p in spec.params:
        raw = params.get(p.name)
        if raw is None:
            cleaned[p.name] = p.default
            continue
        value, error = coerce_value(p, raw)
        if error:
            errors[p.name] = error
        else:
            cleaned[p.name] = value  # type: ignore[assignment]
    if not errors and spec.check:
        errors.update(spec.check(cleaned))
    return ParamCheck(cleaned={} if errors else cleaned, errors=errors)


def clean_params(strategy: str, params: Mapping[str, Any] | None) -> dict[str, Number]:
    """Like `validate_params` but raises `InvalidParams` instead of returning errors."""
    result = validate_params(strategy, params)
    if not result.ok:
        raise InvalidParams(result.errors)
    return result.cleaned


def compute_signal(
    bars: Bars, strategy: str, params: Mapping[str, Any], allow_short: bool
) -> Signal:
    """Target positions for already-cleaned params: int8, one per bar, shorts clipped to flat
    when not allowed (a registered strategy may ignore `allow_short`)."""
    signal = get_strategy(strategy).signal(bars, params, allow_short)
    target = np.asarray(signal.target, dtype=np.int8)
    if target.shape != (len(bars),):
        raise ValueError(
            f"Strategy {strategy!r} returned {target.shape} targets for {len(bars)} bars."
        )
    if not allow_short and target.min() < 0:
        target = np.maximum(target, 0)
    if target is signal.target and type(signal.warmup) is int:
        return signal
    return Signal(target=target, warmup=int(signal.warmup))


# --- helpers shared by the built-in strategies -------------------------------------------


def _cached(bars: Bars, key: tuple, compute: Callable[[], Any]) -> Any:
    return bars.memo(key, compute)


def _follow(long: np.ndarray, warmup: int, allow_short: bool) -> Signal:
    """Always in the market by a boolean state: long where `long`, else short or flat."""
    target = long.astype(np.int8)
    if allow_short:
        target = target * np.int8(2) - np.int8(1)
    target[: warmup + 1] = 0
    return Signal(target=target, warmup=warmup)


def _latch(event: np.ndarray, has_event: np.ndarray) -> np.ndarray:
    """The value of the latest event at or before each bar; 0 before the first one."""
    n = len(event)
    values = np.where(has_event, event, 0).astype(np.int8)
    last = np.maximum.accumulate(np.where(has_event, np.arange(n), 0))
    return values[last]


def crossings(fast: np.ndarray, slow: np.ndarray, first_bar: int) -> tuple[np.ndarray, np.ndarray]:
    """(up, down) booleans per bar, `backtesting.lib.crossover` exactly: up on bar t when
    fast[t-1] < slow[t-1] and fast[t] > slow[t]; down the mirror. None before `first_bar`
    (NaN warm-up values never cross)."""
    n = len(fast)
    up = np.zeros(n, dtype=bool)
    down = np.zeros(n, dtype=bool)
    up[1:] = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
    down[1:] = (slow[:-1] < fast[:-1]) & (slow[1:] > fast[1:])
    up[: max(first_bar, 0)] = False
    down[: max(first_bar, 0)] = False
    return up, down


def _cross(fast: np.ndarray, slow: np.ndarray, warmup: int, allow_short: bool) -> Signal:
    """Long from a crossing above until the next crossing below, which closes the long
    (long only) or reverses it into a short (long/short); flat before the first crossing."""
    up, down = crossings(fast, slow, warmup + 1)
    event = np.where(up, 1, -1 if allow_short else 0).astype(np.int8)
    return Signal(target=_latch(event, up | down), warmup=warmup)


def _hold(enter: np.ndarray, leave: np.ndarray, first_bar: int) -> np.ndarray:
    """0/1 state that turns on at `enter`, off at `leave` and otherwise keeps its value.

    Events before `first_bar` are ignored (the state starts flat there); enter wins ties.
    """
    n = len(enter)
    event = np.full(n, -1, dtype=np.int8)
    event[leave] = 0
    event[enter] = 1
    event[:first_bar] = -1
    if first_bar < n:
        event[first_bar] = max(event[first_bar], 0)
    else:
        return np.zeros(n, dtype=np.int8)
    has_event = event >= 0
    last = np.maximum.accumulate(np.where(has_event, np.arange(n), 0))
    state = np.where(np.arange(n) >= first_bar, event[last], 0)
    return state.astype(np.int8)


def _two_legs(
    long_in: np.ndarray,
    long_out: np.ndarray,
    short_in: np.ndarray,
    short_out: np.ndarray,
    warmup: int,
    allow_short: bool,
) -> Signal:
    first_bar = warmup + 1
    target = _hold(long_in, long_out, first_bar)
    if allow_short:
        target = target - _hold(short_in, short_out, first_bar)
    return Signal(target=target.astype(np.int8), warmup=warmup)


def _below(field_a: str, field_b: str, *, strict: bool = True) -> CheckFn:
    def check(p: Mapping[str, Any]) -> dict[str, str]:
        ok = p[field_a] < p[field_b] if strict else p[field_a] <= p[field_b]
        if ok:
            return {}
        word = "smaller than" if strict else "at most"
        return {field_a: f"Must be {word} {field_b} ({p[field_b]})."}

    return check


def _sma(bars: Bars, n: int) -> np.ndarray:
    def compute() -> np.ndarray:
        csum = _cached(bars, ("cumsum",), lambda: np.cumsum(bars.close, dtype=float))
        return ind.sma(bars.close, n, csum)

    return _cached(bars, ("sma", n), compute)


def _ema(bars: Bars, n: int) -> np.ndarray:
    return _cached(bars, ("ema", n), lambda: ind.ema(bars.close, n))


# --- built-in strategies -----------------------------------------------------------------


@register("buy_hold", label="Buy & hold")
def buy_hold(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Buy on the first tradable bar and hold to the end."""
    target = np.ones(len(bars), dtype=np.int8)
    target[:1] = 0
    return Signal(target=target, warmup=0)


_FAST = Param("fast", int, 2, 400, 10, "Bars in the fast moving average.")
_SLOW = Param("slow", int, 3, 500, 30, "Bars in the slow moving average.")


@register("sma_cross", label="SMA crossover", params=(_FAST, _SLOW), check=_below("fast", "slow"))
def sma_cross(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Buy when the fast SMA crosses above the slow SMA; sell (or reverse to short) only when
    it crosses back below. A crossing is seen at day t's close (fast below slow on day t-1,
    above on day t) and the order fills at day t+1's open; flat until the first crossing."""
    fast, slow = _sma(bars, p["fast"]), _sma(bars, p["slow"])
    return _cross(fast, slow, p["slow"] - 1, allow_short)


@register(
    "sma_trend",
    label="SMA trend (hold while fast > slow)",
    params=(_FAST, _SLOW),
    check=_below("fast", "slow"),
)
def sma_trend(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Long on every bar the fast SMA is above the slow SMA, flat (or short) otherwise:
    unlike the crossover, it enters on the first bar after the warm-up without a crossing."""
    fast, slow = _sma(bars, p["fast"]), _sma(bars, p["slow"])
    return _follow(fast > slow, p["slow"] - 1, allow_short)


@register(
    "ema_cross",
    label="EMA crossover",
    params=(
        Param("fast", int, 2, 400, 12, "Span of the fast exponential moving average."),
        Param("slow", int, 3, 500, 26, "Span of the slow exponential moving average."),
    ),
    check=_below("fast", "slow"),
)
def ema_cross(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Buy when the fast EMA crosses above the slow EMA; sell (or reverse to short) only when
    it crosses back below. A crossing is seen at day t's close (fast below slow on day t-1,
    above on day t) and the order fills at day t+1's open; flat until the first crossing."""
    fast, slow = _ema(bars, p["fast"]), _ema(bars, p["slow"])
    return _cross(fast, slow, p["slow"] - 1, allow_short)


@register(
    "rsi_reversion",
    label="RSI mean reversion",
    params=(
        Param("period", int, 2, 100, 14, "RSI look-back in bars (Wilder smoothing)."),
        Param("lower", float, 1.0, 50.0, 30.0, "Buy when RSI falls below this level."),
        Param("upper", float, 50.0, 99.0, 70.0, "Sell (or go short) when RSI rises above."),
    ),
    check=_below("lower", "upper"),
)
def rsi_reversion(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Long after RSI < lower until RSI > upper; short after RSI > upper until RSI < lower."""
    period = p["period"]
    value = _cached(bars, ("rsi", period), lambda: ind.rsi(bars.close, period))
    oversold, overbought = value < p["lower"], value > p["upper"]
    return _two_legs(oversold, overbought, overbought, oversold, period, allow_short)


@register(
    "macd_cross",
    label="MACD signal cross",
    params=(
        Param("fast", int, 2, 200, 12, "Span of the fast EMA."),
        Param("slow", int, 3, 400, 26, "Span of the slow EMA."),
        Param("signal", int, 2, 100, 9, "Span of the signal line (EMA of MACD)."),
    ),
    check=_below("fast", "slow"),
)
def macd_cross(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Buy when the MACD line crosses above its signal line; sell (or reverse to short) only
    when it crosses back below. A crossing is seen at day t's close (MACD below signal on day
    t-1, above on day t) and the order fills at day t+1's open; flat until the first crossing."""
    fast, slow, sig = p["fast"], p["slow"], p["signal"]
    line = _cached(bars, ("macd", fast, slow), lambda: _ema(bars, fast) - _ema(bars, slow))
    signal = _cached(bars, ("macd_signal", fast, slow, sig), lambda: ind.ema(line, sig))
    return _cross(line, signal, slow + sig - 2, allow_short)


@register(
    "bollinger_reversion",
    label="Bollinger-band reversion",
    params=(
        Param("period", int, 2, 400, 20, "Bars in the moving average and deviation."),
        Param("k", float, 0.5, 5.0, 2.0, "Band width in standard deviations."),
    ),
)
def bollinger_reversion(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Long after a close below the lower band until a close at or above the middle band;
    short after a close above the upper band until a close at or below the middle band."""
    n, k = p["period"], p["k"]
    lower, mid, upper = _cached(bars, ("bollinger", n, k), lambda: ind.bollinger(bars.close, n, k))
    close = bars.close
    return _two_legs(close < lower, close >= mid, close > upper, close <= mid, n - 1, allow_short)


@register(
    "donchian_breakout",
    label="Donchian breakout",
    params=(
        Param("period", int, 2, 400, 20, "Enter on a close beyond the prior N-bar high/low."),
        Param("exit_period", int, 1, 400, 10, "Exit on a close beyond the prior M-bar low/high."),
    ),
    check=_below("exit_period", "period", strict=False),
)
def donchian_breakout(bars: Bars, p: Mapping[str, Any], allow_short: bool) -> Signal:
    """Long on a close above the highest high of the prior `period` bars, out on a close below
    the lowest low of the prior `exit_period` bars; the short side mirrors it."""
    n, m = p["period"], p["exit_period"]
    hi_n = _cached(bars, ("prior_max", n), lambda: ind.prior_max(bars.high, n))
    lo_n = _cached(bars, ("prior_min", n), lambda: ind.prior_min(bars.low, n))
    hi_m = _cached(bars, ("prior_max", m), lambda: ind.prior_max(bars.high, m))
    lo_m = _cached(bars, ("prior_min", m), lambda: ind.prior_min(bars.low, m))
    close = bars.close
    return _two_legs(close > hi_n, close < lo_m, close < lo_n, close > hi_m, n, allow_short)
