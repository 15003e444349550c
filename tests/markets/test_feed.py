"""The polled quote feed: input rules, ETag/304 from process memory, its throttle and its
Redis cost per poll. The out-of-band refresher is tested in test_feed_refresher.py."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import time_machine
from django.core.cache import cache

from markets import feedrefresh, quotes
from markets.api import throttles
from markets.feedcache import GENERATION
from markets.models import Quote
from markets.providers import Provider, ProviderError, QuoteRecord
from tests.factories import QuoteFactory, TickerFactory
from tests.worker_isolation import redis_url_for_worker

# Tuesday 10 June 2025, 11:00 New York: the regular session is open.
OPEN = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)
# Saturday 14 June 2025: closed.
CLOSED = datetime(2025, 6, 14, 15, 0, tzinfo=UTC)
FEED = "/api/market-data"


class FakeVendor(Provider):
    """A batching vendor that records each call and can be slow or fail."""

    name = "fakevendor"
    batch_quotes = True

    def __init__(self, *, delay: float = 0.0, fail: bool = False, price: str = "123.45") -> None:
        super().__init__("key", session=None)  # type: ignore[arg-type]
        self.delay = delay
        self.fail = fail
        self.price = Decimal(price)
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def quotes(self, symbols):
        symbols = list(symbols)
        with self._lock:
            self.calls.append(symbols)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise ProviderError("HTTP 503", permanent=False, vendor=self.name)
        from django.utils import timezone

        now = timezone.now()
        return {
            s: QuoteRecord(
                symbol=s,
                price=self.price,
                change=Decimal("1.5"),
                change_pct=Decimal("1.23"),
                volume=42,
                as_of=now,
                source=self.name,
            )
            for s in symbols
        }


@pytest.fixture
def vendor(settings, monkeypatch):
    """A configured vendor (a key is set) whose calls the test can count."""
    settings.POLYGON_API_KEY = "test-key"
    fake = FakeVendor()
    monkeypatch.setattr(feedrefresh, "feed_providers", lambda: [fake])
    return fake


@pytest.fixture
def no_vendor(settings):
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or redis_url_for_worker("redis://127.0.0.1:6379/14")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 0.5).close()
    except OSError:
        return None
    return url


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    """Run the test on the local-memory cache and on Redis (keys under a unique prefix)."""
    if request.param == "locmem":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"feed-{uuid.uuid4().hex}",
            }
        }
    else:
        url = _redis_url()
        if url is None:
            pytest.skip("Redis is not reachable (set REDIS_URL or run redis-server on :6379)")
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": f"test-feed-{uuid.uuid4().hex}",
                "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            }
        }
    return request.param


def _stale_quotes(*symbols: str, at: datetime, price: str = "100") -> None:
    """Quotes last stored a minute before `at`."""
    with time_machine.travel(at - timedelta(seconds=60), tick=False):
        for symbol in symbols:
            QuoteFactory(ticker=TickerFactory(symbol=symbol), price=Decimal(price))


# --- input ---------------------------------------------------------------------------------


def test_symbols_are_normalized():
    assert quotes.parse_symbols(" aapl, MSFT,,aapl ,brk.b") == ["AAPL", "MSFT", "BRK.B"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "one or more"),
        (" , ", "one or more"),
        (",".join(f"S{i}" for i in range(51)), "At most 50 symbols"),
        ("AAPL,<script>", "Not a ticker symbol: <SCRIPT>"),
        ("TOOLONGSYMBOL1", "Not a ticker symbol"),
    ],
)
def test_bad_symbols_are_rejected_naming_the_problem(raw, message):
    with pytest.raises(quotes.FeedError, match=message) as err:
        quotes.parse_symbols(raw)
    assert err.value.field == "symbols"


@pytest.mark.django_db
def test_more_than_50_symbols_is_a_400_naming_the_limit(client):
    response = client.get(FEED, {"symbols": ",".join(f"S{i}" for i in range(51))})
    assert response.status_code == 400
    assert "At most 50 symbols" in response.json()["symbols"][0]


@pytest.mark.django_db
def test_missing_symbols_parameter_is_a_400(client):
    response = client.get(FEED)
    assert response.status_code == 400
    assert "symbols" in response.json()


@pytest.mark.django_db
def test_unknown_symbols_are_listed_and_known_ones_served(client, no_vendor):
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"), price=Decimal("190.5"))
    TickerFactory(symbol="NOQ")
    body = client.get(FEED, {"symbols": "AAPL,NOPE,NOQ"}).json()
    assert [q["symbol"] for q in body["quotes"]] == ["AAPL"]
    assert Decimal(body["quotes"][0]["price"]) == Decimal("190.5")
    assert body["unknown"] == ["NOPE"]
    assert body["no_quote"] == ["NOQ"]


@pytest.mark.django_db
def test_only_unknown_symbols_is_a_400_that_says_so(client):
    response = client.get(FEED, {"symbols": "NOPE,ZZZ"})
    assert response.status_code == 400
    assert response.json() == {
        "symbols": ["Unknown symbol(s): NOPE, ZZZ."],
        "unknown": ["NOPE", "ZZZ"],
    }


@pytest.mark.django_db
def test_trailing_slash_serves_the_same_feed(client, no_vendor):
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    a = client.get(FEED, {"symbols": "AAPL"})
    b = client.get(FEED + "/", {"symbols": "AAPL"})
    assert a.status_code == b.status_code == 200
    assert a["ETag"] == b["ETag"]


# --- payload, ETag and 304 -------------------------------------------------------------------


@pytest.mark.django_db
def test_quote_carries_source_as_of_and_age(client, no_vendor):
    with time_machine.travel(OPEN, tick=False):
        QuoteFactory(
            ticker=TickerFactory(symbol="AAPL", is_demo=True),
            as_of=OPEN - timedelta(seconds=12),
            source="demo",
        )
        body = client.get(FEED, {"symbols": "aapl"}).json()
    quote = body["quotes"][0]
    assert quote["source"] == "demo"
    assert quote["is_demo"] is True
    assert quote["as_of"] == "2025-06-10T14:59:48Z"
    assert quote["age_seconds"] == 12
    assert body["market"]["is_open"] is True
    assert body["market"]["next_close"] == "2025-06-10T20:00:00Z"
    assert body["poll_seconds"] == 15
    assert body["server_time"] == "2025-06-10T15:00:00Z"


@pytest.mark.django_db
def test_closed_market_tells_clients_to_poll_slower(client, no_vendor):
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    with time_machine.travel(CLOSED, tick=False):
        body = client.get(FEED, {"symbols": "AAPL"}).json()
    assert body["market"]["is_open"] is False
    assert body["market"]["next_open"] == "2025-06-16T13:30:00Z"
    assert body["poll_seconds"] == 60


@pytest.mark.django_db
def test_etag_gives_304_until_a_quote_changes(client, no_vendor, django_assert_num_queries):
    quote = QuoteFactory(ticker=TickerFactory(symbol="AAPL"), price=Decimal("100"))
    QuoteFactory(ticker=TickerFactory(symbol="MSFT"))
    first = client.get(FEED, {"symbols": "AAPL,MSFT"})
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert first["Cache-Control"] == "no-cache"

    with django_assert_num_queries(0):  # served from the cache
        again = client.get(FEED, {"symbols": "AAPL,MSFT"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # A list of tags, or the strong form of the same tag, also matches.
    strong = etag.removeprefix("W/")
    assert (
        client.get(FEED, {"symbols": "AAPL,MSFT"}, HTTP_IF_NONE_MATCH=f'"x", {strong}').status_code
        == 304
    )
    # Case does not matter: the symbol set is normalized before the cache lookup.
    assert client.get(FEED, {"symbols": "aapl,msft"}, HTTP_IF_NONE_MATCH=etag).status_code == 304

    quote.price = Decimal("101.25")
    quote.save()
    quotes.feed_invalidate()  # what every write through markets.quotes does
    changed = client.get(FEED, {"symbols": "AAPL,MSFT"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert Decimal(changed.json()["quotes"][0]["price"]) == Decimal("101.25")


@pytest.mark.django_db
def test_a_quote_written_elsewhere_shows_once_the_cache_entry_expires(client, no_vendor, settings):
    """Writers that do not call feed_invalidate() are seen after MARKET_FEED_CACHE_SECONDS
    (real time: a Redis TTL does not follow a travelling clock)."""
    settings.MARKET_FEED_CACHE_SECONDS = 1
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"), price=Decimal("100"))
    etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
    Quote.objects.filter(ticker__symbol="AAPL").update(price=Decimal("99"))
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    time.sleep(1.6)
    fresh = client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert Decimal(fresh.json()["quotes"][0]["price"]) == Decimal("99")


@pytest.mark.django_db
def test_feed_is_public_for_anonymous_readers(client, no_vendor):
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    assert client.get(FEED, {"symbols": "AAPL"}).status_code == 200


# --- polls never call a vendor ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_of_stale_quotes_in_market_hours_never_calls_the_vendor(client, vendor):
    """Refreshing is the refresher's job (test_feed_refresher.py): a request serves what is
    stored, with its true age, however stale."""
    _stale_quotes("AAPL", "MSFT", at=OPEN)
    with time_machine.travel(OPEN, tick=False):
        body = client.get(FEED, {"symbols": "AAPL,MSFT"}).json()
    assert vendor.calls == []
    assert [Decimal(q["price"]) for q in body["quotes"]] == [Decimal("100")] * 2
    assert [q["age_seconds"] for q in body["quotes"]] == [60, 60]


# --- throttling --------------------------------------------------------------------------------


@pytest.fixture
def anon_rate(settings):
    def set_rate(rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": rate, "user": "1000/min"},
        }

    return set_rate


@pytest.fixture(autouse=True)
def _fresh_worker():
    """Each test starts as a fresh worker: no throttle leases, no remembered ETags."""
    throttles.BOOK.clear()
    quotes.feed_forget()
    feedrefresh.REFRESHER.forget()
    yield
    throttles.BOOK.clear()
    quotes.feed_forget()
    feedrefresh.REFRESHER.forget()


@pytest.mark.django_db
def test_anonymous_polls_are_throttled_at_the_anon_rate_304s_included(
    cache_backend, client, no_vendor, anon_rate
):
    anon_rate("3/min")
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    limited = client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 61


@pytest.mark.django_db
def test_a_changed_poll_is_counted_once(cache_backend, client, no_vendor, anon_rate):
    """A conditional poll that is not a 304 passes the fast path and then DRF: one count."""
    anon_rate("2/min")
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    for _ in range(2):
        assert (
            client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH='W/"old"').status_code == 200
        )
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH='W/"old"').status_code == 429


@pytest.mark.django_db
def test_token_callers_get_304_through_drf(api_client, user, no_vendor):
    from rest_framework.authtoken.models import Token

    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    etag = api_client.get(FEED, {"symbols": "AAPL"})["ETag"]
    response = api_client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    api_client.credentials(HTTP_AUTHORIZATION="Token wrong")
    bad = api_client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag)
    assert bad.status_code == 401  # a bad token is refused even on a public endpoint


@pytest.mark.parametrize("num_proxies", [None, 0, 1, 2])
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "10.0.0.1"},
        {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8"},
    ],
)
def test_client_ident_matches_drf(settings, num_proxies, meta):
    from django.test import RequestFactory
    from rest_framework.request import Request
    from rest_framework.throttling import BaseThrottle

    from markets.api.throttles import client_ident

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    request = Request(RequestFactory().get("/", **meta))
    assert client_ident(request.META) == BaseThrottle().get_ident(request)


@pytest.mark.django_db
def test_another_process_change_reaches_this_process_within_its_check_interval(
    client, no_vendor, settings
):
    """This process's answers lag another process's invalidation by at most
    MARKET_FEED_CHECK_SECONDS (MARKET_FEED_CLOSED_CHECK_SECONDS while the market is closed);
    this process's own invalidation is immediate."""
    settings.MARKET_FEED_CHECK_SECONDS = settings.MARKET_FEED_CLOSED_CHECK_SECONDS = 1
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"), price=Decimal("100"))
    etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
    Quote.objects.filter(ticker__symbol="AAPL").update(price=Decimal("98"))
    cache.set(quotes.GEN_KEY, (cache.get(quotes.GEN_KEY) or 0) + 1)  # the other process's bump
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    time.sleep(1.1)
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 200

    etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
    Quote.objects.filter(ticker__symbol="AAPL").update(price=Decimal("97"))
    quotes.feed_invalidate()
    assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 200


