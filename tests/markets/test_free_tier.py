"""The market-data jobs against a fake vendor that enforces the FREE tiers (issue 18):
grouped daily for the whole market, backfills paced across runs, unknown tickers marked,
entitlements remembered, the budget shared, reference data in pages that resume, one
adjustment basis, and no key in any output."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command

from markets.budget import budget_for
from markets.models import CorporateAction, DailyBar, MarketDataState, Quote, Ticker
from qunex.models import JobRun
from qunex.redaction import RedactingFilter, redact
from tests.factories import TickerFactory
from tests.markets.free_tier_vendor import FakeMarket, FreeTierLimits, FreeTierVendor

pytestmark = pytest.mark.django_db

CLOSED = datetime(2026, 11, 24, 22, tzinfo=UTC)  # Tuesday after the close
OPEN = datetime(2026, 11, 25, 15, tzinfo=UTC)  # Wednesday 10:00 New York
FRIDAY, MONDAY, TUESDAY = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket.of(60)


@pytest.fixture
def vendor(settings, market):
    server = FreeTierVendor(market)
    server.settings(settings)
    settings.MARKET_DATA_PROVIDERS = ["polygon"]
    settings.REFRESH_TIME_BUDGET_SECONDS = 0  # tests never wait for a minute to pass
    settings.HTTP_TIMEOUT = 5
    yield server
    server.close()


def next_minute(vendor: FreeTierVendor) -> None:
    """A minute goes by: the vendor's window and our shared budget both free up."""
    vendor.reset_minute()
    cache.clear()


def loaded(market: FakeMarket, *symbols: str, last: date = FRIDAY) -> list[Ticker]:
    """Tickers whose stored (adjusted) history ends on `last`."""
    tickers = []
    for symbol in symbols:
        ticker = TickerFactory(symbol=symbol, is_demo=False)
        close = market.adjusted_close(symbol, last)
        DailyBar.objects.create(ticker=ticker, date=last, open=close, high=close, low=close,
                                close=close, adj_close=close, volume=1, source="polygon")  # fmt: skip
        tickers.append(ticker)
    return tickers


