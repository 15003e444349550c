from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from markets.providers import (
    AllProvidersFailed,
    AlphaVantageProvider,
    Bar,
    FailoverProvider,
    FinnhubProvider,
    NotFound,
    PolygonProvider,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    TickerInfo,
    build_providers,
)
from tests.markets import FakeVendor, Reply, fake_session, fixture

D1, D2 = date(2026, 11, 23), date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 21, tzinfo=UTC)


def bar(symbol: str, source: str) -> Bar:
    one = Decimal(1)
    return Bar(symbol, D1, one, one, one, one, one, 100, source)


def quote(symbol: str, source: str) -> QuoteRecord:
    return QuoteRecord(symbol, Decimal(10), None, None, None, NOW, source)


Behaviour = Callable[[str], object]  # symbol -> value, or raises


class Stub(Provider):
    """A vendor whose answer per symbol is scripted; records every call."""

    def __init__(
        self,
        name: str,
        *,
        bars: Behaviour | None = None,
        quote: Behaviour | None = None,
        batch: Callable[[list[str]], dict[str, QuoteRecord]] | None = None,
    ) -> None:
        super().__init__("key", session=None)  # type: ignore[arg-type]
        self.name = name  # type: ignore[misc]
        self.batch_quotes = batch is not None  # type: ignore[misc]
        self._bars, self._quote, self._batch = bars, quote, batch
        self.calls: list[tuple[str, object]] = []

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        self.calls.append(("daily_bars", symbol))
        if self._bars is None:
            raise NotImplementedError
        return self._bars(symbol)  # type: ignore[return-value]

    def quote(self, symbol: str) -> QuoteRecord:
        self.calls.append(("quote", symbol))
        if self._quote is None:
            raise NotImplementedError
        return self._quote(symbol)  # type: ignore[return-value]

    def quotes(self, symbols: Iterable[str]) -> dict[str, QuoteRecord]:
        if self._batch is None:
            return super().quotes(symbols)
        symbols = list(symbols)
        self.calls.append(("quotes", tuple(symbols)))
        return self._batch(symbols)


def raises(error: Exception) -> Behaviour:
    def behaviour(symbol: str) -> object:
        raise error

    return behaviour


def not_found(vendor: str) -> Behaviour:
    def behaviour(symbol: str) -> object:
        raise NotFound("unknown", vendor=vendor, symbol=symbol)

    return behaviour


# --- build_providers ---------------------------------------------------------------------------


def test_build_providers_keeps_order_and_skips_vendors_without_a_key() -> None:
    session = fake_session(FakeVendor())
    keys = {"polygon": "", "finnhub": "fh", "alphavantage": "av"}

    providers = build_providers(
        ["alphavantage", "polygon", "finnhub", "alphavantage"], keys, session
    )

    assert [type(p) for p in providers] == [AlphaVantageProvider, FinnhubProvider]
    assert providers[0].api_key == "av"
    assert providers[1].session is session
    assert "av" not in repr(providers[0])


def test_build_providers_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="polygn"):
        build_providers(["polygn"], {"polygn": "x"}, fake_session(FakeVendor()))


# --- per-symbol methods -----------------------------------------------------------------------


def test_first_vendor_wins_and_source_is_recorded() -> None:
    first = Stub("a", bars=lambda s: [bar(s, "a")])
    second = Stub("b", bars=lambda s: [bar(s, "b")])

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL", "MSFT"], D1, D2)

    assert fetched.sources == {"AAPL": "a", "MSFT": "a"}
    assert fetched.results["MSFT"][0].source == "a"
    assert fetched.errors == {}
    assert second.calls == []


def test_failure_falls_through_to_the_next_vendor_per_symbol() -> None:
    first = Stub("a", bars=lambda s: [bar(s, "a")] if s == "AAPL" else not_found("a")(s))
    second = Stub("b", bars=lambda s: [bar(s, "b")])

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL", "MSFT"], D1, D2)

    assert fetched.sources == {"AAPL": "a", "MSFT": "b"}
    assert fetched.results["MSFT"][0].source == "b"
    assert second.calls == [("daily_bars", "MSFT")]


