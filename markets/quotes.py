"""The polled quote feed: quotes answered from process memory, an ETag per symbol set.

`GET /api/market-data?symbols=...` (markets/api/views.py) is a thin wrapper around
`feed_get()`. The dashboard and the stock page poll it every 15 seconds (60 while the market
is closed) with If-None-Match. A poll never waits on a vendor and, in the common case, costs
no Redis command and no query:

1. the shared feed generation (markets.feedcache) is read at most once per
   MARKET_FEED_CHECK_SECONDS per process while the market is open, and once per
   MARKET_FEED_CLOSED_CHECK_SECONDS while it is closed (no quote calls then, so nothing
   changes but the hourly job's writes); in between every poll uses the value this process
   knows (its own writes and the refresher's lease command keep it current for free);
2. this process's answer for the normalized symbol set, built at that generation less than
   MARKET_FEED_CACHE_SECONDS ago, is the answer: a 304 when If-None-Match holds its ETag;
3. otherwise one query reads the tickers and their quotes and the answer is remembered (at
   most MAX_ANSWERS sets per process). The ETag is `W/"<hash of the quotes>.<generation>"`:
   only the hash is compared, so every process answers 304 to the same quotes; the
   generation tells a process that is behind (a caller shows quotes of a newer generation,
   from another process) to read the shared generation at once, rather than serve older
   quotes until its next check.

Quotes are refreshed out of band, for the union of watched symbols, by one refresher per
process group (markets.feedrefresh); each poll only tells it which symbols are being watched.

Tunables (settings): MARKET_FEED_POLL_SECONDS (15, the poll interval clients are told while
the market is open), MARKET_FEED_CLOSED_POLL_SECONDS (60, while closed), MARKET_FEED_CACHE_SECONDS
(60, the longest a process answer lives, for writers that do not call feed_invalidate()),
MARKET_FEED_CHECK_SECONDS (60) and MARKET_FEED_CLOSED_CHECK_SECONDS (300).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.http import parse_etags

from markets import calendar
from markets.feedcache import GEN_KEY, GENERATION, feed_generation, feed_invalidate
from markets.feedrefresh import REFRESHER
from markets.models import Quote, Ticker
from markets.selectors import tickers_by_symbol

__all__ = ["GEN_KEY", "Feed", "FeedError", "feed_get", "feed_invalidate", "parse_symbols"]

logger = logging.getLogger(__name__)

MAX_SYMBOLS = 50
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,11}$")
MAX_ANSWERS = 5_000  # symbol sets remembered per process


def poll_seconds() -> int:
    return int(getattr(settings, "MARKET_FEED_POLL_SECONDS", 15))


def closed_poll_seconds() -> int:
    return int(getattr(settings, "MARKET_FEED_CLOSED_POLL_SECONDS", 60))


def cache_seconds() -> float:
    return float(getattr(settings, "MARKET_FEED_CACHE_SECONDS", 60))


def check_seconds(now: datetime | None = None) -> float:
    """How long this process trusts the feed generation it knows: short while the market is
    open (the refresher writes), long while it is closed (nothing refreshes quotes then)."""
    if calendar.is_open(now or timezone.now()):
        return float(getattr(settings, "MARKET_FEED_CHECK_SECONDS", 60))
    return float(getattr(settings, "MARKET_FEED_CLOSED_CHECK_SECONDS", 300))


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
        mine = _content_of(self.etag)
        return any(_content_of(tag) == mine for tag in tags)


def _content_of(tag: str) -> str:
    """The content hash of an ETag `W/"<hash>.<generation>"` (or of any other tag)."""
    return tag.removeprefix("W/").strip('"').split(".")[0]


def _generation_seen(if_none_match: str) -> int:
    """The newest feed generation named by the caller's ETags (-1: none)."""
    newest = -1
    for tag in parse_etags(if_none_match):
        _, _, generation = tag.strip('"').rpartition(".")
        if generation.isdigit() and len(generation) < 19:
            newest = max(newest, int(generation))
    return newest


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
) -> Feed:
    """The feed for normalized `symbols` (see the module docstring for the steps).

    When `if_none_match` holds the current ETag the answer is a Feed with `not_modified`
    set and no quotes (the 304 path).
    """
    generation = feed_generation(interval=lambda: check_seconds(now))
    digest = _digest(symbols)
    REFRESHER.note_poll(digest, symbols)
    entry = _ANSWERS.get(digest)
    if (
        entry is not None
        and entry[0] == generation
        and time.monotonic() - entry[1] < cache_seconds()
    ):
        if not _behind(entry[2], if_none_match, generation):
            return _answer(entry[2], if_none_match)
        generation = _catch_up(generation)
        if generation == entry[0]:
            return _answer(entry[2], if_none_match)
    feed = _build(symbols, tickers_by_symbol(symbols), generation)
    with _ANSWERS_LOCK:
        if len(_ANSWERS) >= MAX_ANSWERS:
            _ANSWERS.clear()
        _ANSWERS[digest] = (generation, time.monotonic(), feed)
    return _answer(feed, if_none_match)


def _behind(feed: Feed, if_none_match: str | None, generation: int) -> bool:
    """True when the caller holds other quotes than this answer, got from a process that
    knows a newer generation than this one (its ETag names it): this process is behind."""
    return (
        bool(if_none_match)
        and generation != _CAUGHT_UP.get("ignore")
        and not feed.matches(if_none_match)
        and _generation_seen(if_none_match) > generation  # type: ignore[arg-type]
    )


def _catch_up(generation: int) -> int:
    """Read the shared generation now (at most once a second per process). When even the
    shared one is older than what the caller named (Redis was emptied), ignore such
    evidence until the generation changes: one read per generation at most."""
    if time.monotonic() - GENERATION.read_at < 1.0:
        return generation
    newer = feed_generation(interval=lambda: 0.0)
    if newer == generation:
        _CAUGHT_UP["ignore"] = generation
    return newer


_CAUGHT_UP: dict[str, int] = {}


# This process's answers: digest of the symbol set -> (generation, built at (monotonic), Feed).
_ANSWERS: dict[str, tuple[int, float, Feed]] = {}
_ANSWERS_LOCK = threading.Lock()


def feed_forget() -> None:
    """Drop this process's answers and its known generation (tests; a fresh worker)."""
    _ANSWERS.clear()
    _CAUGHT_UP.clear()
    GENERATION.forget()


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


def _build(symbols: Sequence[str], tickers: Iterable[Ticker], generation: int) -> Feed:
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
    content = hashlib.blake2b(fingerprint.encode(), digest_size=12).hexdigest()
    etag = f'W/"{content}.{generation}"'
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
