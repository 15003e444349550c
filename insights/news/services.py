"""Storing news: canonical URLs, ticker links, story groups; bulk writes, atomic per batch.

`ingest(items)` is the one write path for every source (and the benchmark):

1. each URL is made canonical (lower-case host, no fragment, no well-known tracking
   parameters such as utm_* or fbclid; every other parameter is kept) and an
   item whose canonical URL is already stored, or already seen in this run, is left out, so
   re-running a refresh stores nothing twice;
2. tickers are linked from the vendor's own tags (known symbols only) and from the text
   (`TickerMatcher.match`): "$AAPL" and "NASDAQ: AAPL" always, "(AAPL)" or a bare upper-case
   symbol when it is not a common word (and, in an all-caps headline, only when the company's
   name or a cashtag supports it), and the company's name ("Apple Inc." or "Apple");
3. near-duplicate titles within 48 hours share a `StoryGroup`: titles become sets of
   normalised tokens and two titles are one story when their Jaccard similarity is at least
   `STORY_SIMILARITY`, compared with this run's items and with the stored articles;
4. an item published more than `FUTURE_TOLERANCE` after now is refused and counted
   (`future`): a feed dated 2099 would otherwise sit on top of every page and queue; a later
   run stores it if the feed still carries it once its time has come;
5. each batch is written in one transaction (story groups, articles, ticker links), so a
   failure leaves nothing half-stored.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from insights.news.models import Article, ArticleTicker, StoryGroup
from insights.news.providers.base import NewsItem
from markets.models import Ticker

STORY_WINDOW = timedelta(hours=48)
STORY_SIMILARITY = 0.5
STORY_MIN_TOKENS = 3
BATCH_SIZE = 500
# Clocks differ a little between a vendor and us; beyond this an item's time is wrong.
FUTURE_TOLERANCE = timedelta(minutes=5)

# --- canonical URLs -----------------------------------------------------------------------

# Only parameters that are tracking by their well-known names (ad click ids, e-mail and
# analytics campaign tags). Anything else may name the content ("cid", "ref", "src", "share",
# "feature", "rss" do on some sites): `view?cid=101` and `view?cid=102` are two articles.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc",
        "__hssc", "__hsfp", "mkt_tok", "_ga", "_gl", "guccounter", "guce_referrer",
        "guce_referrer_sig", "wt.mc_id", "oly_anon_id", "oly_enc_id", "vero_id", "s_kwcid",
        "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "pk_content", "mtm_campaign",
        "mtm_kwd", "mtm_source", "mtm_medium", "mtm_content", "at_medium", "at_campaign",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)


def canonical_url(url: str) -> str:
    """`url` without fragment, tracking parameters, default port or upper-case host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


# --- ticker matching ----------------------------------------------------------------------

# Symbols that are also English words or common abbreviations: matched only as "$ON",
# "NASDAQ: ON", "(NYSE: ON)" or by company name; never as a bare word or a bare "(ON)".
COMMON_WORDS = frozenset(
    """A I ALL AN AND ANY ARE AS AT BE BIG BY CAN CAR CEO CFO CPI DAY DO EAT EV FOR FUN GDP GO
    GOOD HAS HE HOLD HOME IF IN IPO IS IT KEY LIFE LOVE LOW MAN ME MORE NEW NEXT NICE NOW
    OF OK ON ONE OR OUT PAY PLAY REAL RUN SAFE SEE SO SEC SHE SAVE TEAM THE TO TV TWO UP US
    USA WELL WORK YOU AI ET EU UK FED ECB IMF OPEC ETF NYSE CEO GPS PC EPS ESG API""".split()  # noqa: SIM905
)
EXCHANGES = r"(?:NASDAQ|Nasdaq|NYSE(?:\s?American|\s?Arca|\s?MKT)?|AMEX|NYSEARCA|OTC|TSX|LSE)"
_SYM = r"([A-Z]{1,5}(?:\.[A-Z]{1,2})?)"
# Strong forms: a cashtag or an exchange prefix states a ticker whatever the word.
_STRONG = re.compile(
    rf"\${_SYM}(?![A-Za-z0-9])"  # $AAPL
    rf"|{EXCHANGES}\s*:\s*{_SYM}(?![A-Za-z0-9])"  # NASDAQ: AAPL, (NYSE: A)
)
# Weak forms: "(AAPL)" and a bare upper-case word of two or more letters.
_PAREN = re.compile(rf"\(\s*{_SYM}\s*\)")
_BARE = re.compile(r"(?<![A-Za-z0-9$.])([A-Z]{2,5}(?:\.[A-Z])?)(?![A-Za-z0-9])")
_NAME_SUFFIX = re.compile(
    r"(?:[\s,]+(?:Inc|Incorporated|Corp|Corporation|Co|Company|Ltd|Limited|PLC|plc|LLC|L\.P|LP|"
    r"N\.V|NV|S\.A|SA|AG|SE|Holdings?|Group|Class [A-Z]|Common Stock|Ordinary Shares|"
    r"Shares|ADR|The)\.?)+$"
)
# Short names too generic to stand for a company on their own.
COMMON_NAMES = frozenset(
    """Target Block Match Gap Best Buy Shell Square Snap Coherent Progressive Ball Global
    General United American National First Federal Public Energy Trust""".split()  # noqa: SIM905
)