# --- the throttle's leases (markets/api/throttles.py) ------------------------------------------


def _anon_request(ip: str = "10.1.1.1"):
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get(FEED, {"symbols": "AAPL"}, REMOTE_ADDR=ip)
    request.user = AnonymousUser()
    return request


@pytest.fixture
def counter_calls(monkeypatch):
    """Every round trip the throttle makes to the shared counter, as (key, amount)."""
    calls: list[tuple[str, int]] = []
    real = throttles.counter_add

    def spy(key, amount, ttl):
        calls.append((key, amount))
        return real(key, amount, ttl)

    monkeypatch.setattr(throttles, "counter_add", spy)
    return calls


@pytest.mark.parametrize("limit", [3, 40, 1000])
def test_one_worker_gets_exactly_its_limit(cache_backend, anon_rate, counter_calls, limit):
    anon_rate(f"{limit}/min")
    share = limit // 2  # one web process (settings.WEB_CONCURRENCY = 1)
    with time_machine.travel(OPEN, tick=False):  # one window
        allowed = [
            throttles.FeedRateThrottle().allow_request(_anon_request(), None)
            for _ in range(limit + 20)
        ]
    assert allowed.count(True) == limit
    assert allowed[:limit] == [True] * limit  # refused only once the limit is used up
    # The free share costs no round trip; past it the share is claimed with the first lease
    # (share + 1), then leases double (at most LEASE_MAX and 1/LEASE_SHARE of what is left),
    # and refusals cost none.
    amounts = [amount for _, amount in counter_calls]
    assert amounts[0] == throttles.CLAIM + share + 1
    if limit == 3:
        assert amounts == [
            throttles.CLAIM + 2,
            1,
            1,
        ]  # the 3rd request, then the one that found the limit
    else:
        assert len(amounts) < {40: 20, 1000: 60}[limit], amounts
        assert amounts[-2:] == [1, 1]  # the last request under the limit, then the refusal
    assert max(amounts[1:]) <= throttles.LEASE_MAX


