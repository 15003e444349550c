"""axe-core on every page a signed-in demo user reaches (and the sign-in pages), in the light and
the dark theme, at 1280 px and at 390 px: no serious or critical violation.

axe-core is the npm package in package.json (`npm ci`, run by `make install`); the test skips,
saying so, where node_modules/axe-core is missing. One page per URL: it is loaded once, then
the width and the theme change in place (the CSS follows both without a reload), and axe runs
four times.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = ((1280, 900), (390, 844))
THEMES = ("light", "dark")

# The dark theme changes colours only: its pass runs the colour rules (the others ran in light).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
RUN_AXE = """async (rules) => {
  const options = {resultTypes: ['violations']};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const result = await axe.run(document, options);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' :: ' +
        ((n.any[0] || n.all[0] || n.none[0] || {}).message || '')),
    }));
}"""


@pytest.fixture
def demo_site(transactional_db, demo_model_once):
    """The demo seed (`manage.py seed_demo`: its user, 51 tickers, a portfolio, a watchlist,
    alerts, a backtest and a sweep) with an AI model trained and scored on 12 of the tickers
    (the whole universe triples the time, and the pages look the same), one analysed news
    article (the demo has no news), and the URL of every page the demo user reaches."""
    from backtests import demo as backtests_demo
    from backtests.models import Backtest
    from insights.news.models import ArticleTicker
    from insights.scores.models import ModelVersion
    from insights.scores.services import scores_update
    from markets import demo as markets_demo
    from markets.models import Ticker
    from portfolios import demo as portfolios_demo
    from portfolios.models import Portfolio, Watchlist
    from qunex.demo import demo_user_create
    from tests.insights.news.factories import AnalysisFactory, ArticleFactory

    user = demo_user_create()
    for module in (markets_demo, portfolios_demo, backtests_demo):
        module.seed(user=user, stdout=io.StringIO())
    symbols = sorted(Ticker.objects.filter(is_demo=True).values_list("symbol", flat=True))[:12]
    demo_model_once(symbols=symbols, force_promote=True)  # fitted once per run
    scores_update(symbols=symbols)
    article = ArticleFactory(title="Apple beats estimates as services grow")
    ArticleTicker.objects.create(
        article=article, ticker=Ticker.objects.get(symbol="AAPL"), origin="vendor"
    )
    AnalysisFactory(article=article)
    portfolio = Portfolio.objects.get(owner__username="demo")
    watchlist = Watchlist.objects.filter(owner__username="demo").first()
    runs = list(Backtest.objects.filter(owner__username="demo").order_by("pk"))
    single = next(b for b in runs if not b.is_sweep)
    sweep = next(b for b in runs if b.is_sweep)
    model = ModelVersion.objects.order_by("pk").first()
    return {
        "portfolio": portfolio,
        "single": single,
        "sweep": sweep,
        "model": model,
        "urls": [
            "/",
            "/stocks/",
            "/stocks/AAPL/",
            "/news/",
            f"/news/{article.pk}/",
            "/calendar/",
            "/insiders/",
            "/ai-scores/",
            "/ai-scores/track-record/",
            f"/ai-scores/models/{model.pk}/",
            "/portfolios/",
            f"/portfolios/{portfolio.pk}/",
            f"/portfolios/{portfolio.pk}/transactions/",
            f"/portfolios/{portfolio.pk}/realized/",
            f"/watchlists/{watchlist.pk}/",
            "/alerts/",
            "/notifications/",
            "/backtests/",
            "/backtests/new/",
            f"/backtests/{single.pk}/",
            f"/backtests/{sweep.pk}/",
            "/accounts/profile/",
            "/accounts/email/",
            "/accounts/password/change/",
        ],
    }


def log_in_demo(page):
    from qunex.demo import DEMO_EMAIL, DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("input[name=login]", DEMO_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/")


def set_theme(page, theme: str) -> None:
    page.evaluate("(t) => document.documentElement.setAttribute('data-theme', t)", theme)


def settle(page) -> None:
    """Two frames: ResizeObservers, chart redraws and tables.js have run."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def audit(page, url: str, axe_source: str) -> list[str]:
    page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    page.evaluate(axe_source + ";0")  # page.evaluate is not bound by the page's CSP
    found = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for theme in THEMES:
            set_theme(page, theme)
            settle(page)
            for v in page.evaluate(RUN_AXE, COLOUR_RULES if theme == "dark" else None):
                found.append(f"{url} {width}px {theme}: {v['impact']} {v['id']} {v['nodes']}")
    return found


def test_no_serious_or_critical_axe_violation_on_any_page(browser, live_server, demo_site):
    if not AXE.exists():
        pytest.skip("axe-core missing: run `npm ci` (or `make install`)")
    axe_source = AXE.read_text()
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: list[str] = []
    for url in ("/accounts/login/", "/accounts/signup/"):
        found += audit(page, url, axe_source)
    log_in_demo(page)
    for url in demo_site["urls"]:
        found += audit(page, url, axe_source)
    context.close()
    assert found == [], "\n".join(found)
    assert errors == []