def short_name(name: str) -> str:
    """ "Apple Inc." -> "Apple", "Microsoft Corporation" -> "Microsoft"."""
    value = re.sub(r"\s+", " ", name).strip()
    previous = None
    while previous != value:
        previous = value
        value = _NAME_SUFFIX.sub("", value).strip(" ,.")
    return value.removeprefix("The ").strip()


_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")


def is_all_caps(line: str) -> bool:
    """A shouted line ("COST OF LIVING RISES"): every word there looks like a symbol.
    At least 8 capitals and at most one letter in ten in lower case ("NVIDIA'S", "iPHONE")."""
    upper = len(_UPPER.findall(line))
    return upper >= 8 and upper >= 0.9 * (upper + len(_LOWER.findall(line)))


class TickerMatcher:
    """Links text to known tickers. Built once per run from the ticker universe.

    `match(text)`:
    1. a cashtag ("$AAPL") or an exchange prefix ("NASDAQ: AAPL", "(NYSE: A)") links;
    2. the company's name ("Apple Inc." or "Apple") links;
    3. "(AAPL)" and a bare "AAPL" link unless the symbol is a common word ("(IT)", "(A)",
       "ALL" never do);
    4. in an all-caps line, 3 applies only to tickers supported by 1, 2 or the company's
       name in capitals ("APPLE (AAPL) RISES" links; "COST OF LIVING RISES" does not).
    """

    def __init__(self, tickers: Iterable[tuple[int, str, str]]) -> None:
        self.by_symbol: dict[str, int] = {}
        names: dict[str, int] = {}
        for pk, symbol, name in tickers:
            self.by_symbol[symbol.upper()] = pk
            full = re.sub(r"\s+", " ", name or "").strip()
            short = short_name(full)
            for candidate in {full, short}:
                if len(candidate) >= 3 and candidate not in COMMON_NAMES and candidate[0].isupper():
                    names.setdefault(candidate, pk)
        self.by_name = names
        self.by_upper_name = {n.upper(): pk for n, pk in sorted(names.items(), reverse=True)}
        self._names = self._alternation(names)
        self._upper_names = self._alternation(self.by_upper_name)

    @staticmethod
    def _alternation(names: Iterable[str]) -> re.Pattern[str] | None:
        ordered = sorted(names, key=len, reverse=True)
        if not ordered:
            return None
        return re.compile(r"(?<![\w&])(" + "|".join(re.escape(n) for n in ordered) + r")(?![\w&])")

    @classmethod
    def from_db(cls) -> TickerMatcher:
        return cls(Ticker.objects.filter(active=True).values_list("pk", "symbol", "name"))

    def vendor(self, symbols: Iterable[str]) -> set[int]:
        return {self.by_symbol[s] for s in symbols if s in self.by_symbol}

    def match(self, text: str) -> set[int]:
        found: set[int] = set()
        for m in _STRONG.finditer(text):
            symbol = next(g for g in m.groups() if g)
            if symbol in self.by_symbol:
                found.add(self.by_symbol[symbol])
        if self._names is not None:
            found.update(self.by_name[m.group(1)] for m in self._names.finditer(text))
        lines = text.splitlines()
        caps = [is_all_caps(line) for line in lines]
        shouted = [line for line, c in zip(lines, caps, strict=True) if c]
        supported = set(found)
        if shouted and self._upper_names is not None:
            for line in shouted:
                supported.update(
                    self.by_upper_name[m.group(1)] for m in self._upper_names.finditer(line)
                )
        # Plain lines are matched as one text (the common case: no all-caps line at all).
        plain = (
            "\n".join(line for line, c in zip(lines, caps, strict=True) if not c)
            if shouted
            else text
        )
        for part, needs_support in [(plain, False), *((line, True) for line in shouted)]:
            for pattern in (_PAREN, _BARE):
                for m in pattern.finditer(part):
                    pk = self.by_symbol.get(m.group(1))
                    if pk is None or m.group(1) in COMMON_WORDS:
                        continue
                    if not needs_support or pk in supported:
                        found.add(pk)
        return found


