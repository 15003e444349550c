"""The News filters, parsed once for the page and the API (qunex.params: bounded fields)."""

from __future__ import annotations

from django import forms

from insights.news.models import ArticleAnalysis
from qunex import params

SENTIMENT_CHOICES = [
    ("bullish", "Positive (> 0.15)"),
    ("bearish", "Negative (< \u22120.15)"),  # a true minus, as every figure on the site
    *ArticleAnalysis.Label.choices,
]


class WatchlistParam(params.IdParam):
    """ "all" (every watchlist of mine) or one watchlist id."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() == "all":
            return "all"
        number = super().to_python(value)
        return None if number is None else str(number)

    def validate(self, value):
        if value != "all":
            super().validate(value)

    def run_validators(self, value):
        if value not in (None, "all"):
            super().run_validators(int(value))


class SentimentBound(forms.FloatField):
    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=-1, max_value=1, **kwargs)

    def to_python(self, value):
        number = super().to_python(value)
        if number is not None and number != number:  # NaN: every comparison is false
            raise forms.ValidationError("Enter a number from -1 to 1.", code="invalid")
        return number


class NewsQuery(params.QueryForm):
    ticker = forms.RegexField(r"^[A-Za-z0-9.\-]{1,12}$", required=False, max_length=12)
    watchlist = WatchlistParam()
    holdings = params.BooleanParam()
    sentiment = params.ChoiceParam(choices=SENTIMENT_CHOICES)
    sentiment_min = SentimentBound()
    sentiment_max = SentimentBound()
    impact = forms.TypedChoiceField(
        choices=[(str(i), str(i)) for i in range(1, 6)], coerce=int, required=False
    )
    source = forms.RegexField(r"^[A-Za-z0-9:._\-]{1,40}$", required=False, max_length=40)
    since = params.DateParam()
    until = params.DateParam()


class NewsPageQuery(NewsQuery):
    page = params.PageParam(initial=1)
