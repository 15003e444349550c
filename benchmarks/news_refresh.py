"""How fast refresh_news's ingest path stores news: 10,000 Polygon-shaped items through the
real adapter parser and `insights.news.services.Ingestor` (canonical URLs, dedup, ticker
linking, 48-hour story grouping, bulk writes atomic per batch) into the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qunex_bench \\
        .venv/bin/python benchmarks/news_refresh.py [--items 10000] [--tickers 500]

Without DATABASE_URL it uses a throw-away SQLite file in the temp directory (never the
project's db.sqlite3). The items are built from the shape of a recorded Polygon
/v2/reference/news answer (tests/fixtures/polygon/news_AAPL.json): every story is reported
by three to four publishers with reworded titles, 5 % of items repeat a URL with tracking
parameters, 1 % are malformed. Untimed: migrate, create tickers, build the JSON. Timed: JSON
decode, adapter parse, ingest, commit. Then the same items again (everything a duplicate,
nothing written). Prints items per second for both and one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qunex.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = (
        f"sqlite:///{Path(tempfile.gettempdir()) / 'qunex_news_bench.sqlite3'}"
    )

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from insights.news.models import Article, ArticleTicker, StoryGroup  # noqa: E402
from insights.news.providers.base import FetchResult  # noqa: E402
from insights.news.providers.polygon import PolygonNews  # noqa: E402
from insights.news.services import Ingestor  # noqa: E402
from markets.models import Ticker  # noqa: E402

VERBS = ["beats", "misses", "raises", "cuts", "confirms", "delays", "expands", "restructures"]
NOUNS = ["guidance", "dividend", "buyback", "outlook", "forecast", "workforce", "capex", "margins"]
EXTRA = ["quarterly", "annual", "holiday", "record", "surprise", "cloud", "chip", "retail"]
TAILS = ["", ", analysts say", " as shares jump", ", report shows", " amid probe"]
PUBLISHERS = ["Reuters", "Benzinga", "MarketWatch", "CNBC", "Bloomberg", "Barron's"]


def make_tickers(n: int) -> list[tuple[str, str]]:
    Ticker.objects.filter(symbol__startswith="BN").delete()
    rows = [(f"BN{i:03d}", f"Benchco{i:03d} Holdings Inc.") for i in range(n)]
    Ticker.objects.bulk_create([Ticker(symbol=s, name=name) for s, name in rows])
    return rows


def make_payload(n_items: int, tickers: list[tuple[str, str]], seed: int = 9) -> bytes:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = []
    story = 0
    while len(results) < n_items:
        symbol, name = rng.choice(tickers)
        words = [
            name.split()[0],
            rng.choice(VERBS),
            rng.choice(EXTRA),
            rng.choice(NOUNS),
            f"{story % 97}B",
        ]
        at = start + timedelta(minutes=17 * story)
        for k in range(rng.randint(3, 4)):
            title = " ".join(words) + rng.choice(TAILS)
            if k % 2:
                title = title.title()
            url = f"https://{PUBLISHERS[k].lower().replace(' ', '')}.example.com/{story}-{k}"
            if rng.random() < 0.05 and results and "article_url" in results[-1]:
                url = results[-1]["article_url"].split("?")[0] + "?utm_source=polygon&fbclid=x"
            row = {
                "id": f"{story}-{k}",
                "publisher": {"name": PUBLISHERS[k]},
                "title": title,
                "author": "Bench",
                "published_utc": (at + timedelta(minutes=5 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "article_url": url + ("?utm_medium=api" if k == 2 else ""),
                "tickers": [symbol],
                "description": f"{name} ({symbol}) said on Tuesday it {words[1]} its {words[3]}.",
            }
            if rng.random() < 0.01:
                del row["article_url"]  # malformed: counted, not stored
            results.append(row)
        story += 1
    return json.dumps({"results": results[:n_items], "status": "OK"}).encode()


def clear() -> None:
    ArticleTicker.objects.all().delete()
    Article.objects.all().delete()
    StoryGroup.objects.all().delete()


def load(payload: bytes) -> tuple[float, FetchResult, Ingestor]:
    source = PolygonNews("bench", base_url="https://api.polygon.io")
    begin = time.perf_counter()
    body = json.loads(payload)
    result = PolygonNews.collect(FetchResult(), body["results"], source.parse)
    ingestor = Ingestor()
    ingestor.ingest(result.items)
    return time.perf_counter() - begin, result, ingestor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--tickers", type=int, default=500)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    tickers = make_tickers(args.tickers)
    payload = make_payload(args.items, tickers)
    clear()

    seconds, result, first = load(payload)
    stats = first.stats
    stored = Article.objects.count()
    stories = StoryGroup.objects.count()
    print(
        f"first load: {args.items} items in {seconds:.2f}s = {args.items / seconds:,.0f} items/s; "
        f"stored {stored}, duplicates {stats.duplicates}, malformed {result.skipped}, "
        f"stories {stories}, grouped {stats.grouped}, ticker links {stats.ticker_links}"
    )
    again_seconds, _, again = load(payload)
    assert again.stats.created == 0 and Article.objects.count() == stored
    print(
        f"re-run: {args.items} items in {again_seconds:.2f}s = {args.items / again_seconds:,.0f} items/s; stored 0"
    )
    vendor = connection_vendor()
    print(
        f"news_refresh ({vendor}): {args.items / seconds:,.0f} items/s first load, "
        f"{args.items / again_seconds:,.0f} items/s re-run; {stored} articles in {stories} stories"
    )
    clear()
    Ticker.objects.filter(symbol__startswith="BN").delete()


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()