def test_rate_limited_vendor_is_not_asked_again_in_the_same_call() -> None:
    first = Stub("a", bars=raises(RateLimited("slow down", vendor="a")))
    second = Stub("b", bars=lambda s: [bar(s, "b")])

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL", "MSFT", "IBM"], D1, D2)

    assert first.calls == [("daily_bars", "AAPL")]
    assert set(fetched.sources.values()) == {"b"}


def test_unsupported_method_skips_the_vendor() -> None:
    first = Stub("a")  # no daily bars
    second = Stub("b", bars=lambda s: [bar(s, "b")])

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL", "MSFT"], D1, D2)

    assert fetched.sources == {"AAPL": "b", "MSFT": "b"}
    assert first.calls == [("daily_bars", "AAPL")]  # asked once, then skipped


def test_empty_bars_ask_the_next_vendor_and_are_kept_when_nobody_has_more() -> None:
    first = Stub("a", bars=lambda s: [])
    second = Stub("b", bars=lambda s: [bar(s, "b")] if s == "AAPL" else [])

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL", "ZZZZ"], D1, D2)

    assert fetched.sources == {"AAPL": "b", "ZZZZ": "a"}
    assert fetched.results["ZZZZ"] == []
    assert fetched.errors == {}


def test_symbol_nobody_knows_is_a_permanent_error_and_the_rest_go_on() -> None:
    first = Stub("a", bars=lambda s: [bar(s, "a")] if s == "AAPL" else not_found("a")(s))
    second = Stub("b", bars=not_found("b"))

    fetched = FailoverProvider([first, second]).daily_bars(["NOPE", "AAPL"], D1, D2)

    assert list(fetched.results) == ["AAPL"]
    error = fetched.errors["NOPE"]
    assert isinstance(error, AllProvidersFailed)
    assert error.permanent is True
    assert [a.vendor for a in error.attempts] == ["a", "b"]
    assert "a (NOPE): unknown" in str(error)


def test_any_transient_failure_makes_the_error_transient() -> None:
    first = Stub("a", bars=not_found("a"))
    second = Stub("b", bars=raises(ProviderError("HTTP 502", permanent=False, vendor="b")))

    fetched = FailoverProvider([first, second]).daily_bars(["AAPL"], D1, D2)

    assert fetched.errors["AAPL"].permanent is False


def test_no_vendor_offers_the_method() -> None:
    fetched = FailoverProvider([Stub("a"), Stub("b")]).ticker_details(["AAPL"])

    assert fetched.errors["AAPL"].permanent is True
    assert "no provider offers ticker_details" in str(fetched.errors["AAPL"])


def test_a_single_string_is_one_symbol() -> None:
    stub = Stub("a", bars=lambda s: [bar(s, "a")])

    fetched = FailoverProvider([stub]).daily_bars("AAPL", D1, D2)

    assert list(fetched.results) == ["AAPL"]


# --- quotes -----------------------------------------------------------------------------------


def test_batch_vendor_first_then_single_vendor_only_for_what_is_missing() -> None:
    batch = Stub("a", batch=lambda symbols: {s: quote(s, "a") for s in symbols if s != "MSFT"})
    single = Stub("b", quote=lambda s: quote(s, "b"))

    fetched = FailoverProvider([batch, single]).quotes(["AAPL", "MSFT", "IBM"])

    assert batch.calls == [("quotes", ("AAPL", "MSFT", "IBM"))]
    assert single.calls == [("quote", "MSFT")]
    assert fetched.sources == {"AAPL": "a", "IBM": "a", "MSFT": "b"}
    assert fetched.results["MSFT"].source == "b"


