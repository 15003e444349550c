"""refresh_market_data and sync_tickers with scripted vendors (and one real adapter on a fake
wire): windows from the calendar, failover, per-ticker failure, dry run, idempotence."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from markets import calendar
from markets.models import CorporateAction, DailyBar, Quote, Ticker
from markets.providers import (
    BadResponse,
    Bar,
    Dividend,
    PolygonProvider,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    Split,
    TickerInfo,
)
from markets.quotes import feed_get
from markets.services import quotes_upsert
from qunex.models import JobRun
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory
from tests.markets import FakeVendor, Reply, fake_session, fixture

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 22, tzinfo=UTC)  # Tuesday, after the 21:00 UTC close
FRIDAY, MONDAY, TUESDAY = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)
# Wednesday 10:00 New York: the market is open (quotes are fetched), Tuesday is still the
# last completed session. At NOW the market is closed: no quote calls.
OPEN = datetime(2026, 11, 25, 15, tzinfo=UTC)


def market_open():
    return time_machine.travel(OPEN, tick=False)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def session_bars(symbol: str, start: date, end: date, source: str, close: str = "100") -> list[Bar]:
    c = Decimal(close)
    return [
        Bar(symbol, day, c, c + 2, c - 2, c + 1, c + 1, 1_000, source)
        for day in calendar.sessions(start, end)
    ]


class Scripted(Provider):
    """A vendor whose answers are scripted per symbol; records every call."""

    def __init__(
        self,
        name: str,
        *,
        bars: Callable[[str, date, date], list[Bar]] | None = None,
        quotes: bool = True,
        fail: Iterable[str] = (),
        error: type[ProviderError] | None = None,
    ) -> None:
        super().__init__("key", session=None)  # type: ignore[arg-type]
        self.name = name  # type: ignore[misc]
        self.batch_quotes = True  # type: ignore[misc]
        self._bars = bars or (lambda s, a, b: session_bars(s, a, b, name))
        self._quotes, self._fail, self._error = quotes, set(fail), error
        self.calls: list[tuple] = []

    def _maybe_fail(self, symbol: str) -> None:
        if symbol in self._fail:
            if self._error is RateLimited:
                raise RateLimited("slow down", vendor=self.name, symbol=symbol)
            raise ProviderError(
                "HTTP 500 upstream", permanent=False, vendor=self.name, symbol=symbol
            )

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        self.calls.append(("daily_bars", symbol, start, end))
        self._maybe_fail(symbol)
        return self._bars(symbol, start, end)

    def quotes(self, symbols: Iterable[str]) -> dict[str, QuoteRecord]:
        symbols = list(symbols)
        self.calls.append(("quotes", tuple(symbols)))
        if not self._quotes:
            raise NotImplementedError
        return {
            s: QuoteRecord(s, Decimal("101"), Decimal("1"), Decimal("1"), 5, NOW, self.name)
            for s in symbols
            if s not in self._fail
        }

    def ticker_details(self, symbol: str) -> TickerInfo:
        self.calls.append(("ticker_details", symbol))
        self._maybe_fail(symbol)
        return TickerInfo(symbol, f"{symbol} Inc.", "NASDAQ", "Information Technology", "Software", 10**12, "USD", "US", self.name)  # fmt: skip

    def splits(self, symbol: str) -> list[Split]:
        return [Split(symbol, date(2020, 8, 31), Decimal(1), Decimal(4), self.name)]

    def dividends(self, symbol: str) -> list[Dividend]:
        return [Dividend(symbol, date(2026, 8, 11), date(2026, 8, 14), Decimal("0.26"), "USD", None, None, 4, self.name)]  # fmt: skip


def use(monkeypatch, *providers: Provider) -> None:
    monkeypatch.setattr("markets.refresh.market_providers", lambda: list(providers))


def refresh(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("refresh_market_data", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def real_ticker(symbol: str, last: date | None = FRIDAY) -> Ticker:
    ticker = TickerFactory(symbol=symbol, is_demo=False)
    if last:
        DailyBarFactory(ticker=ticker, date=last, close=90, source="polygon")
    return ticker


def test_fetches_since_the_last_bar_then_a_second_run_changes_nothing(monkeypatch):
    with market_open():
        real_ticker("AAPL")
        real_ticker("MSFT")
        polygon = Scripted("polygon")
        use(monkeypatch, polygon)

        out, _ = refresh()
        assert ("daily_bars", "AAPL", date(2026, 11, 21), TUESDAY) in polygon.calls
        assert ("quotes", ("AAPL", "MSFT")) in polygon.calls  # one batched call
        assert set(
            DailyBar.objects.filter(ticker__symbol="AAPL").values_list("date", flat=True)
        ) == {
            FRIDAY,
            MONDAY,
            TUESDAY,
        }
        assert Quote.objects.get(ticker__symbol="MSFT").price == Decimal("101")
        assert "bars_created 4" in out and "quotes_created 2" in out and "fetched 2" in out
        assert out.count("\n") == 1  # one summary line

        polygon.calls.clear()
        out, _ = refresh()
        assert [c[0] for c in polygon.calls] == ["quotes"]  # bars are up to date: not fetched
        assert "up_to_date 2" in out and "quotes_unchanged 2" in out
        assert "bars_created" not in out
        assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED


def test_since_refetch_is_idempotent(monkeypatch):
    real_ticker("AAPL")
    use(monkeypatch, Scripted("polygon"))
    refresh()
    out, _ = refresh("--since", "2026-11-16")
    # 16th-19th new, the 20th was stored at 90 (updated), the 23rd and 24th are as stored
    assert "bars_created 4, bars_unchanged 2, bars_updated 1" in out
    out, _ = refresh("--since", "2026-11-16")
    assert "bars_unchanged 7" in out and "bars_created" not in out and "bars_updated" not in out


def test_a_weekend_or_holiday_needs_no_fetch(monkeypatch):
    real_ticker("AAPL", last=date(2026, 11, 25))
    polygon = Scripted("polygon")
    use(monkeypatch, polygon)
    with time_machine.travel(
        datetime(2026, 11, 27, 15, tzinfo=UTC), tick=False
    ):  # Thanksgiving Friday, before close
        out, _ = refresh()
    assert "up_to_date 1" in out
    assert not [c for c in polygon.calls if c[0] == "daily_bars"]


def test_failover_records_the_vendor_that_answered(monkeypatch, settings):
    settings.REFRESH_MAX_FAILED_PERCENT = 100  # MSFT's quote is nowhere: not the point here
    real_ticker("AAPL")
    real_ticker("MSFT")
    polygon = Scripted("polygon", fail={"MSFT"})
    alpha = Scripted("alphavantage", quotes=False)
    use(monkeypatch, polygon, alpha)
    out, _ = refresh()
    sources = dict(DailyBar.objects.filter(date=TUESDAY).values_list("ticker__symbol", "source"))
    assert sources == {"AAPL": "polygon", "MSFT": "alphavantage"}
    assert "via_alphavantage 1" in out and "via_polygon 1" in out


def test_a_failing_ticker_is_counted_and_the_run_goes_on(monkeypatch, settings):
    settings.REFRESH_MAX_FAILED_PERCENT = 60  # 1 of 2 failed: under the limit, exit 0
    real_ticker("AAPL")
    real_ticker("MSFT")
    use(monkeypatch, Scripted("polygon", fail={"AAPL"}))
    out, err = refresh()
    assert "failed 1" in out and "fetched 1" in out
    assert out.strip().endswith("; failed: AAPL")  # the summary names the failed ticker
    assert "AAPL: polygon (AAPL): HTTP 500 upstream" in err
    assert DailyBar.objects.filter(ticker__symbol="MSFT", date=TUESDAY).exists()
    assert not DailyBar.objects.filter(ticker__symbol="AAPL", date=TUESDAY).exists()
    run = JobRun.objects.latest("started_at")
    assert (run.status, run.counts["failed"]) == (JobRun.Status.PARTIAL, 1)


def test_the_run_fails_when_every_ticker_fails(monkeypatch):
    real_ticker("AAPL")
    real_ticker("MSFT")
    use(monkeypatch, Scripted("polygon", fail={"AAPL", "MSFT"}))
    with pytest.raises(CommandError, match="every ticker failed"):
        refresh()
    assert JobRun.objects.latest("started_at").status == JobRun.Status.FAILED
    assert DailyBar.objects.count() == 2  # the two seeded bars only


def test_a_rate_limited_vendor_is_not_asked_again_in_the_run(monkeypatch):
    """Alpha Vantage covers the bars, but Polygon was rate-limited out of the run (and with
    it every quote): the run exits non-zero and names the ticker the 429 came on."""
    for symbol in ("AAA", "BBB", "CCC"):
        real_ticker(symbol)
    polygon = Scripted("polygon", fail={"AAA", "BBB", "CCC"}, error=RateLimited)
    alpha = Scripted("alphavantage", quotes=False)
    use(monkeypatch, polygon, alpha)
    with pytest.raises(CommandError, match=r"rate-limited out of the run: polygon \(AAA\)"):
        refresh()
    assert [c for c in polygon.calls if c[0] == "daily_bars"] == [
        ("daily_bars", "AAA", date(2026, 11, 21), TUESDAY)
    ]
    run = JobRun.objects.latest("started_at")
    assert run.counts["via_alphavantage"] == 3
    assert DailyBar.objects.filter(date=TUESDAY).count() == 3  # what was fetched is kept


def test_dry_run_fetches_and_writes_nothing(monkeypatch):
    with market_open():
        real_ticker("AAPL")
        polygon = Scripted("polygon")
        use(monkeypatch, polygon)
        out, _ = refresh("--dry-run")
        assert "bars_created 2" in out and "quotes_created 1" in out and "dry run" in out
        assert DailyBar.objects.count() == 1
        assert not Quote.objects.exists()
        assert polygon.calls


def _feed_price(symbol: str) -> Decimal:
    (quote,) = feed_get(symbols=[symbol]).quotes
    return Decimal(quote["price"])


def test_new_quotes_show_on_the_feed_at_once(monkeypatch, django_capture_on_commit_callbacks):
    aapl = real_ticker("AAPL")
    QuoteFactory(ticker=aapl, price=90, as_of=NOW - timedelta(days=1), source="polygon")
    assert _feed_price("AAPL") == 90  # now cached for MARKET_FEED_CACHE_SECONDS
    # control: a quote written without an invalidation stays hidden behind the cache
    quotes_upsert(quotes=[QuoteRecord("AAPL", Decimal(95), None, None, 5, NOW, "polygon")])
    assert _feed_price("AAPL") == 90

    use(monkeypatch, Scripted("polygon"))  # quotes AAPL at 101
    with django_capture_on_commit_callbacks(execute=True) as callbacks, market_open():
        out, _ = refresh()
    assert "quotes_updated 1" in out
    assert len(callbacks) == 1
    assert _feed_price("AAPL") == 101

    # unchanged quotes, or a dry run (rolled back), leave the feed's cache alone
    with django_capture_on_commit_callbacks() as callbacks, market_open():
        out, _ = refresh("--since", str(MONDAY))
        assert "quotes_unchanged 1" in out
        Quote.objects.all().delete()
        out, _ = refresh("--dry-run")
        assert "quotes_created 1" in out
    assert callbacks == []


def test_limit_takes_the_stalest_tickers_first(monkeypatch):
    real_ticker("AAPL", last=MONDAY)
    real_ticker("MSFT", last=date(2026, 11, 2))
    polygon = Scripted("polygon")
    use(monkeypatch, polygon)
    refresh("--limit", "1")
    assert [c[1] for c in polygon.calls if c[0] == "daily_bars"] == ["MSFT"]


def test_a_ticker_without_bars_is_backfilled(monkeypatch):
    real_ticker("NEW", last=None)
    polygon = Scripted("polygon")
    use(monkeypatch, polygon)
    refresh()
    (call,) = [c for c in polygon.calls if c[0] == "daily_bars"]
    assert call[2] == TUESDAY - timedelta(days=3653)
    assert DailyBar.objects.filter(ticker__symbol="NEW").count() > 2500


def test_garbage_from_the_vendor_fails_that_ticker_and_writes_nothing_for_it(monkeypatch, settings):
    """The real Polygon adapter on a fake wire: an HTML error page for AAPL, bars with the
    high under the low for MSFT, good bars for NVDA."""
    settings.REFRESH_MAX_FAILED_PERCENT = 100
    for symbol in ("AAPL", "MSFT", "NVDA"):
        real_ticker(symbol)
    wire = FakeVendor()
    base = "https://api.polygon.io/v2/aggs/ticker/{}/range/1/day/2026-11-21/2026-11-24"
    wire.add(base.format("AAPL"), Reply(fixture("polygon", "bad_gateway.html"), status=200))

    def aggs(high: float, low: float) -> bytes:
        ms = int(datetime(2026, 11, 24, 5, tzinfo=UTC).timestamp() * 1000)  # midnight New York
        row = {"o": 10, "h": high, "l": low, "c": 10, "v": 5, "t": ms}
        return json.dumps({"status": "OK", "adjusted": True, "results": [row]}).encode()

    wire.add(base.format("MSFT"), aggs(high=9, low=11))
    wire.add(base.format("NVDA"), aggs(high=11, low=9))
    wire.add(
        "https://api.polygon.io/v2/snapshot/locale/us/markets/stocks/tickers",
        json.dumps(
            {
                "status": "OK",
                "tickers": [
                    {"ticker": "NVDA", "day": {"c": 10, "v": 5}, "updated": 1795560000000000000}
                ],
            }
        ).encode(),
    )
    use(monkeypatch, PolygonProvider("key", fake_session(wire)))

    with market_open():
        out, err = refresh()
    assert "failed 2" in out and "fetched 1" in out
    assert "AAPL: polygon (AAPL): HTTP 200 body is not JSON (text/html)" in err
    assert "MSFT: polygon sent bars that cannot be stored: MSFT 2026-11-24: high" in err
    assert DailyBar.objects.filter(date=TUESDAY).count() == 1
    assert DailyBar.objects.get(date=TUESDAY).ticker.symbol == "NVDA"
    assert list(Quote.objects.values_list("ticker__symbol", flat=True)) == ["NVDA"]


def test_no_vendor_key_with_only_demo_tickers_succeeds(monkeypatch):
    TickerFactory(symbol="AAPL", is_demo=True)
    use(monkeypatch)
    out, _ = refresh()
    assert "no vendor configured; demo data only" in out
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED


def test_no_vendor_key_with_real_tickers_fails(monkeypatch):
    real_ticker("AAPL")
    use(monkeypatch)
    with pytest.raises(CommandError, match="no vendor configured for 1 real ticker"):
        refresh()


def test_build_providers_without_keys_means_no_vendor(settings):
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""
    real_ticker("AAPL")
    with pytest.raises(CommandError, match="no vendor configured"):
        refresh()


def test_naming_a_demo_ticker_replaces_its_synthetic_history(monkeypatch):
    with market_open():
        demo = TickerFactory(symbol="AAPL", is_demo=True)
        DailyBarFactory(ticker=demo, date=date(2026, 11, 2), close=55, source="demo")
        QuoteFactory(ticker=demo, source="demo")
        use(monkeypatch, Scripted("polygon"))
        out, _ = refresh("--tickers", "aapl")
        demo.refresh_from_db()
        assert not demo.is_demo
        assert not DailyBar.objects.filter(source="demo").exists()
        assert DailyBar.objects.filter(ticker=demo).count() > 2500  # backfilled from the vendor
        assert Quote.objects.get(ticker=demo).source == "polygon"
        assert "demo_released 1" in out


def test_unknown_named_ticker_is_reported(monkeypatch, settings):
    settings.REFRESH_MAX_FAILED_PERCENT = 100
    real_ticker("AAPL")
    use(monkeypatch, Scripted("polygon"))
    out, err = refresh("--tickers", "AAPL,NOPE")
    assert "NOPE: unknown ticker" in err and "failed 1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "24/11/2026"], "is not a date"),
        (["--limit", "0"], "is not a positive whole number"),
        (["--tickers", ","], "expected comma-separated symbols"),
    ],
)
def test_bad_arguments_are_named(args, message):
    with pytest.raises(CommandError, match=message):
        refresh(*args)


# --- sync_tickers --------------------------------------------------------------------------


def sync(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_tickers", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_adds_named_tickers_with_details_splits_and_dividends(monkeypatch):
    use(monkeypatch, Scripted("polygon"))
    out, _ = sync("--tickers", "AAPL,MSFT")
    aapl = Ticker.objects.get(symbol="AAPL")
    assert (aapl.name, aapl.sector, aapl.market_cap, aapl.is_demo) == (
        "AAPL Inc.",
        "Information Technology",
        10**12,
        False,
    )
    assert CorporateAction.objects.filter(ticker=aapl).count() == 2
    assert "tickers_created 2" in out and "actions_created 4" in out

    out, _ = sync()  # every active real ticker, again: nothing changes
    assert "tickers_unchanged 2" in out and "actions_unchanged 4" in out


def test_sync_counts_a_failing_ticker_and_goes_on(monkeypatch):
    use(monkeypatch, Scripted("polygon", fail={"BAD"}))
    out, err = sync("--tickers", "AAPL,BAD")
    assert "failed 1" in out and "synced 1" in out
    assert "BAD: polygon (BAD): HTTP 500 upstream" in err
    assert not Ticker.objects.filter(symbol="BAD").exists()


def test_sync_without_a_vendor_fails(monkeypatch):
    use(monkeypatch)
    with pytest.raises(CommandError, match="no vendor configured"):
        sync("--tickers", "AAPL")


def test_sync_bad_response_is_a_failure(monkeypatch):
    class Broken(Scripted):
        def ticker_details(self, symbol: str) -> TickerInfo:
            raise BadResponse("unexpected response shape", vendor=self.name, symbol=symbol)

    use(monkeypatch, Broken("polygon"))
    with pytest.raises(CommandError, match="every ticker failed"):
        sync("--tickers", "AAPL")
    assert not Ticker.objects.exists()


# --- the exit rule: the workflow turns red when the run did not do its job ----------------


def test_four_of_five_failed_exits_non_zero_naming_them(monkeypatch):
    for symbol in ("AAA", "BBB", "CCC", "DDD", "EEE"):
        real_ticker(symbol)
    use(monkeypatch, Scripted("polygon", fail={"BBB", "CCC", "DDD", "EEE"}))
    with pytest.raises(CommandError) as raised:
        refresh()
    message = str(raised.value)
    assert "4 of 5 tickers' bars failed (80% > REFRESH_MAX_FAILED_PERCENT 10%)" in message
    assert "failed: BBB, CCC, DDD, EEE" in message
    run = JobRun.objects.latest("started_at")
    assert run.status == JobRun.Status.FAILED
    assert "failed: BBB, CCC, DDD, EEE" in run.summary


@pytest.mark.parametrize(("failing", "exits_zero"), [(1, True), (2, False)])
def test_the_failed_share_limit_is_more_than_ten_percent(monkeypatch, failing, exits_zero):
    symbols = [f"T{i}" for i in range(10)]
    for symbol in symbols:
        real_ticker(symbol)
    use(monkeypatch, Scripted("polygon", fail=set(symbols[:failing])))
    if exits_zero:  # 1 of 10 is 10 %: not more than the limit
        out, _ = refresh()
        assert "failed: T0" in out
        assert JobRun.objects.latest("started_at").status == JobRun.Status.PARTIAL
    else:
        with pytest.raises(CommandError, match="2 of 10 tickers' bars failed"):
            refresh()


def test_rate_limits_can_be_tolerated_by_setting(monkeypatch, settings):
    settings.REFRESH_FAIL_ON_RATE_LIMIT = False
    for symbol in ("AAA", "BBB"):
        real_ticker(symbol)
    polygon = Scripted("polygon", fail={"AAA", "BBB"}, error=RateLimited)
    use(monkeypatch, polygon, Scripted("finnhub"))
    out, _ = refresh()
    assert "via_finnhub 2" in out
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED


def test_sync_per_ticker_alpha_vantage_calls_draw_on_the_bars_reserve(monkeypatch, settings):
    """Alpha Vantage's unreserved calls of the day are spent (the feed took them): the
    per-ticker OVERVIEW calls of sync_tickers are for the bars backfill, so they may use its
    day reserve (ALPHA_VANTAGE_DAY_RESERVES), and leave the feed's and the quotes' alone."""
    from markets.budget import VendorBudget
    from markets.providers.alphavantage import AlphaVantageProvider

    fake = FakeVendor()
    fake.add(AlphaVantageProvider.base_url, fixture("alphavantage", "overview_MSFT.json"))
    budget = VendorBudget(
        "alphavantage", key="av", per_day=25, reserves={"feed": 10, "bars": 8, "quotes": 2}
    )
    assert sum(budget.acquire(purpose="feed") for _ in range(15)) == 15  # 10 + the 5 free
    assert budget.day_left("") == 0  # an untagged call would get nothing
    alpha = AlphaVantageProvider("av", fake_session(fake), budget=budget)
    use(monkeypatch, alpha)
    out, _ = sync("--tickers", "MSFT,IBM")
    assert "synced 2" in out and "deferred" not in out
    assert len(fake.requests) == 2
    assert budget.day_left("bars") == 6
    assert budget.day_left("quotes") == 2  # the quote step's reserve is untouched