def test_a_dashboard_costs_no_round_trip(cache_backend, anon_rate, counter_calls, settings):
    """At render.yaml's 2 workers and the anonymous 60/min, a page polling every 15 s (or
    three tabs) stays inside each worker's free share: the throttle never asks Redis."""
    settings.WEB_CONCURRENCY = 2
    anon_rate("60/min")
    with time_machine.travel(OPEN, tick=False):
        for window in range(3):
            with time_machine.travel(OPEN + timedelta(minutes=window), tick=False):
                for _ in range(12):
                    assert throttles.FeedRateThrottle().allow_request(_anon_request(), None)
    assert counter_calls == []


def test_workers_sharing_a_client_never_exceed_its_limit(
    cache_backend, anon_rate, monkeypatch, settings
):
    """Three workers (three lease books) serve one client in turn: the shared counter keeps
    the total at the limit; it may be refused early by leases other workers hold."""
    settings.WEB_CONCURRENCY = 3
    limit = 400
    anon_rate(f"{limit}/min")
    books = [throttles.LeaseBook() for _ in range(3)]
    answers = []
    with time_machine.travel(OPEN, tick=False):
        for i in range(limit * 2):
            # Bursts of 1..5 requests per worker, as keep-alive connections would send them.
            monkeypatch.setattr(throttles, "BOOK", books[(i // (1 + i % 5)) % 3])
            answers.append(throttles.FeedRateThrottle().allow_request(_anon_request(), None))
    assert answers.count(True) <= limit  # never more, however the workers share the client
    first_refusal = answers.index(False)
    assert first_refusal >= limit - 2 * limit // throttles.LEASE_SHARE
    other_client = [
        throttles.FeedRateThrottle().allow_request(_anon_request("10.9.9.9"), None)
        for _ in range(3)
    ]
    assert other_client == [True] * 3  # counted per client


def test_free_shares_of_other_workers_are_never_overspent(cache_backend, anon_rate, settings):
    """Two workers each serve their free share without Redis; the shared counter's ceiling
    keeps room for the other's, so a client never gets more than its limit."""
    settings.WEB_CONCURRENCY = 2
    anon_rate("8/min")  # share 2 per worker, ceiling 6
    books = [throttles.LeaseBook(), throttles.LeaseBook()]
    answers = []
    with time_machine.travel(OPEN, tick=False):
        for book in books * 2:  # worker A, B, A, B: 5 requests each time
            throttles.BOOK = book
            answers += [
                throttles.FeedRateThrottle().allow_request(_anon_request(), None) for _ in range(5)
            ]
    throttles.BOOK = throttles.LeaseBook()
    assert answers.count(True) == 8


def test_a_refused_client_costs_no_round_trip_until_the_window_ends(
    cache_backend, anon_rate, counter_calls
):
    anon_rate("2/min")
    with time_machine.travel(OPEN + timedelta(seconds=20), tick=False):
        results = [throttles.FeedRateThrottle() for _ in range(50)]
        allowed = [t.allow_request(_anon_request(), None) for t in results]
    assert allowed == [True, True] + [False] * 48
    assert len(counter_calls) == 2  # the 2nd request (share claimed) and the one refused
    assert results[-1].wait() == 40  # Retry-After: the rest of the one-minute window
    with time_machine.travel(OPEN + timedelta(seconds=61), tick=False):  # the next window
        assert throttles.FeedRateThrottle().allow_request(_anon_request(), None)


def test_the_counter_is_shared_through_the_cache(cache_backend, anon_rate, settings):
    """What one worker counted, another sees: the count lives in the cache, not the worker.
    Two workers, 5/min: each serves 1 free; until both have claimed theirs, the counter's
    ceiling keeps room for the other's (5 - 1 = 4)."""
    settings.WEB_CONCURRENCY = 2
    anon_rate("5/min")
    with time_machine.travel(OPEN, tick=False):
        for _ in range(3):  # 1 free, then the counter: 2 (share claimed), 3 (ceiling 4)
            assert throttles.FeedRateThrottle().allow_request(_anon_request(), None)
        throttles.BOOK.clear()  # another worker, with no leases of its own
        answers = [
            throttles.FeedRateThrottle().allow_request(_anon_request(), None) for _ in range(3)
        ]
        window = int(OPEN.timestamp() // 60)
        # Its free one, then it claims it and takes the 5th (both claimed: ceiling 5); the
        # 6th is over the limit.
        assert cache.get(f"throttle:feed:10.1.1.1:{window}") == 2 * throttles.CLAIM + 6
    assert answers == [True, True, False]


# --- Redis commands per poll ---------------------------------------------------------------


def _resp_commands(packed) -> list[bytes]:
    """The command names in what redis-py sends (one command, or a pipeline's several)."""
    data = b"".join(packed) if isinstance(packed, list | tuple) else bytes(packed)
    names, i = [], 0
    while i < len(data):
        assert data[i : i + 1] == b"*", data[i : i + 20]
        end = data.index(b"\r\n", i)
        count, i = int(data[i + 1 : end]), end + 2
        for n in range(count):
            end = data.index(b"\r\n", i)
            length = int(data[i + 1 : end])
            if n == 0:
                names.append(data[end + 2 : end + 2 + length].upper())
            i = end + 2 + length + 2
    return names


@pytest.fixture
def redis_commands(cache_backend, monkeypatch):
    """Every command sent to Redis, by name (the real client, wrapped)."""
    if cache_backend != "redis":
        pytest.skip("Redis commands are a Redis matter")
    from redis.connection import AbstractConnection

    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        sent.extend(_resp_commands(command))
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


@pytest.mark.django_db
@pytest.mark.parametrize("at", [OPEN, CLOSED])
def test_a_poll_costs_no_redis_command_within_the_check_interval(
    redis_commands, client, no_vendor, settings, anon_rate, at
):
    """Pinned: a fresh process reads the feed generation once (one GET); every poll after
    that, 304 or 200, costs no Redis command until MARKET_FEED_CHECK_SECONDS (open) or
    MARKET_FEED_CLOSED_CHECK_SECONDS (closed) have passed; then one GET again."""
    settings.MARKET_FEED_CHECK_SECONDS = 30
    settings.MARKET_FEED_CLOSED_CHECK_SECONDS = 300
    anon_rate("1000/min")  # 72 polls from one client stay inside the throttle's free share
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"))
    QuoteFactory(ticker=TickerFactory(symbol="MSFT"))
    interval = 30 if at == OPEN else 300
    with time_machine.travel(at, tick=False):
        redis_commands.clear()
        etag = client.get(FEED, {"symbols": "AAPL"})["ETag"]
        assert redis_commands == [b"GET"]  # the generation, once for this process
        redis_commands.clear()
        for _ in range(50):
            assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get(FEED, {"symbols": "MSFT"}).status_code == 200  # another set
        assert redis_commands == []
        GENERATION.read_at -= interval - 1  # (the check runs on the monotonic clock)
        assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert redis_commands == []
        GENERATION.read_at -= 2
        for _ in range(20):
            assert client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert redis_commands == [b"GET"]


def test_the_lease_book_stays_bounded(monkeypatch):
    monkeypatch.setattr(throttles, "_BOOK_MAX", 100)
    book = throttles.LeaseBook()
    for i in range(1000):
        claim = throttles.CLAIM + 1  # no free share: the first request claims and counts
        assert book.take(f"k{i}", 10, window_end=time.time() + 60) == (None, claim)
        assert book.grant(f"k{i}", 10, time.time() + 60, size=claim, total=1, ceiling=10)
        assert len(book._leases) <= 100


@pytest.mark.django_db
def test_a_process_behind_catches_up_when_a_caller_shows_a_newer_generation(
    client, no_vendor, settings
):
    """Two processes: this one built its answer before another wrote new quotes. A caller
    who already got the new quotes from the other process (its ETag names the newer
    generation) makes this one read the shared generation at once instead of flipping the
    caller back to older prices until its next check; once per generation at most."""
    settings.MARKET_FEED_CHECK_SECONDS = settings.MARKET_FEED_CLOSED_CHECK_SECONDS = 300
    QuoteFactory(ticker=TickerFactory(symbol="AAPL"), price=Decimal("100"))
    old = client.get(FEED, {"symbols": "AAPL"})["ETag"]
    Quote.objects.filter(ticker__symbol="AAPL").update(price=Decimal("101"))
    cache.set(quotes.GEN_KEY, (cache.get(quotes.GEN_KEY) or 0) + 1)  # the other process
    newer = 'W/"0123456789abcdef01234567.' + str(cache.get(quotes.GEN_KEY)) + '"'
    GENERATION.read_at -= 2  # (a second ago: the catch-up read is allowed)
    fresh = client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=newer)
    assert fresh.status_code == 200
    assert Decimal(fresh.json()["quotes"][0]["price"]) == Decimal("101")
    assert fresh["ETag"] != old
    # An ETag naming a generation the shared key never reached (Redis emptied): one read,
    # then ignored until the generation changes.
    reads = []
    real = cache.get
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cache, "get", lambda *a, **k: reads.append(a) or real(*a, **k))
        future = 'W/"0123456789abcdef01234567.999"'
        for _ in range(5):
            GENERATION.read_at -= 2
            assert (
                client.get(FEED, {"symbols": "AAPL"}, HTTP_IF_NONE_MATCH=future).status_code == 200
            )
    assert len([r for r in reads if r and r[0] == quotes.GEN_KEY]) == 1
