"""Query parameters of the market pages (qunex.params: bounded, bad values ignored by name)."""

from __future__ import annotations

from markets.selectors import TICKER_SORTS
from qunex import params


class StockListQuery(params.QueryForm):
    q = params.TextParam(max_length=60, initial="")
    sector = params.TextParam(initial="")
    sort = params.ChoiceParam(
        choices=[(k, k) for key in TICKER_SORTS for k in (key, f"-{key}")], initial="symbol"
    )
    page = params.PageParam(initial=1)
