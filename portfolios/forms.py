"""Forms parse input; the services decide. `apply_errors` puts a service's ValidationError
on the fields it names."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from portfolios.ledger import TxnType
from portfolios.models import PriceAlert

SYMBOL_ATTRS = {
    "list": "ticker-options",
    "autocomplete": "off",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "placeholder": "e.g. AAPL",
}


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach `error` to the form: on the field it names when the form has it, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target if name != NON_FIELD_ERRORS else None, message)


class SymbolField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("label", "Ticker")  # the word every form and filter on the site uses
        kwargs.setdefault("widget", forms.TextInput(attrs=SYMBOL_ATTRS))
        super().__init__(**kwargs)

    def clean(self, value):
        return (super().clean(value) or "").strip().upper()


class PortfolioForm(forms.Form):
    name = forms.CharField(max_length=100)
    benchmark = SymbolField(
        required=False,
        initial="SPY",
        help_text="Compared against: the same deposits and withdrawals invested in this ticker. "
        "Leave empty for none.",
    )
    track_cash = forms.BooleanField(
        required=False,
        label="Track cash",
        help_text="Record deposits and withdrawals; buys then need cash and only deposits and "
        "withdrawals count as money in and out.",
    )


class TransactionForm(forms.Form):
    type = forms.ChoiceField(choices=[(t.value, t.value.capitalize()) for t in TxnType])
    trade_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Trade date")
    symbol = SymbolField(required=False, help_text="Buy, sell, dividend and split need one.")
    quantity = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=24,
        decimal_places=8,
        help_text="Shares; for a split, the ratio (4 for a 4-for-1).",
    )
    price = forms.DecimalField(required=False, min_value=0, max_digits=18, decimal_places=6)
    fees = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=4, help_text="Commission."
    )
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=4,
        help_text="Cash amount of a dividend, fee, interest, deposit or withdrawal.",
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trade_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        for name in ("quantity", "price", "fees", "amount"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: date, type, symbol, quantity, price, fees, amount, notes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class WatchlistForm(forms.Form):
    name = forms.CharField(max_length=100)


class WatchlistItemForm(forms.Form):
    symbol = SymbolField()
    note = forms.CharField(required=False, max_length=200)
    target_above = forms.DecimalField(
        required=False, min_value=0, max_digits=18, decimal_places=6, label="Target above"
    )
    target_below = forms.DecimalField(
        required=False, min_value=0, max_digits=18, decimal_places=6, label="Target below"
    )


class WatchlistItemEditForm(WatchlistItemForm):
    symbol = None


class AlertForm(forms.Form):
    symbol = SymbolField()
    direction = forms.ChoiceField(choices=PriceAlert.Direction.choices)
    threshold = forms.DecimalField(min_value=0, max_digits=18, decimal_places=6, label="Price")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["threshold"].widget.attrs.update({"step": "any", "inputmode": "decimal"})
