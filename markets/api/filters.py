from __future__ import annotations

import django_filters

from markets.models import Ticker
from qunex.filters import StrictFilterSet
from qunex.params import TEXT_MAX


class TickerFilter(StrictFilterSet):
    sector = django_filters.CharFilter(
        field_name="sector",
        lookup_expr="iexact",
        help_text="Sector, e.g. Technology.",
        max_length=TEXT_MAX,
    )
    asset_type = django_filters.ChoiceFilter(choices=Ticker.AssetType.choices)
    active = django_filters.BooleanFilter()
    is_demo = django_filters.BooleanFilter()

    class Meta:
        model = Ticker
        fields = ["sector", "asset_type", "active", "is_demo"]
