"""The new-backtest form: fields for every strategy's parameters, built from the registry.

The form only parses (types, percent to fraction, sweep ranges to value lists); the rules
live in `services.backtest_enqueue`, whose field errors `apply_errors` maps back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms

from backtests.strategies import Param, StrategySpec, list_strategies

MAX_SWEEP_VALUES = 200
PERCENT = Decimal(100)


def param_field(spec: StrategySpec, p: Param) -> str:
    return f"p_{spec.name}_{p.name}"


def sweep_field(spec: StrategySpec, p: Param, part: str) -> str:
    return f"s_{spec.name}_{p.name}_{part}"


def _number_field(p: Param, *, label: str, initial: Any = None, help_text: str = "") -> forms.Field:
    attrs = {
        "min": p.min,
        "max": p.max,
        "step": "1" if p.type is int else "any",
        "inputmode": "decimal",
    }
    cls = forms.IntegerField if p.type is int else forms.FloatField
    return cls(
        label=label,
        required=False,
        initial=initial,
        help_text=help_text,
        widget=forms.NumberInput(attrs=attrs),
    )


@dataclass(frozen=True)
class StrategyFields:
    spec: StrategySpec
    params: list[forms.BoundField]
    sweep: list[tuple[Param, forms.BoundField, forms.BoundField, forms.BoundField]]


class BacktestForm(forms.Form):
    ticker = forms.CharField(
        max_length=12,
        help_text="A symbol with stored daily bars.",
        widget=forms.TextInput(
            attrs={
                "list": "ticker-options",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    strategy = forms.ChoiceField(choices=())
    cash = forms.DecimalField(
        label="Starting cash ($)",
        initial=Decimal("10000"),
        min_value=Decimal("1"),
        decimal_places=2,
        max_digits=14,
    )
    commission_pct = forms.DecimalField(
        label="Commission (%)",
        required=False,
        initial=Decimal("0.1"),
        min_value=Decimal(0),
        max_value=Decimal("9.9999"),
        decimal_places=4,
        help_text="Of the traded value, on every entry and exit.",
    )
    commission_fixed = forms.DecimalField(
        label="Fixed fee ($ per order)",
        required=False,
        initial=Decimal(0),
        min_value=Decimal(0),
        decimal_places=4,
    )
    spread_pct = forms.DecimalField(
        label="Slippage / spread (%)",
        required=False,
        initial=Decimal(0),
        min_value=Decimal(0),
        max_value=Decimal("9.9999"),
        decimal_places=4,
        help_text="Added to the entry price (subtracted for shorts).",
    )
    long_short = forms.BooleanField(label="Allow short positions", required=False)
    close_at_end = forms.BooleanField(
        label="Close the open trade at the end",
        required=False,
        help_text="A trade still open on the last day is closed at that day's open and counted "
        "in the statistics. Unticked, it is shown as open and left out of them.",
    )
    stop_loss_pct = forms.DecimalField(
        label="Stop-loss (%)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("99.99"),
        decimal_places=4,
        help_text="Exit when the price moves this far against the entry. Empty: none.",
    )
    take_profit_pct = forms.DecimalField(
        label="Take-profit (%)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("999.99"),
        decimal_places=4,
        help_text="Exit when the price moves this far in favour. Empty: none.",
    )
    walk_forward_pct = forms.IntegerField(
        label="Walk-forward: in-sample share (%)",
        required=False,
        min_value=50,
        max_value=90,
        help_text="With a sweep: choose parameters on the first part, test them on the rest. Empty: off.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs = list_strategies()
        self.fields["strategy"].choices = [(s.name, s.label) for s in self.specs]
        for spec in self.specs:
            for p in spec.params:
                self.fields[param_field(spec, p)] = _number_field(
                    p,
                    label=p.name.replace("_", " ").capitalize(),
                    initial=p.default,
                    help_text=p.help,
                )
                for part in ("from", "to", "step"):
                    self.fields[sweep_field(spec, p, part)] = _number_field(p, label=part)
                step = self.fields[sweep_field(spec, p, "step")]
                step.widget.attrs["min"] = 1 if p.type is int else "any"

    # --- template helpers -------------------------------------------------------------------

    def strategy_fields(self) -> list[StrategyFields]:
        return [
            StrategyFields(
                spec=spec,
                params=[self[param_field(spec, p)] for p in spec.params],
                sweep=[
                    (p, *(self[sweep_field(spec, p, part)] for part in ("from", "to", "step")))
                    for p in spec.params
                ],
            )
            for spec in self.specs
        ]

    def sweep_open(self) -> bool:
        """Show the sweep section opened when it holds anything."""
        source = self.data if self.is_bound else self.initial
        return any(
            (k.startswith("s_") or k == "walk_forward_pct") and source.get(k) not in (None, "")
            for k in source
        )

    # --- parsing ----------------------------------------------------------------------------

    def selected_spec(self) -> StrategySpec | None:
        name = self.cleaned_data.get("strategy")
        return next((s for s in self.specs if s.name == name), None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        spec = self.selected_spec()
        if spec is None:
            return data
        grid: dict[str, list] = {}
        for p in spec.params:
            values = self._sweep_values(spec, p)
            if values:
                grid[p.name] = values
        data["sweep"] = grid or None
        data["params"] = {
            p.name: data[param_field(spec, p)]
            for p in spec.params
            if data.get(param_field(spec, p)) is not None and p.name not in grid
        }
        return data

    def _sweep_values(self, spec: StrategySpec, p: Param) -> list[Any] | None:
        names = {part: sweep_field(spec, p, part) for part in ("from", "to", "step")}
        if any(name in self.errors for name in names.values()):
            return None
        low, high, step = (self.cleaned_data.get(names[part]) for part in ("from", "to", "step"))
        if low is None and high is None:
            return None
        if low is None or high is None:
            self.add_error(names["from" if low is None else "to"], "Give both ends of the range.")
            return None
        if low > high:
            self.add_error(names["to"], "Must be at least the start of the range.")
            return None
        if step is None:
            step = 1 if p.type is int else (high - low) / 10 or 1
        if step <= 0:
            self.add_error(names["step"], "Must be positive.")
            return None
        d_low, d_high, d_step = (Decimal(str(v)) for v in (low, high, step))
        count = int((d_high - d_low) / d_step) + 1
        if count > MAX_SWEEP_VALUES:
            self.add_error(
                names["step"], f"{count} values; use a larger step (at most {MAX_SWEEP_VALUES})."
            )
            return None
        values = [d_low + i * d_step for i in range(count)]
        return [int(v) if p.type is int else float(v) for v in values]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data

        def fraction(name: str) -> Decimal | None:
            value = data.get(name)
            return None if value is None else value / PERCENT

        wf = data.get("walk_forward_pct")
        return {
            "ticker": data["ticker"],
            "start": data["start"],
            "end": data["end"],
            "strategy": data["strategy"],
            "params": data.get("params") or {},
            "cash": data["cash"],
            "commission": fraction("commission_pct") or Decimal(0),
            "commission_fixed": data.get("commission_fixed") or Decimal(0),
            "spread": fraction("spread_pct") or Decimal(0),
            "long_short": data.get("long_short", False),
            "close_at_end": data.get("close_at_end", False),
            "stop_loss": fraction("stop_loss_pct"),
            "take_profit": fraction("take_profit_pct"),
            "sweep": data.get("sweep"),
            "walk_forward": None if wf is None else Decimal(wf) / PERCENT,
        }

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        """Attach the service's field errors (params.fast, sweep.slow, commission...) here."""
        spec = self.selected_spec()
        declared = {p.name: p for p in spec.params} if spec else {}
        simple = {
            "commission": "commission_pct",
            "spread": "spread_pct",
            "stop_loss": "stop_loss_pct",
            "take_profit": "take_profit_pct",
            "walk_forward": "walk_forward_pct",
        }
        for key, messages in errors.items():
            prefix, _, name = key.partition(".")
            if key in self.fields:
                field = key
            elif key in simple:
                field = simple[key]
            elif prefix == "params" and name in declared:
                field = param_field(spec, declared[name])
            elif prefix == "sweep" and name in declared:
                field = sweep_field(spec, declared[name], "from")
            else:
                field = None
                messages = [
                    f"{key.replace('__all__', '').replace('.', ' ')}: {m}".lstrip(": ")
                    for m in messages
                ]
            for message in messages:
                self.add_error(field, message)

    @classmethod
    def initial_from(cls, backtest) -> dict[str, Any]:
        """Initial values that reproduce an existing backtest (the 'Edit as new' link)."""
        spec_name = backtest.strategy

        def plain(value: Decimal | None, scale: int = 1) -> str | None:
            return None if value is None else format((value * scale).normalize(), "f")

        initial: dict[str, Any] = {
            "ticker": backtest.ticker.symbol,
            "start": backtest.start,
            "end": backtest.end,
            "strategy": spec_name,
            "cash": plain(backtest.cash),
            "commission_pct": plain(backtest.commission, 100),
            "commission_fixed": plain(backtest.commission_fixed),
            "spread_pct": plain(backtest.spread, 100),
            "long_short": backtest.long_short,
            "close_at_end": backtest.close_at_end,
            "stop_loss_pct": plain(backtest.stop_loss, 100),
            "take_profit_pct": plain(backtest.take_profit, 100),
            "walk_forward_pct": None
            if backtest.walk_forward is None
            else int(backtest.walk_forward * PERCENT),
        }
        for name, value in (backtest.params or {}).items():
            initial[f"p_{spec_name}_{name}"] = value
        for name, values in (backtest.sweep or {}).items():
            initial[f"s_{spec_name}_{name}_from"] = min(values)
            initial[f"s_{spec_name}_{name}_to"] = max(values)
            if len(values) > 1:
                initial[f"s_{spec_name}_{name}_step"] = sorted(values)[1] - sorted(values)[0]
        return initial
