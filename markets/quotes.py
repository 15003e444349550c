"""The polled quote feed: cached latest quotes, an ETag per symbol set, single-flight refresh.

`GET /api/market-data?symbols=...` (markets/api/views.py) is a thin wrapper around
`feed_get()`. The dashboard and the stock page poll it every 15 seconds with If-None-Match.

Cache layout (the default cache: Redis in production, local memory otherwise):

- `mdfeed:gen`: the feed generation, bumped by `feed_invalidate()` whenever quotes are
  written through this module (or by anyone who calls it after writing quotes).
- `mdfeed:tag:<digest>` and `mdfeed:set:<digest>`: for one normalized symbol set, its ETag
  (small, for the 304 path) and its payload, tagged with the generation they were built at;
  they live `MARKET_FEED_CACHE_SECONDS` (5 s), so a quote changed by some other path shows
  up within that time even without an invalidation.
- `mdfeed:lock:<digest>`: the single-flight refresh lock of one symbol set (cache.add).

`feed_get()`:

0. a conditional request whose ETag this process saw current less than a second ago is a
   304 at once (no cache round trip: most polls end here);
1. one cache round trip (get_many) for the generation and the set's small ETag entry: when
   it is of the current generation and matches If-None-Match, the answer is 304 (no query).
   The API reads these two entries in the same Redis pipeline as its throttle counter
   (markets/api/throttles.py), so a 304 from Redis costs one round trip in all;
2. else the set's payload entry of the current generation is the answer (no query);
3. otherwise one query reads the tickers and their quotes;
4. if a vendor is configured, the market is open and a quote was last stored more than
   `MARKET_QUOTE_STALE_SECONDS` (15 s) ago, the caller tries to take the lock; the one that
   gets it makes ONE batched vendor call for the stale symbols, upserts them, bumps the
   generation and reads again (a second query); everyone else serves the stored values.
   The lock outlives the call by the stale window, so a set is refreshed at most once per
   window however many pollers there are, and a failing vendor is not hammered;
5. both entries are cached; the ETag is a hash of the quotes' contents.

Tunables (read from settings with these defaults): MARKET_FEED_POLL_SECONDS (15, the poll
interval clients are told while the market is open), MARKET_FEED_CLOSED_POLL_SECONDS (60,
while closed), MARKET_FEED_CACHE_SECONDS (5, life of the shared entries),
MARKET_QUOTE_STALE_SECONDS (15, age at which an open market's quote is refreshed) and
MARKET_FEED_LOCAL_SECONDS (1, life of the in-process ETag memory, capped at the former).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.http import parse_etags

from markets import calendar
from markets.feedcache import GEN_KEY, LOCAL_ETAGS, feed_invalidate
from markets.models import Quote, Ticker
from markets.providers import FailoverProvider, ProviderError, QuoteRecord, build_providers
from markets.selectors import tickers_by_symbol
from markets.services import IngestError, quotes_upsert
from markets.vendors import vendor_base_urls, vendor_keys
from qunex.http import QunexSession, make_session

logger = logging.getLogger(__name__)

MAX_SYMBOLS = 50
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,11}$")
LOCK_SECONDS = 60  # upper bound of one refresh; the lock then shrinks to the stale window


def poll_seconds() -> int:
    return int(getattr(settings, "MARKET_FEED_POLL_SECONDS", 15))


def closed_poll_seconds() -> int:
    return int(getattr(settings, "MARKET_FEED_CLOSED_POLL_SECONDS", 60))


def cache_seconds() -> float:
    return float(getattr(settings, "MARKET_FEED_CACHE_SECONDS", 5))


def stale_seconds() -> float:
    return float(getattr(settings, "MARKET_QUOTE_STALE_SECONDS", 15))


class FeedError(ValueError):
    """Bad feed input; `field` names the query parameter."""

    def __init__(self, message: str, *, field: str = "symbols") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Feed:
    """One answer of the feed. `not_modified`: the caller's ETag is current (no quotes
    attached); `has_known`: at least one asked-for symbol is listed."""

    symbols: list[str]
    etag: str
    has_known: bool
    quotes: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    no_quote: list[str] = field(default_factory=list)
    not_modified: bool = False

    def matches(self, if_none_match: str | None) -> bool:
        """Weak comparison against an If-None-Match header (a list, or *)."""
        if not if_none_match:
            return False
        if if_none_match == self.etag:  # what our own pollers send
            return True
        tags = parse_etags(if_none_match)
        if "*" in tags:
            return True
        mine = self.etag.removeprefix("W/")
        return any(tag.removeprefix("W/") == mine for tag in tags)


# --- input -------------------------------------------------------------------------------


def parse_symbols(raw: str | None) -> list[str]:
    """ "aapl, MSFT,aapl" -> ["AAPL", "MSFT"] (upper-cased, de-duplicated, in order).

    Raises FeedError naming the parameter when it is empty, holds more than MAX_SYMBOLS
    symbols or a symbol that cannot be one. Pollers send the same string again and again,
    so good answers are memoized.
    """
    return list(_parse_symbols(raw or ""))


@lru_cache(maxsize=4096)
def _parse_symbols(raw: str) -> tuple[str, ...]:
    parts = [p.strip().upper() for p in raw.split(",")]
    symbols = list(dict.fromkeys(p for p in parts if p))
    if not symbols:
        raise FeedError("Give one or more comma-separated symbols, e.g. ?symbols=AAPL,MSFT.")
    if len(symbols) > MAX_SYMBOLS:
        raise FeedError(
            f"At most {MAX_SYMBOLS} symbols per request; got {len(symbols)}. Split the request."
        )
    bad = [s for s in symbols if not SYMBOL_RE.match(s)]
    if bad:
        raise FeedError(
            f"Not a ticker symbol: {', '.join(bad[:5])} (letters, digits, '.' and '-', "
            "at most 12 characters)."
        )
    return tuple(symbols)


# --- the feed ----------------------------------------------------------------------------


def feed_get(
    *,
    symbols: Sequence[str],
    if_none_match: str | None = None,
    now: datetime | None = None,
    prefetched: Mapping[str, Any] | None = None,
) -> Feed:
    """The feed for normalized `symbols` (see the module docstring for the steps).

    When `if_none_match` holds the current ETag the answer is a Feed with `not_modified`
    set and no quotes, read from the small ETag entry alone (the 304 path). `prefetched`:
    the cache entries of `feed_check_keys(symbols)` when the caller has read them already
    (the API reads them in the throttle's round trip), so step 1 costs no round trip.
    """
    if (local := feed_local(symbols=symbols, if_none_match=if_none_match)) is not None:
        return local
    digest = _digest(symbols)
    tag_key, set_key = f"mdfeed:tag:{digest}", f"mdfeed:set:{digest}"
    cached = cache.get_many([GEN_KEY, tag_key]) if prefetched is None else prefetched
    generation = cached.get(GEN_KEY, 0)
    tag = cached.get(tag_key)
    if tag is not None and tag[0] == generation and tag[2]:
        _remember_etag(digest, tag[1])
        probe = Feed(symbols=list(symbols), etag=tag[1], has_known=True, not_modified=True)
        if probe.matches(if_none_match):
            return probe
    entry = cache.get(set_key)
    if entry is not None and entry[0] == generation:
        return _answer(entry[1], if_none_match)

    now = now or timezone.now()
    tickers = tickers_by_symbol(symbols)
    if _refresh_if_stale(tickers, digest=digest, now=now):
        generation = cache.get(GEN_KEY, 0)
        tickers = tickers_by_symbol(symbols)
    feed = _build(symbols, tickers)
    cache.set_many(
        {tag_key: (generation, feed.etag, feed.has_known), set_key: (generation, feed)},
        cache_seconds(),
    )
    if feed.has_known:
        _remember_etag(digest, feed.etag)
    return _answer(feed, if_none_match)


def feed_local(*, symbols: Sequence[str], if_none_match: str | None) -> Feed | None:
    """Step 0 alone: a not-modified Feed when this process saw `if_none_match` current for
    `symbols` less than MARKET_FEED_LOCAL_SECONDS ago, else None. No cache round trip."""
    if not if_none_match:
        return None
    etag = _local_etag(_digest(symbols))
    if etag is None:
        return None
    probe = Feed(symbols=list(symbols), etag=etag, has_known=True, not_modified=True)
    return probe if probe.matches(if_none_match) else None


def feed_check_keys(symbols: Sequence[str]) -> list[str]:
    """The cache keys step 1 reads (the generation and the set's ETag entry)."""
    return [GEN_KEY, f"mdfeed:tag:{_digest(symbols)}"]


# Process-local memory of current ETags (digest -> (expires, etag)), so that most 304s need no
# cache round trip at all; it lags a change made in another process by at most
# MARKET_FEED_LOCAL_SECONDS (1 s, never more than the shared entries' lifetime).
_LOCAL_ETAGS = LOCAL_ETAGS  # the same dict: feed_invalidate() clears it
_LOCAL_MAX = 10_000


def local_seconds() -> float:
    return min(float(getattr(settings, "MARKET_FEED_LOCAL_SECONDS", 1)), cache_seconds())


def _local_etag(digest: str) -> str | None:
    remembered = _LOCAL_ETAGS.get(digest)
    if remembered is None or remembered[0] <= time.monotonic():
        return None
    return remembered[1]


def _remember_etag(digest: str, etag: str) -> None:
    seconds = local_seconds()
    if seconds <= 0:
        return
    if len(_LOCAL_ETAGS) >= _LOCAL_MAX:
        _LOCAL_ETAGS.clear()
    _LOCAL_ETAGS[digest] = (time.monotonic() + seconds, etag)


def _answer(feed: Feed, if_none_match: str | None) -> Feed:
    if feed.has_known and feed.matches(if_none_match):
        return Feed(symbols=feed.symbols, etag=feed.etag, has_known=True, not_modified=True)
    return feed


def market_status(now: datetime | None = None) -> dict[str, Any]:
    """Open or closed, and the next open and close (UTC; no query)."""
    now = now or timezone.now()
    return {
        "is_open": calendar.is_open(now),
        "next_open": calendar.next_open(now),
        "next_close": calendar.next_close(now),
    }


def quote_age_seconds(as_of: datetime, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return max(0, int((now - as_of).total_seconds()))


def _build(symbols: Sequence[str], tickers: Iterable[Ticker]) -> Feed:
    by_symbol = {t.symbol: t for t in tickers}
    quotes, no_quote, unknown = [], [], []
    for symbol in symbols:
        ticker = by_symbol.get(symbol)
        if ticker is None:
            unknown.append(symbol)
            continue
        quote = _quote_of(ticker)
        if quote is None:
            no_quote.append(symbol)
            continue
        quotes.append(
            {
                "symbol": symbol,
                "price": str(quote.price),
                "change": None if quote.change is None else str(quote.change),
                "change_pct": None if quote.change_pct is None else str(quote.change_pct),
                "volume": quote.volume,
                "as_of": quote.as_of.astimezone(UTC),
                "source": quote.source,
                "is_demo": ticker.is_demo,
            }
        )
    fingerprint = repr(
        (
            [(q["symbol"], q["price"], q["change"], q["change_pct"], q["volume"],
              q["as_of"].isoformat(), q["source"]) for q in quotes],
            no_quote,
            unknown,
        )
    )  # fmt: skip
    etag = 'W/"' + hashlib.blake2b(fingerprint.encode(), digest_size=12).hexdigest() + '"'
    return Feed(
        symbols=list(symbols),
        etag=etag,
        has_known=bool(quotes or no_quote),
        quotes=quotes,
        unknown=unknown,
        no_quote=no_quote,
    )


def _quote_of(ticker: Ticker) -> Quote | None:
    try:
        return ticker.quote
    except Quote.DoesNotExist:
        return None


def _digest(symbols: Sequence[str]) -> str:
    return _digest_of(",".join(symbols))


@lru_cache(maxsize=4096)
def _digest_of(joined: str) -> str:
    return hashlib.blake2b(joined.encode(), digest_size=10).hexdigest()


# --- refresh -----------------------------------------------------------------------------


def vendor_configured() -> bool:
    return any(vendor_keys().values())


def quote_provider() -> FailoverProvider | None:
    """The vendors in MARKET_DATA_PROVIDERS order that have a key, or None.

    A feed request waits for the vendor, so the session is short: 3 s timeout, one retry.
    """
    providers = build_providers(
        settings.MARKET_DATA_PROVIDERS, vendor_keys(), _feed_session(), vendor_base_urls()
    )
    return FailoverProvider(providers) if providers else None


@lru_cache(maxsize=1)
def _feed_session() -> QunexSession:
    """Built once per process: a feed request waits for the vendor, so short and one retry."""
    return make_session(retries=1, timeout=3, max_wait=2)


def _refresh_if_stale(tickers: Sequence[Ticker], *, digest: str, now: datetime) -> bool:
    """True when this caller refreshed (and wrote) quotes."""
    if not tickers or not vendor_configured() or not calendar.is_open(now):
        return False
    window = stale_seconds()
    stale = [
        t.symbol
        for t in tickers
        if (q := _quote_of(t)) is None or (now - q.updated_at).total_seconds() > window
    ]
    if not stale:
        return False
    lock_key = f"mdfeed:lock:{digest}"
    if not cache.add(lock_key, uuid.uuid4().hex, LOCK_SECONDS):
        return False  # someone else is refreshing, or did within the window
    try:
        provider = quote_provider()
        if provider is None:
            return False
        fetched = provider.quotes(stale)
        for symbol, error in fetched.errors.items():
            logger.warning("quote refresh failed for %s: %s", symbol, error)
        if not fetched.results:
            return False
        return quotes_write(records=list(fetched.results.values())) > 0
    except ProviderError as exc:  # the failover reports per symbol; this is a safety net
        logger.warning("quote refresh failed: %s", exc)
        return False
    finally:
        cache.set(lock_key, "cooldown", max(window, 1))


def quotes_write(*, records: Sequence[QuoteRecord]) -> int:
    """Store fetched quotes through markets.services.quotes_upsert and invalidate the feed.
    A record the service refuses (IngestError) is logged and left out; the rest are stored."""
    try:
        written = quotes_upsert(quotes=records).written
    except IngestError:
        written = 0
        for record in records:
            try:
                written += quotes_upsert(quotes=[record]).written
            except IngestError as exc:
                logger.warning("quote from %s not stored: %s", record.source, exc)
    if written:
        feed_invalidate()
    return written
