"""Backtest pages: login, owner-only 404s, the form built from the registry, results, budgets."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backtests.models import Backtest
from backtests.services import backtest_enqueue
from backtests.strategies import list_strategies
from tests.backtests.factories import BacktestFactory

pytestmark = pytest.mark.django_db

LIST = reverse("backtests:backtest_list")
NEW = reverse("backtests:backtest_new")
STATUS = reverse("backtests:backtest_status")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")


def assert_csp_clean(html: str) -> None:
    assert 'style="' not in html and "<style" not in html
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)


def form_data(**overrides) -> dict[str, str]:
    data = {
        "ticker": "spy",
        "start": "2023-01-02",
        "end": "2023-06-30",
        "strategy": "sma_cross",
        "p_sma_cross_fast": "5",
        "p_sma_cross_slow": "20",
        "cash": "10000",
        "commission_pct": "0.1",
        "commission_fixed": "0",
        "spread_pct": "0.05",
    }
    data.update(overrides)
    return data


def processed(user, **kwargs) -> Backtest:
    job = backtest_enqueue(
        user=user,
        ticker="SPY",
        start="2023-01-02",
        end="2023-06-30",
        strategy="sma_cross",
        params=kwargs.pop("params", {"fast": 5, "slow": 20}),
        **kwargs,
    )
    call_command("process_backtests", "--id", str(job.pk), stdout=StringIO(), stderr=StringIO())
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


@pytest.mark.parametrize("url", [LIST, NEW, STATUS, "/backtests/1/"])
def test_login_required(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_list_says_how_to_start(auth_client):
    response = auth_client.get(LIST)
    html = response.content.decode()
    assert "No backtests yet" in html and "Start your first backtest" in html
    assert NEW in html
    assert_csp_clean(html)


def test_list_query_count_is_flat(auth_client, user, spy):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert auth_client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    auth_client.get(LIST)  # warm-up: the first request stores the time zone in the session
    BacktestFactory(owner=user, ticker=spy)
    one = count()
    BacktestFactory.create_batch(
        49, owner=user, ticker=spy, status="succeeded", result={"stats": {"Return [%]": 1.5}}
    )
    # session, user, COUNT for the paginator, one page of backtests joined to their ticker
    # with the headline return read from the result JSON in SQL (the time zone is in the session)
    assert count() == one == 4


def test_list_shows_only_mine_with_status_and_polls_active_ones(auth_client, user, other_user, spy):
    mine = BacktestFactory(owner=user, ticker=spy)
    done = BacktestFactory(
        owner=user, ticker=spy, status="succeeded", result={"stats": {"Return [%]": 12.345}}
    )
    theirs = BacktestFactory(owner=other_user, ticker=spy)
    html = auth_client.get(LIST).content.decode()
    assert f'data-backtest-id="{mine.pk}"' in html
    assert f'data-backtest-id="{done.pk}"' not in html, "finished jobs are not polled"
    assert f"#{theirs.pk}<" not in html
    assert "+12.35%" in html and "Queued" in html and "Succeeded" in html
    assert "js/backtests/status.js" in html
    assert_csp_clean(html)


def test_others_backtests_are_404_everywhere(auth_client, other_user, spy):
    theirs = BacktestFactory(owner=other_user, ticker=spy)
    assert (
        auth_client.get(reverse("backtests:backtest_detail", args=[theirs.pk])).status_code == 404
    )
    assert (
        auth_client.post(reverse("backtests:backtest_rerun", args=[theirs.pk])).status_code == 404
    )
    assert (
        auth_client.post(reverse("backtests:backtest_cancel", args=[theirs.pk])).status_code == 404
    )
    assert auth_client.get(NEW, {"from": theirs.pk}).status_code == 404
    assert auth_client.get(STATUS, {"id": theirs.pk}).json() == {"backtests": []}
    theirs.refresh_from_db()
    assert theirs.status == "queued" and Backtest.objects.count() == 1


def test_form_renders_every_strategy_s_declared_parameters(auth_client, spy):
    html = auth_client.get(NEW).content.decode()
    for spec in list_strategies():
        assert f'data-strategy="{spec.name}"' in html
        for p in spec.params:
            field = re.search(rf'<input[^>]*name="p_{spec.name}_{p.name}"[^>]*>', html)
            assert field, (spec.name, p.name)
            assert f'min="{p.min}"' in field.group(0) and f'max="{p.max}"' in field.group(0)
            assert f'value="{p.default}"' in field.group(0)
            assert f'name="s_{spec.name}_{p.name}_from"' in html
            assert p.help in html
    assert '<datalist id="ticker-options"><option value="SPY">' in html
    assert 'value="2023-06-16"' in html, "the end date defaults to the last stored bar"
    assert "js/backtests/form.js" in html
    assert_csp_clean(html)


def test_new_form_dates_come_from_spy_s_own_bars_without_scanning_all_bars(auth_client, spy):
    from tests.backtests.factories import seed_bars

    seed_bars("AAPL", 400)  # later bars of another ticker do not move SPY's defaults
    with CaptureQueriesContext(connection) as ctx:
        html = auth_client.get(NEW).content.decode()
    assert 'name="start" value="2023-01-02"' in html and 'name="end" value="2023-06-16"' in html
    bar_queries = [q["sql"] for q in ctx.captured_queries if "markets_dailybar" in q["sql"]]
    # MIN/MAX of SPY's bars (the (ticker, date) index) and the EXISTS probe for the datalist.
    assert len(bar_queries) == 2
    assert "WHERE" in bar_queries[0] and "symbol" in bar_queries[0]
    assert "EXISTS" in bar_queries[1] and "DISTINCT" not in bar_queries[1]
    assert '<option value="AAPL"></option><option value="SPY">' in html


def test_submit_queues_with_percent_fields_as_fractions(auth_client, user, spy, settings):
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0
    response = auth_client.post(NEW, form_data(stop_loss_pct="5", long_short="on"))
    job = Backtest.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.owner == user and job.ticker == spy and job.status == "queued"
    assert job.params == {"fast": 5, "slow": 20}
    assert job.commission == Decimal("0.001") and job.spread == Decimal("0.0005")
    assert job.stop_loss == Decimal("0.05") and job.long_short is True
    assert job.sweep is None


def test_only_the_selected_strategy_s_fields_are_used(auth_client, spy):
    data = form_data(strategy="rsi_reversion", p_rsi_reversion_period="10", p_sma_cross_fast="999")
    assert auth_client.post(NEW, data).status_code == 302
    assert Backtest.objects.get().params == {"period": 10, "lower": 30.0, "upper": 70.0}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"p_sma_cross_fast": "30"}, "p_sma_cross_fast", "Must be smaller than slow (20)."),
        ({"ticker": "ZZZZ"}, "ticker", "Unknown ticker &#x27;ZZZZ&#x27;."),
        ({"start": "2023-07-01"}, "start", "Must be on or before the end date."),
        ({"commission_pct": "25"}, "commission_pct", "less than or equal to 9.9999"),
        ({"s_sma_cross_fast_from": "5"}, "s_sma_cross_fast_to", "Give both ends of the range."),
        ({"walk_forward_pct": "70"}, "walk_forward_pct", "needs a parameter sweep"),
    ],
)
def test_errors_are_shown_on_their_field_and_nothing_is_queued(
    auth_client, spy, overrides, field, message
):
    response = auth_client.post(NEW, form_data(**overrides))
    assert response.status_code == 200
    assert not Backtest.objects.exists()
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in response.content.decode()


def test_sweep_ranges_become_a_grid(auth_client, spy):
    data = form_data(
        s_sma_cross_fast_from="3", s_sma_cross_fast_to="9", s_sma_cross_fast_step="3",
        s_sma_cross_slow_from="15", s_sma_cross_slow_to="25", s_sma_cross_slow_step="5",
        walk_forward_pct="70",
    )  # fmt: skip
    assert auth_client.post(NEW, data).status_code == 302
    job = Backtest.objects.get()
    assert job.sweep == {"fast": [3, 6, 9], "slow": [15, 20, 25]}
    assert job.params == {} and job.walk_forward == Decimal("0.7")


def test_edit_as_new_prefills_the_form(auth_client, user, spy):
    job = BacktestFactory(
        owner=user,
        ticker=spy,
        params={"slow": 20},
        sweep={"fast": [3, 5, 7]},
        commission=Decimal("0.002"),
    )
    html = auth_client.get(NEW, {"from": job.pk}).content.decode()
    assert re.search(
        r'name="s_sma_cross_fast_from"[^>]*value="3"|value="3"[^>]*name="s_sma_cross_fast_from"',
        html,
    )
    assert re.search(
        r'name="s_sma_cross_fast_step"[^>]*value="2"|value="2"[^>]*name="s_sma_cross_fast_step"',
        html,
    )
    assert re.search(r'name="commission_pct"[^>]*value="0.2', html)
    assert '<details class="card sweep" open>' in html


def test_queued_detail_polls_and_offers_cancel(auth_client, user, spy):
    job = BacktestFactory(owner=user, ticker=spy)
    html = auth_client.get(job.get_absolute_url()).content.decode()
    assert "Waiting for a processor" in html and f'data-backtest-id="{job.pk}"' in html
    assert "js/backtests/status.js" in html and "lightweight-charts" not in html
    assert reverse("backtests:backtest_cancel", args=[job.pk]) in html
    assert_csp_clean(html)


def test_detail_of_a_finished_run_has_charts_stats_and_trades(auth_client, user, spy):
    job = processed(user, long_short=True, commission="0.02")  # costs make some trades lose
    response = auth_client.get(job.get_absolute_url())
    html = response.content.decode()
    assert 'id="equity-chart"' in html and 'id="drawdown-chart"' in html
    assert '<script id="backtest-chart-data" type="application/json">' in html
    chart = response.context["chart"]
    assert (
        len(chart["dates"]) == len(chart["equity"]) == len(chart["buy_hold"]) == job.result["bars"]
    )
    assert all(v <= 0 for v in chart["drawdown"])
    assert "Sharpe Ratio" in html and "Buy &amp; Hold Return [%]" in html
    assert len(response.context["trades"]) >= job.result["stats"]["# Trades"] > 0
    # Money with separators and a real minus sign; the full-width trades card.
    assert 'class="card trades-card"' in html
    losses = [t for t in response.context["trades"] if t["pnl"] < 0]
    assert losses and all(t["pnl_money"] in html for t in losses)
    assert all(t["pnl_money"].startswith("\u2212$") for t in losses)
    assert re.search(
        r'<td class="num (up|down|)">\u2212?\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}</td>', html
    )
    assert not re.search(r">-[0-9$]", html), "a hyphen where a minus sign belongs"
    assert (
        "lightweight-charts.standalone.production.js" in html and "js/backtests/detail.js" in html
    )
    assert reverse("backtests:backtest_rerun", args=[job.pk]) in html
    assert_csp_clean(html)


def test_detail_query_count(auth_client, user, spy, django_assert_num_queries):
    job = processed(user)
    auth_client.get(job.get_absolute_url())  # warm-up: the time zone is stored in the session
    # session, user, the backtest joined to its ticker
    with django_assert_num_queries(3):
        auth_client.get(job.get_absolute_url())


def test_sweep_detail_has_heatmap_table_and_walk_forward(auth_client, user, spy):
    job = processed(
        user, params={}, sweep={"fast": [3, 5, 8], "slow": [10, 20]}, walk_forward="0.7"
    )
    response = auth_client.get(job.get_absolute_url())
    html = response.content.decode()
    heat = response.context["heatmap"]
    assert heat["x_name"] == "fast" and heat["y_name"] == "slow" and heat["xs"] == [3, 5, 8]
    classes = [c["css"] for row in heat["rows"] for c in row["cells"]]
    assert "heat-9" in classes and "heat-0" in classes
    assert re.search(r'<td class="num heat-\d"', html)
    assert "6 combinations tried" in html
    assert "data-sortable" in html and html.count('class="best"') == 1
    assert "Walk-forward: in-sample vs out-of-sample" in html
    assert len(response.context["walk_forward_rows"]) == 6
    by_return = auth_client.get(job.get_absolute_url(), {"metric": "Return [%]"}).context["heatmap"]
    assert by_return["metric"] == "Return [%]"
    assert_csp_clean(html)


def test_list_says_when_a_run_finished_with_its_parameters_and_demo_badge(auth_client, user, spy):
    """A run that finished in the request reads "Finished ...", not "Queued a minute ago"."""
    done = processed(user)
    grid = processed(user, params={}, sweep={"fast": [3, 5, 8], "slow": [10, 20]})
    html = auth_client.get(LIST).content.decode()
    row = html[html.index(f"#{done.pk}<") :]
    row = row[: row.index("</tr>")]
    assert "Finished" in row and "Queued" not in row and "fast 5, slow 20" in row
    sweep_row = html[html.index(f"#{grid.pk}<") :]
    sweep_row = sweep_row[: sweep_row.index("</tr>")]
    assert "fast 3\u20138 (3) \u00d7 slow 10\u201320 (2)" in sweep_row
    assert "Demo data" not in html
    Backtest.objects.filter(pk=done.pk).update(status="queued", finished_at=None)
    spy.is_demo = True
    spy.save(update_fields=["is_demo"])
    html = auth_client.get(LIST).content.decode()
    assert "Demo data" in html and "Queued" in html


def test_sweep_detail_shows_its_grid_the_skipped_cell_and_the_in_sample_note(
    auth_client, user, spy
):
    job = processed(user, params={}, sweep={"fast": [5, 10], "slow": [10, 20]})
    response = auth_client.get(job.get_absolute_url())
    html = response.content.decode()
    assert "Parameter grid" in html and "fast: 5, 10; slow: 10, 20" in html
    assert "defaults" not in html
    assert "1 skipped because it breaks the strategy's rules" in html
    cells = {(c["x"], r["y"]): c for r in response.context["heatmap"]["rows"] for c in r["cells"]}
    assert cells[(10, 10)]["kind"] == "skipped" and 'class="num heat-skipped"' in html
    assert "fast 10, slow 10: skipped" in html
    assert "The heatmap is in-sample" in html
    walked = processed(
        user, params={}, sweep={"fast": [3, 5], "slow": [10, 20]}, walk_forward="0.7"
    )
    html = auth_client.get(walked.get_absolute_url()).content.decode()
    assert "The heatmap covers the in-sample period only" in html
    assert "2 skipped" not in html and "skipped because" not in html


def test_failed_detail_shows_the_error(auth_client, user, spy):
    job = BacktestFactory(
        owner=user, ticker=spy, status="failed", attempts=3, error="RuntimeError: boom"
    )
    html = auth_client.get(job.get_absolute_url()).content.decode()
    assert (
        "The backtest failed" in html
        and "RuntimeError: boom" in html
        and "After 3 attempts" in html
    )


def test_submit_runs_a_small_backtest_and_redirects_to_its_result(auth_client, user, spy):
    response = auth_client.post(NEW, form_data(close_at_end="on"), follow=True)
    job = Backtest.objects.get()
    assert response.redirect_chain == [(job.get_absolute_url(), 302)]
    assert job.status == "succeeded" and job.close_at_end is True
    html = response.content.decode()
    assert f"Backtest #{job.pk} ran in" in html and 'class="trades' in html


def test_a_failing_inline_run_shows_its_error(auth_client, user, spy, test_strategies):
    data = form_data(strategy="test_raise", p_test_raise_code="3")
    response = auth_client.post(NEW, data, follow=True)
    assert response.status_code == 200
    job = Backtest.objects.get()
    assert job.status == "failed" and "strategy exploded (code 3)" in response.content.decode()


def test_rerun_button_queues_a_copy(auth_client, user, spy, settings):
    settings.BACKTEST_INLINE_BUDGET_SECONDS = 0
    job = processed(user)
    response = auth_client.post(reverse("backtests:backtest_rerun", args=[job.pk]))
    again = Backtest.objects.exclude(pk=job.pk).get()
    assert response["Location"] == again.get_absolute_url()
    assert again.rerun_of == job and again.status == "queued" and again.params == job.params


def test_cancel_button(auth_client, user, spy):
    job = BacktestFactory(owner=user, ticker=spy)
    auth_client.post(reverse("backtests:backtest_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_status_endpoint(auth_client, user, spy):
    a = BacktestFactory(owner=user, ticker=spy)
    b = BacktestFactory(owner=user, ticker=spy, status="succeeded")
    data = auth_client.get(STATUS, {"id": [a.pk, b.pk, "x"]}).json()["backtests"]
    assert [(r["id"], r["status"], r["finished"]) for r in data] == [
        (a.pk, "queued", False),
        (b.pk, "succeeded", True),
    ]
    assert data[0]["url"] == a.get_absolute_url()


def test_admin_lists_filters_and_requeues(client, staff_user, user, spy):
    failed = BacktestFactory(owner=user, ticker=spy, status="failed", attempts=3, error="boom")
    running = BacktestFactory(owner=user, ticker=spy, status="running", attempts=1, claimed_by="w")
    client.force_login(staff_user)
    url = reverse("admin:backtests_backtest_changelist")
    assert client.get(url, {"status__exact": "failed", "q": "SPY"}).status_code == 200
    response = client.post(
        url, {"action": "requeue", "_selected_action": [failed.pk, running.pk]}, follow=True
    )
    failed.refresh_from_db()
    running.refresh_from_db()
    assert failed.status == "queued" and failed.attempts == 0 and failed.error == ""
    assert running.status == "running", "a running job is refused, not reset"
    assert "1 backtest(s) requeued." in response.content.decode()
    client.post(url, {"action": "cancel", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "cancelled"
