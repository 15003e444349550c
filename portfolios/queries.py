"""Query parameters of the portfolio pages (qunex.params: bounded, bad values ignored by name)."""

from __future__ import annotations

from django import forms

from portfolios.ledger import TxnType
from portfolios.models import PriceAlert
from qunex import params


class PerformanceWindowQuery(params.QueryForm):
    """`?start=&end=` of a portfolio's page: the same window the performance API takes."""

    start = params.DateParam()
    end = params.DateParam()

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError({"start": "start must be on or before end."})
        return data


class RealizedQuery(params.QueryForm):
    year = params.IntegerParam(min_value=params.DATE_MIN.year, max_value=params.DATE_MAX.year)


class TransactionNewQuery(params.QueryForm):
    """Pre-fill of the new-transaction form: `?type=sell&symbol=AAPL`."""

    type = params.ChoiceParam(choices=[(t.value, t.value) for t in TxnType], initial="buy")
    symbol = params.TextParam(max_length=12, initial="")


class AlertPrefillQuery(params.QueryForm):
    """Pre-fill from a watchlist row's link: `?symbol=&direction=&threshold=`."""

    symbol = params.TextParam(max_length=12, initial="")
    direction = params.ChoiceParam(choices=PriceAlert.Direction.choices, initial="above")
    threshold = params.DecimalParam(max_digits=20, decimal_places=8)
