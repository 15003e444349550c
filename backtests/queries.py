"""Query parameters of the backtest pages (qunex.params: bounded, bad values ignored by name)."""

from __future__ import annotations

from backtests.stats import SWEEP_KEYS
from qunex import params


class BacktestListQuery(params.QueryForm):
    page = params.PageParam(initial=1)


class BacktestNewQuery(params.QueryForm):
    """`?from=<id>`: start from one of my backtests' settings (`from` is a Python keyword, so
    the field is added by name below)."""


BacktestNewQuery.base_fields["from"] = params.IdParam()


class BacktestDetailQuery(params.QueryForm):
    metric = params.ChoiceParam(choices=[(k, k) for k in SWEEP_KEYS])


class BacktestStatusQuery(params.QueryForm):
    id = params.IdListParam(initial=[])