def run(command: str = "refresh_market_data", *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@time_machine.travel(CLOSED, tick=True)
def test_grouped_daily_keeps_every_loaded_ticker_fresh_in_one_call_per_session(vendor, market):
    loaded(market, *[f"S{i:04d}" for i in range(50)])

    out, _ = run()

    assert vendor.calls["polygon:grouped"] == 2  # Monday and Tuesday, the whole market each
    assert vendor.calls["polygon:aggs"] == 0  # no per-ticker call
    assert DailyBar.objects.filter(date=TUESDAY).count() == 50
    assert DailyBar.objects.get(ticker__symbol="S0007", date=TUESDAY).close == (
        market.adjusted_close("S0007", TUESDAY)
    )
    assert "calls_polygon 2" in out and "grouped_calls 2" in out
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED

    out, _ = run()  # a second run changes nothing and asks nothing
    assert sum(v for k, v in vendor.calls.items() if k.startswith("polygon")) == 2
    assert "up_to_date 50" in out and "calls_polygon" not in out


@time_machine.travel(CLOSED, tick=True)
def test_a_garbage_row_in_the_grouped_answer_costs_that_bar_only(vendor, market):
    loaded(market, "S0000", "S0001")
    real_bar = market.bar
    market.bar = lambda symbol, day, adjusted: (  # type: ignore[method-assign]
        {**real_bar(symbol, day, adjusted=adjusted), "h": 1, "l": 2}
        if symbol == "S0001" and day == TUESDAY
        else real_bar(symbol, day, adjusted=adjusted)
    )
    with pytest.raises(CommandError, match="failed: S0001") as caught:
        run()  # the per-ticker retry gets the same garbage: S0001 (only) is named failed
    assert "grouped_bars_rejected 1" in str(caught.value)
    assert DailyBar.objects.filter(date=TUESDAY).count() == 1  # S0000's
    assert DailyBar.objects.filter(date=MONDAY).count() == 2
    assert vendor.calls["polygon:aggs"] == 1


@time_machine.travel(CLOSED, tick=True)
def test_backfills_are_paced_across_runs_while_loaded_tickers_keep_updating(vendor, market):
    loaded(market, "S0000", "S0001", "S0002")
    new = [f"S{i:04d}" for i in range(10, 22)]
    for symbol in new:
        TickerFactory(symbol=symbol, is_demo=False)

    out, _ = run()  # 5 calls a minute: 2 grouped sessions + 3 backfills; 9 wait
    assert vendor.calls["polygon:429"] == 0  # the budget kept us inside the vendor's limit
    assert "calls_polygon 5" in out and "deferred 9" in out
    assert DailyBar.objects.filter(date=TUESDAY).count() == 3 + 3
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED  # green

    next_minute(vendor)
    out, _ = run()
    assert "backfilled 5" in out and "deferred 4" in out
    next_minute(vendor)
    out, _ = run()
    assert "backfilled 4" in out and "deferred" not in out
    assert DailyBar.objects.filter(date=TUESDAY).count() == 15
    assert set(DailyBar.objects.values_list("source", flat=True)) == {"polygon"}
    assert not DailyBar.objects.filter(adj_close__isnull=True).exists()


@time_machine.travel(CLOSED, tick=True)
def test_unknown_and_delisted_tickers_are_marked_and_stop_taking_budget(vendor, market):
    loaded(market, "S0000")
    for symbol in ("GONE", "NEVER"):
        TickerFactory(symbol=symbol, is_demo=False)

    out, err = run()
    assert "unavailable 2" in out and "2 marked unavailable" in out
    assert "GONE" not in err  # not a failure
    assert set(
        Ticker.objects.filter(bars_unavailable_since__isnull=False).values_list("symbol", flat=True)
    ) == {"GONE", "NEVER"}
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED

    next_minute(vendor)
    before = vendor.calls["polygon:aggs"]
    out, _ = run()
    assert vendor.calls["polygon:aggs"] == before  # never asked again (for 30 days)
    assert "unavailable_skipped 2" in out


@time_machine.travel(OPEN, tick=True)
def test_a_refused_snapshot_is_remembered_and_quotes_come_from_finnhub(vendor, market, settings):
    settings.MARKET_DATA_PROVIDERS = ["polygon", "finnhub"]
    loaded(market, "S0000", "S0001", "S0002", last=TUESDAY)  # bars up to date

    out, err = run()
    assert vendor.calls["polygon:snapshot"] == 1  # 403: not on the free tier
    assert vendor.calls["finnhub:quote"] == 3
    assert Quote.objects.filter(source="finnhub").count() == 3
    assert "quotes_created 3" in out and "failed" not in out and err == ""
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED

    out, _ = run()
    assert vendor.calls["polygon:snapshot"] == 1  # remembered for a day, in every process
    assert not budget_for("polygon").is_entitled("snapshot")


@time_machine.travel(CLOSED, tick=True)
def test_no_quote_calls_while_the_market_is_closed(vendor, market, settings):
    settings.MARKET_DATA_PROVIDERS = ["polygon", "finnhub"]
    loaded(market, "S0000", last=TUESDAY)
    out, _ = run()
    assert vendor.calls["polygon:snapshot"] == vendor.calls["finnhub:quote"] == 0
    assert "quotes_skipped_market_closed 1" in out


@time_machine.travel(CLOSED, tick=True)
def test_a_budget_spent_by_the_feed_defers_the_job_it_does_not_fail_it(vendor, market):
    loaded(market, "S0000", "S0001")
    feed = budget_for("polygon")  # the web feed's process shares this budget via the cache
    assert all(feed.acquire() for _ in range(5))

    out, _ = run()
    assert sum(v for k, v in vendor.calls.items() if k.startswith("polygon")) == 0
    assert "grouped_deferred 1" in out and "deferred 2" in out
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED


# --- one adjustment basis -----------------------------------------------------------------


@pytest.fixture
def split_market(market) -> FakeMarket:
    market.splits["S0005"] = [(MONDAY, 1, 4)]  # 4-for-1 on Monday
    return market


def alpha_only(settings) -> None:
    settings.MARKET_DATA_PROVIDERS = ["alphavantage"]


def splits_synced() -> None:
    MarketDataState.objects.create(key="sync:actions_through", value={"date": str(TUESDAY)})


@time_machine.travel(CLOSED, tick=True)
def test_alpha_vantage_bars_are_converted_with_known_splits(vendor, split_market, settings):
    alpha_only(settings)
    TickerFactory(symbol="S0005", is_demo=False)
    splits_synced()
    CorporateAction.objects.create(ticker=Ticker.objects.get(symbol="S0005"), kind="split",
                                   ex_date=MONDAY, ratio_from=1, ratio_to=4, source="polygon")  # fmt: skip

    out, _ = run()

    bars = dict(DailyBar.objects.filter(ticker__symbol="S0005").values_list("date", "close"))
    assert len(bars) > 100  # a backfill (TIME_SERIES_DAILY full)
    for day in (date(2026, 11, 19), FRIDAY, MONDAY, TUESDAY):
        assert bars[day] == split_market.adjusted_close("S0005", day)  # as Polygon's adjusted
    friday = DailyBar.objects.get(ticker__symbol="S0005", date=FRIDAY)
    assert friday.adj_close == friday.close and friday.source == "alphavantage"
    assert "bars_converted" in out


@time_machine.travel(CLOSED, tick=True)
def test_unadjusted_bars_are_refused_without_fresh_splits(vendor, split_market, settings):
    alpha_only(settings)
    TickerFactory(symbol="S0005", is_demo=False)
    err = io.StringIO()
    with pytest.raises(CommandError, match="failed: S0005"):
        call_command("refresh_market_data", stdout=io.StringIO(), stderr=err)
    assert "S0005: alphavantage bars are not split-adjusted" in err.getvalue()
    assert "run sync_tickers first" in err.getvalue()
    assert not DailyBar.objects.exists()


@time_machine.travel(CLOSED, tick=True)
def test_unadjusted_bars_that_do_not_join_stored_history_are_refused(
    vendor, split_market, settings
):
    """Stored before the split (as traded then), the split not known: Monday's close would
    be a quarter of Friday's. Refused, named, nothing mixed."""
    alpha_only(settings)
    splits_synced()
    (ticker,) = loaded(split_market, "S0005")
    DailyBar.objects.filter(ticker=ticker).update(
        close=split_market.adjusted_close("S0005", FRIDAY) * 4
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="failed: S0005"):
        call_command("refresh_market_data", stdout=io.StringIO(), stderr=err)
    assert "a split we do not know" in err.getvalue()
    assert DailyBar.objects.filter(ticker=ticker).count() == 1


# --- keys never leave their setting -------------------------------------------------------


@time_machine.travel(CLOSED, tick=True)
def test_alpha_vantage_echoing_the_key_never_leaks_it(vendor, market, settings, caplog):
    alpha_only(settings)
    key = vendor.keys["alphavantage"]
    vendor.spend_day("alphavantage", 25)  # another app spent today's 25 calls
    splits_synced()
    loaded(market, "S0000", "S0001")

    with caplog.at_level(logging.DEBUG), pytest.raises(CommandError) as caught:
        run("refresh_market_data", "-v", "2")
    assert vendor.calls["alphavantage:day-cap"] == 1  # asked once, then the day is spent
    texts = [str(caught.value)] + [r.getMessage() for r in caplog.records]
    job = JobRun.objects.latest("started_at")
    texts += [job.summary, job.error]
    assert "[redacted]" in str(caught.value)
    assert all(key not in text for text in texts)
    assert budget_for("alphavantage").remaining()["day"] == 0


def test_the_logging_filter_masks_every_configured_secret(settings):
    settings.ALPHA_VANTAGE_API_KEY = "AV-SECRET-1"
    settings.EMAIL_HOST_PASSWORD = "mail-pass-2"
    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactingFilter) for f in h.filters)
    ]
    assert handlers, "settings.LOGGING installs the redacting filter on the console handler"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    try:
        log.warning("vendor said %s and %s", "key AV-SECRET-1", "pw mail-pass-2")
        try:
            raise ValueError("https://x/query?apikey=AV-SECRET-1&symbol=IBM")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "AV-SECRET-1" not in text and "mail-pass-2" not in text
    assert text.count("[redacted]") >= 3


