"""The charts' price-axis and crosshair labels follow the number rule (static/js/format.js):
the portfolio's value and a backtest's equity in dollars with their currency ("$12,000" on the
axis, "$12,345.67" at the crosshair), a backtest's drawdown as "-12.35%" with a true minus and
no space before the %.

Lightweight Charts draws its labels on canvases: the page records every text drawn.
"""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import PageWatch
from tests.browser.test_accessibility import log_in_demo, settle

pytestmark = pytest.mark.browser

RECORD_CANVAS_TEXT = """(() => {
  window.__chartTexts = [];
  const draw = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.__chartTexts.push(String(text));
    return draw.call(this, text, ...rest);
  };
})();"""

YEAR_OR_MONTH = re.compile(
    r"^(\d{4}|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{1,2})?)$"
)
FIGURE = re.compile(r"^[-+\u2212$\d.,% ]*\d[-+\u2212$\d.,% ]*$")
MONEY = re.compile(r"^\u2212?\$\d{1,3}(,\d{3})*(\.\d\d)?$")
CENTS = re.compile(r"\.\d\d$")
PERCENT = re.compile(r"^\u2212?\d+(\.\d{1,2})?%$")


@pytest.fixture
def demo_charts(transactional_db):
    """The demo user with its portfolio and backtests (no AI model: these pages need none)."""
    from backtests import demo as backtests_demo
    from backtests.models import Backtest
    from markets import demo as markets_demo
    from portfolios import demo as portfolios_demo
    from portfolios.models import Portfolio
    from qunex.demo import demo_user_create

    user = demo_user_create()
    for module in (markets_demo, portfolios_demo, backtests_demo):
        module.seed(user=user, stdout=io.StringIO())
    single = Backtest.objects.filter(owner=user).order_by("pk")
    return {
        "portfolio": Portfolio.objects.get(owner=user),
        "backtest": next(b for b in single if not b.is_sweep),
    }


def _labels(page, chart: str) -> list[str]:
    """Every text the page's charts drew, after a hover in the middle of `chart` (so the
    crosshair's price label is drawn too)."""
    page.wait_for_selector(f"{chart} canvas")
    settle(page)
    box = page.locator(chart).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    settle(page)
    settle(page)
    texts = page.evaluate("() => window.__chartTexts")
    return [t.strip() for t in texts if t.strip()]


def _figures(texts: list[str]) -> list[str]:
    """The labels that are figures: digits and signs only (not a date), and not a year."""
    return sorted({t for t in texts if FIGURE.match(t) and not YEAR_OR_MONTH.match(t)})


def test_chart_labels_carry_the_currency_and_the_true_minus(browser, live_server, demo_charts):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_CANVAS_TEXT)
    page = context.new_page()
    watch = PageWatch(page)
    log_in_demo(page)

    page.goto(f"/portfolios/{demo_charts['portfolio'].pk}/")
    figures = _figures(_labels(page, "#pf-chart"))
    assert len(figures) >= 3, figures
    assert [f for f in figures if not MONEY.match(f)] == []  # "$12,000", never a bare "12000"
    assert any(CENTS.search(f) for f in figures), figures  # the crosshair: to the cent

    page.goto(f"/backtests/{demo_charts['backtest'].pk}/")
    figures = _figures(_labels(page, "#equity-chart"))
    money = [f for f in figures if "$" in f]
    percents = [f for f in figures if f.endswith("%")]
    assert len(money) >= 3 and len(percents) >= 2, figures
    assert all(MONEY.match(f) for f in money), money
    assert all(PERCENT.match(f) for f in percents), percents  # "-12.50%" with U+2212, no space
    assert any(f.startswith("\u2212") for f in percents), percents  # a drawdown is below 0
    assert set(figures) == set(money) | set(percents), figures
    # the crosshair and last-value labels read as the statistics above the chart: to the cent,
    # and a percent at 2 decimals ("-12.35%"); the axis ticks at the decimals they need
    assert any(CENTS.search(f) for f in money), money
    assert any(re.search(r"\.\d\d%$", f) for f in percents), percents
    assert not watch.errors, watch.errors
    context.close()