# --- story grouping -----------------------------------------------------------------------

STOPWORDS = frozenset(
    """a an the and or but of to in on at for from by with as is are was were be been it its
    this that these those after before over under into about amid says say said will would
    could may might new how why what when who than more most up down out not no has have had
    s vs via report reports update live""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9]+")


def title_tokens(title: str) -> frozenset[str]:
    tokens = set()
    for word in _WORD.findall(title.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # "shares" ~ "share", "rates" ~ "rate"
        tokens.add(word)
    return frozenset(tokens)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def story_key(tokens: frozenset[str]) -> str:
    return hashlib.sha256(" ".join(sorted(tokens)).encode()).hexdigest()


@dataclass
class _Entry:
    tokens: frozenset[str]
    published_at: datetime
    story: StoryGroup


class StoryIndex:
    """Titles seen so far (stored and new) with an inverted token index.

    A title B with Jaccard(A, B) >= 1/2 contains at least half of A's tokens, so it shares at
    least one of A's floor(n/2)+1 rarest tokens: only those tokens' postings are compared.
    """

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.postings: dict[str, list[int]] = defaultdict(list)

    def add(self, tokens: frozenset[str], published_at: datetime, story: StoryGroup) -> None:
        index = len(self.entries)
        self.entries.append(_Entry(tokens, published_at, story))
        for token in tokens:
            self.postings[token].append(index)

    def best(self, tokens: frozenset[str], published_at: datetime) -> StoryGroup | None:
        if len(tokens) < STORY_MIN_TOKENS:
            return None
        rare = sorted(tokens, key=lambda t: len(self.postings.get(t, ())))
        seen: set[int] = set()
        best, best_score = None, STORY_SIMILARITY
        for token in rare[: len(tokens) // 2 + 1]:
            for index in self.postings.get(token, ()):
                if index in seen:
                    continue
                seen.add(index)
                entry = self.entries[index]
                if abs(entry.published_at - published_at) > STORY_WINDOW:
                    continue
                score = jaccard(tokens, entry.tokens)
                if score >= best_score and len(entry.tokens) >= STORY_MIN_TOKENS:
                    best, best_score = entry.story, score
        return best


# --- ingest -------------------------------------------------------------------------------


@dataclass
class IngestStats:
    created: int = 0
    duplicates: int = 0  # already stored or repeated in this run
    grouped: int = 0  # joined an existing story
    ticker_links: int = 0
    skipped: int = 0
    future: int = 0  # refused: published more than FUTURE_TOLERANCE after now
    reasons: list[str] = field(default_factory=list)


class Ingestor:
    """One run's state: the matcher, the URLs seen and the story index. Feed it items in any
    number of `ingest()` calls; each call writes its batches atomically."""

    def __init__(
        self, *, matcher: TickerMatcher | None = None, dry_run: bool = False, batch_size=BATCH_SIZE
    ) -> None:
        self.matcher = matcher or TickerMatcher.from_db()
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.seen_urls: set[str] = set()
        self.index = StoryIndex()
        self._loaded: tuple[datetime, datetime] | None = None
        self.stats = IngestStats()

    def _load_window(self, start: datetime, end: datetime) -> None:
        """Put stored articles published in [start - 48 h, end + 48 h] into the index."""
        lo, hi = start - STORY_WINDOW, end + STORY_WINDOW
        if self._loaded and self._loaded[0] <= lo and self._loaded[1] >= hi:
            return
        rows = Article.objects.filter(published_at__gte=lo, published_at__lte=hi).exclude(
            story=None
        )
        if self._loaded:  # only the part not loaded yet
            rows = rows.exclude(
                published_at__gte=self._loaded[0], published_at__lte=self._loaded[1]
            )
        stories: dict[int, StoryGroup] = {}
        for title, published_at, story_id in rows.values_list("title", "published_at", "story_id"):
            story = stories.setdefault(story_id, StoryGroup(pk=story_id))
            self.index.add(title_tokens(title), published_at, story)
        if self._loaded:
            lo, hi = min(lo, self._loaded[0]), max(hi, self._loaded[1])
        self._loaded = (lo, hi)

    def ingest(self, items: Iterable[NewsItem]) -> IngestStats:
        batch: list[NewsItem] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._write(batch)
                batch = []
        if batch:
            self._write(batch)
        return self.stats

    def _write(self, batch: list[NewsItem]) -> None:
        fresh: dict[str, NewsItem] = {}
        latest = timezone.now() + FUTURE_TOLERANCE
        for item in batch:
            if item.published_at > latest:
                self.stats.future += 1
                if len(self.stats.reasons) < 20:
                    self.stats.reasons.append(
                        f"{item.source}: dated {item.published_at:%Y-%m-%d %H:%M} UTC, in the future"
                    )
                continue
            try:
                url = canonical_url(item.url)
            except ValueError as exc:
                self.stats.skipped += 1
                self.stats.reasons.append(f"bad url: {exc}"[:200])
                continue
            if url in self.seen_urls or url in fresh:
                self.stats.duplicates += 1
                continue
            fresh[url] = item
        stored = set(Article.objects.filter(url__in=list(fresh)).values_list("url", flat=True))
        self.stats.duplicates += len(stored)
        self.seen_urls.update(fresh)
        todo = sorted(
            ((u, i) for u, i in fresh.items() if u not in stored), key=lambda p: p[1].published_at
        )
        if not todo:
            return
        self._load_window(todo[0][1].published_at, todo[-1][1].published_at)

        new_stories: list[StoryGroup] = []
        touched: dict[int, StoryGroup] = {}
        articles: list[Article] = []
        links: list[tuple[Article, int, str]] = []
        for url, item in todo:
            tokens = title_tokens(item.title)
            story = self.index.best(tokens, item.published_at)
            if story is None:
                story = StoryGroup(
                    key=story_key(tokens),
                    first_published_at=item.published_at,
                    last_published_at=item.published_at,
                )
                new_stories.append(story)
            else:
                self.stats.grouped += 1
                if story.pk is not None:
                    touched[story.pk] = story
                if story.last_published_at is None or item.published_at > story.last_published_at:
                    story.last_published_at = item.published_at
                if story.first_published_at is None or item.published_at < story.first_published_at:
                    story.first_published_at = item.published_at
            self.index.add(tokens, item.published_at, story)
            article = Article(
                source=item.source[:40],
                publisher=item.publisher,
                url=url,
                title=item.title,
                description=item.description,
                content=item.content,
                author=item.author,
                image_url=item.image_url,
                published_at=item.published_at,
            )
            article._story = story  # type: ignore[attr-defined]
            articles.append(article)
            vendor = self.matcher.vendor(item.symbols)
            matched = self.matcher.match(f"{item.title}\n{item.description}") - vendor
            links += [(article, pk, ArticleTicker.Origin.VENDOR) for pk in vendor]
            links += [(article, pk, ArticleTicker.Origin.MATCHED) for pk in matched]

        self.stats.created += len(articles)
        self.stats.ticker_links += len(links)
        if self.dry_run:
            return
        with transaction.atomic():
            StoryGroup.objects.bulk_create(new_stories)
            self._extend_stored_stories(touched)
            for article in articles:
                article.story = article._story  # type: ignore[attr-defined]
            Article.objects.bulk_create(articles)
            ArticleTicker.objects.bulk_create(
                [ArticleTicker(article=a, ticker_id=pk, origin=o) for a, pk, o in links],
                ignore_conflicts=True,
            )

    @staticmethod
    def _extend_stored_stories(touched: dict[int, StoryGroup]) -> None:
        """Widen stored stories' time span to cover the articles that joined them."""
        if not touched:
            return
        current = StoryGroup.objects.in_bulk(list(touched))
        changed = []
        for pk, seen in touched.items():
            row = current.get(pk)
            if row is None:
                continue
            first = min(row.first_published_at, seen.first_published_at or row.first_published_at)
            last = max(row.last_published_at, seen.last_published_at or row.last_published_at)
            if (first, last) != (row.first_published_at, row.last_published_at):
                row.first_published_at, row.last_published_at = first, last
                changed.append(row)
        StoryGroup.objects.bulk_update(changed, ["first_published_at", "last_published_at"])


def ingest(items: Iterable[NewsItem], *, dry_run: bool = False) -> IngestStats:
    """Store `items` (see the module docstring); returns what happened."""
    return Ingestor(dry_run=dry_run).ingest(items)