def test_redact_masks_urls_bearer_tokens_and_database_passwords(settings):
    settings.POLYGON_API_KEY = "pk_live_abcdef"
    assert redact("Authorization: Bearer pk_live_abcdef") == "Authorization: Bearer [redacted]"
    assert redact("GET /query?function=X&apikey=whatever1&x=1") == (
        "GET /query?function=X&apikey=[redacted]&x=1"
    )
    settings.REDIS_URL = "redis://:db-secret-9@cache.internal:6379/0"
    assert (
        redact("could not connect: password db-secret-9")
        == "could not connect: password [redacted]"
    )
    assert redact("short 12345 values stay") == "short 12345 values stay"


# --- reference data in bulk ---------------------------------------------------------------


@pytest.fixture
def big_market() -> FakeMarket:
    market = FakeMarket.of(2500, warrants=30)
    market.splits["S0003"] = [(MONDAY, 1, 2)]
    market.splits["S0004"] = [(date(2019, 6, 3), 1, 3)]
    market.dividends["S0001"] = [(date(2026, 8, 11), Decimal("0.25"))]
    return market


@time_machine.travel(CLOSED, tick=True)
def test_sync_tickers_pages_the_whole_market_and_resumes_where_it_stopped(settings, big_market):
    server = FreeTierVendor(big_market, limits=FreeTierLimits(polygon_per_minute=2))
    server.settings(settings)
    settings.MARKET_DATA_PROVIDERS = ["polygon", "finnhub"]
    settings.REFRESH_TIME_BUDGET_SECONDS = 0
    try:
        Ticker.objects.bulk_create([Ticker(symbol=f"S{i:04d}") for i in range(2400)])
        loaded(big_market, "S0003")  # has history: the new split makes it stale

        out, _ = run("sync_tickers")  # 2 calls a minute: 2 of the 3 listing pages
        assert "tickers_pages 2" in out and "resumes there" in out
        assert MarketDataState.objects.filter(key="sync:tickers").exists()
        assert Ticker.objects.filter(name__endswith="Corp").count() == 2000

        server.reset_minute()
        cache.clear()
        out, _ = run("sync_tickers")  # the last listing page, then the splits
        assert "tickers_pages 1" in out and "splits_pages 1" in out
        assert MarketDataState.objects.get(key="sync:tickers").value == {"done": str(TUESDAY)}
        server.reset_minute()
        cache.clear()
        out, _ = run("sync_tickers")
        assert "dividends_pages 1" in out and "resumes" not in out

        polygon_calls = sum(v for k, v in server.calls.items() if k.startswith("polygon"))
        assert polygon_calls == 5  # 2,400 tickers, their splits and dividends in 5 calls
        assert server.calls["polygon:details"] == 0 and server.calls["polygon:429"] == 0
        assert Ticker.objects.filter(name__endswith="Corp").count() == 2400
        assert Ticker.objects.get(symbol="S0009").asset_type == "etf"
        assert Ticker.objects.get(symbol="S0008").asset_type == "stock"
        assert not Ticker.objects.filter(symbol__startswith="W").exists()  # warrants: untracked
        assert CorporateAction.objects.filter(kind="split").count() == 2
        assert CorporateAction.objects.filter(kind="dividend").count() == 1
        assert Ticker.objects.get(symbol="S0003").bars_refetch  # split since its history
        assert MarketDataState.objects.get(key="sync:actions_through").value == {
            "date": str(TUESDAY)
        }
        assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED

        out, _ = run("sync_tickers")  # done today: a second run asks nothing
        assert "calls_polygon" not in out
    finally:
        server.close()


