"""Dashboard panels that other apps contribute without the markets app importing them.

An app registers a panel in its `AppConfig.ready()`:

    register_panel("watchlist", template="portfolios/_dashboard_watchlist.html",
                   context=watchlist_panel_context, order=10)

The dashboard view renders every registered panel in `order`, calling
`context(request) -> dict` for each. A context function must run a constant number of
queries (the dashboard's query budget is asserted in tests).

A stock page panel works the same way, registered with `register_stock_panel`; its context
function also receives the page's `Ticker`: `context(request, ticker) -> dict`. A registered
stock panel replaces the stock page's placeholder slot of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(
    name: str,
    *,
    template: str,
    context: Callable[[HttpRequest], dict[str, Any]],
    order: int = 100,
) -> None:
    _PANELS[name] = Panel(name=name, template=template, context=context, order=order)


@dataclass(frozen=True)
class StockPanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any]]
    order: int = 100


_STOCK_PANELS: dict[str, StockPanel] = {}


def register_stock_panel(
    name: str,
    *,
    template: str,
    context: Callable[[HttpRequest, Any], dict[str, Any]],
    order: int = 100,
) -> None:
    _STOCK_PANELS[name] = StockPanel(name=name, template=template, context=context, order=order)


def stock_panels() -> list[StockPanel]:
    return sorted(_STOCK_PANELS.values(), key=lambda p: (p.order, p.name))


def render_stock_context(request: HttpRequest, ticker: Any) -> list[dict[str, Any]]:
    """[{name, template, context}] for the stock page to `{% dashboard_panel %}`."""
    return [
        {"name": p.name, "template": p.template, "context": p.context(request, ticker)}
        for p in stock_panels()
    ]


def panels() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.name))


def render_context(request: HttpRequest) -> list[dict[str, Any]]:
    """[{name, template, context}] for the dashboard template to `{% include %}`."""
    return [
        {"name": p.name, "template": p.template, "context": p.context(request)} for p in panels()
    ]
