"""A trader runs a backtest from the form: small ones finish in the request, larger ones wait
for a processor; either way the page ends on the charts."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from backtests.models import Backtest
from tests.backtests.factories import seed_bars
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_db(transactional_db):
    """The database before the browser: list it first in each test's arguments."""


def log_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state("networkidle")


def process() -> None:
    call_command("process_backtests", stdout=StringIO(), stderr=StringIO())


def test_queue_run_and_read_a_backtest(browser_db, page, settings):
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0  # nothing runs in the request: the queue path
    seed_bars("SPY", 160)
    user = UserFactory()
    log_in(page, user)

    page.goto("/backtests/")
    page.get_by_role("link", name="Start your first backtest").click()
    page.wait_for_url("**/backtests/new/")

    # Changing the strategy shows its parameters and hides the others'.
    sma, ema = (
        "fieldset.strategy-params[data-strategy=sma_cross]",
        "fieldset.strategy-params[data-strategy=ema_cross]",
    )
    assert page.locator(sma).first.is_visible() and not page.locator(ema).first.is_visible()
    page.select_option("#id_strategy", "ema_cross")
    assert page.locator(ema).first.is_visible() and not page.locator(sma).first.is_visible()
    page.select_option("#id_strategy", "sma_cross")

    page.fill("#id_ticker", "spy")
    page.fill("#id_start", "2023-01-02")
    page.fill("#id_end", "2023-08-31")
    page.fill("#id_p_sma_cross_fast", "5")
    page.fill("#id_p_sma_cross_slow", "20")
    page.fill("#id_commission_pct", "0.1")
    page.get_by_role("button", name="Run backtest").click()

    page.wait_for_url(re.compile(r".*/backtests/\d+/$"))
    assert page.get_by_text("Waiting for a processor").is_visible()
    job = Backtest.objects.get()
    assert job.owner == user and job.params == {"fast": 5, "slow": 20}

    process()  # the page polls the status endpoint and reloads itself when the job is done
    page.wait_for_selector("#equity-chart canvas", timeout=20000)
    assert page.locator("#drawdown-chart canvas").count() > 0
    assert page.locator("table.stat-table").get_by_text("Sharpe Ratio").is_visible()
    assert page.locator("table.trades tbody tr").count() >= 1
    assert page.locator(".badge", has_text="Succeeded").first.is_visible()

    page.goto("/backtests/")
    assert page.locator("table.backtest-list").get_by_text("Succeeded").is_visible()
    assert page.watch.errors == []


def test_sweep_from_the_form_shows_a_heatmap(browser_db, page):
    seed_bars("SPY", 160)
    log_in(page, UserFactory())
    page.goto("/backtests/new/")
    page.fill("#id_start", "2023-01-02")
    page.fill("#id_end", "2023-08-31")
    page.locator("details.sweep summary").click()
    for name, low, high, step in (("fast", "3", "9", "3"), ("slow", "15", "25", "5")):
        page.fill(f"#id_s_sma_cross_{name}_from", low)
        page.fill(f"#id_s_sma_cross_{name}_to", high)
        page.fill(f"#id_s_sma_cross_{name}_step", step)
    page.get_by_role("button", name="Run backtest").click()
    page.wait_for_url(re.compile(r".*/backtests/\d+/$"))
    # A 9-combination sweep is inside the inline budget: the result is there at once.
    assert Backtest.objects.get().status == Backtest.Status.SUCCEEDED
    page.wait_for_selector("table.heatmap", timeout=20000)
    assert page.locator("table.heatmap td[class*=heat-]").count() == 9
    assert page.get_by_text("9 combinations tried").is_visible()

    # Sorting the combinations by return puts the largest first.
    page.locator("table.combos th", has_text="Return [%]").locator("button").click()
    values = [
        float(v)
        for v in page.locator("table.combos tbody tr td:nth-child(3)").evaluate_all(
            "els => els.map(e => e.dataset.value)"
        )
    ]
    assert values == sorted(values, reverse=True)
    page.wait_for_selector("#equity-chart canvas")
    assert page.watch.errors == []