@time_machine.travel(CLOSED, tick=True)
def test_a_stale_history_is_fetched_again_after_a_split(vendor, split_market):
    (ticker,) = loaded(split_market, "S0005", last=TUESDAY)
    Ticker.objects.filter(pk=ticker.pk).update(bars_refetch=True)
    run()
    assert vendor.calls["polygon:aggs"] == 1
    ticker.refresh_from_db()
    assert not ticker.bars_refetch
    assert DailyBar.objects.filter(ticker=ticker).count() > 2500


def test_the_admin_shows_old_job_runs_without_their_keys(client, staff_user, settings):
    """A row stored before redaction existed (the key in its summary and error)."""
    settings.ALPHA_VANTAGE_API_KEY = "AVLEAKED99"
    run = JobRun.objects.create(
        command="refresh_market_data",
        started_at="2026-11-24T22:00:00Z",
        summary="failed: We have detected your API key as AVLEAKED99",
        error="alphavantage: ... AVLEAKED99 ...",
    )
    client.force_login(staff_user)
    listing = client.get("/admin/qunex/jobrun/")
    detail = client.get(f"/admin/qunex/jobrun/{run.pk}/change/")
    assert listing.status_code == detail.status_code == 200
    assert b"AVLEAKED99" not in listing.content and b"AVLEAKED99" not in detail.content
    assert b"[redacted]" in detail.content
