"""The quote feed's generation: what writers of quotes call to make every cached feed answer
stale. Its own module so the writers (markets.services callers, markets.refresh) and the
feed (markets.quotes) depend on it, not on each other.
"""

from __future__ import annotations

from django.core.cache import cache

GEN_KEY = "mdfeed:gen"

# Process-local memory of current ETags (digest -> (expires, etag)), kept by markets.quotes so
# that most 304s need no cache round trip; cleared here on every invalidation.
LOCAL_ETAGS: dict[str, tuple[float, str]] = {}


def feed_invalidate() -> None:
    """Make every cached feed entry stale: call after writing quotes."""
    LOCAL_ETAGS.clear()
    try:
        cache.incr(GEN_KEY)
    except ValueError:
        cache.add(GEN_KEY, 1, None)