def test_batch_failure_moves_every_symbol_on() -> None:
    def forbidden(symbols: list[str]) -> dict[str, QuoteRecord]:
        raise ProviderError("NOT_AUTHORIZED", permanent=True, vendor="a")

    single = Stub("b", quote=lambda s: quote(s, "b") if s != "NOPE" else not_found("b")(s))

    fetched = FailoverProvider([Stub("a", batch=forbidden), single]).quotes(["AAPL", "NOPE"])

    assert fetched.sources == {"AAPL": "b"}
    assert [a.vendor for a in fetched.errors["NOPE"].attempts] == ["a", "b"]  # type: ignore[attr-defined]
    assert fetched.errors["NOPE"].permanent is True


def test_single_vendor_rate_limit_hands_the_rest_to_the_next() -> None:
    def limited_after_one(symbol: str) -> QuoteRecord:
        if symbol == "AAPL":
            return quote(symbol, "a")
        raise RateLimited("25 per day", vendor="a", symbol=symbol)

    first = Stub("a", quote=limited_after_one)
    second = Stub("b", quote=lambda s: quote(s, "b"))

    fetched = FailoverProvider([first, second]).quotes(["AAPL", "MSFT", "IBM", "KO"])

    assert first.calls == [("quote", "AAPL"), ("quote", "MSFT")]
    assert fetched.sources == {"AAPL": "a", "MSFT": "b", "IBM": "b", "KO": "b"}


def test_everything_rate_limited_is_transient() -> None:
    first = Stub("a", quote=raises(RateLimited("slow", vendor="a")))

    fetched = FailoverProvider([first]).quotes(["AAPL", "MSFT"])

    assert set(fetched.errors) == {"AAPL", "MSFT"}
    assert all(not e.permanent for e in fetched.errors.values())


# --- through the real adapters ----------------------------------------------------------------


def test_polygon_snapshot_forbidden_falls_back_to_finnhub() -> None:
    vendor = FakeVendor()
    vendor.add(
        "https://api.polygon.io/v2/snapshot/locale/us/markets/stocks/tickers",
        Reply(fixture("polygon", "error_not_authorized.json"), 403),
    )
    vendor.add(
        "https://finnhub.io/api/v1/quote",
        fixture("finnhub", "quote_AAPL.json"),
        params={"symbol": "AAPL"},
    )
    vendor.add("https://finnhub.io/api/v1/quote", fixture("finnhub", "quote_unknown.json"))
    keys = {"polygon": "pk", "finnhub": "fh", "alphavantage": ""}
    failover = FailoverProvider(
        build_providers(["polygon", "finnhub", "alphavantage"], keys, fake_session(vendor))
    )

    fetched = failover.quotes(["AAPL", "NOPE"])

    assert [type(p) for p in failover.providers] == [PolygonProvider, FinnhubProvider]
    assert fetched.results["AAPL"].source == "finnhub"
    assert fetched.results["AAPL"].price == Decimal("280.41")
    error = fetched.errors["NOPE"]
    assert error.permanent is True  # finnhub: unknown
    # polygon's 403 on snapshots is its plan, not this symbol: skipped, never an attempt
    assert "polygon" not in str(error) and "finnhub" in str(error)


def test_details_fall_back_when_the_first_vendor_lacks_the_ticker() -> None:
    vendor = FakeVendor()
    vendor.add(
        "https://api.polygon.io/v3/reference/tickers/MSFT",
        Reply(fixture("polygon", "ticker_not_found.json"), 404),
    )
    vendor.add(
        "https://www.alphavantage.co/query",
        fixture("alphavantage", "overview_MSFT.json"),
        params={"function": "OVERVIEW"},
    )
    providers = build_providers(
        ["polygon", "finnhub", "alphavantage"],
        {"polygon": "pk", "alphavantage": "av"},
        fake_session(vendor),
    )

    fetched = FailoverProvider(providers).ticker_details(["MSFT"])

    info = fetched.results["MSFT"]
    assert isinstance(info, TickerInfo)
    assert (info.source, fetched.sources["MSFT"]) == ("alphavantage", "alphavantage")
