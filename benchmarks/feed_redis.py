"""Redis commands of the quote feed over a simulated trading day, real app, real Redis.

    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python benchmarks/feed_redis.py
        [--users 100] [--open-seconds 300] [--closed-seconds 300] [--health-seconds 5]

1. A scratch SQLite database: 60 tickers with quotes, the four index ETFs among them, and
   `--users` users, each with a watchlist of the ETFs and 6 other tickers (so the feed's
   refresher works on the union of what the users watch).
2. Fake vendors on loopback with free-tier rules: Finnhub's /quote (60 a minute, then 429
   with Retry-After) and Polygon, whose snapshot endpoint answers 403 (a free key is not
   entitled). The real adapters talk to them (FINNHUB_BASE_URL, POLYGON_BASE_URL).
3. gunicorn with the repository's gunicorn.conf.py at render.yaml's setting
   (WEB_CONCURRENCY=2, GUNICORN_THREADS=4 unless set), DEBUG=false, NUM_PROXIES=1 and the
   production throttle rates (each user polls from its own address in X-Forwarded-For),
   the background refresher on, and REDIS_URL with a fresh CACHE_KEY_PREFIX. The market is
   open or closed as a file says (benchmarks/market_clock.py), nothing else is changed.
4. A MONITOR connection counts every command the service sends to REDIS_URL's database
   (commands on connections that used the run's key prefix: another user of the database,
   such as a test run, is not counted), by what it is for (feed generation, refresher
   lease, vendor budget, throttle, health, connection set-up, other). Commands
   that a Lua script runs inside Redis are not counted: a script is one command (as Upstash
   bills it).
5. The day, in phases: a warm-up in which every user loads the dashboard once and polls
   once (the day's one-off cost), `--open-seconds` of market hours (polls every 15 s with
   If-None-Match, the refresher on the vendor budget), the close (70 s: leases let go, once
   a day), then `--closed-seconds` closed (polls every 60 s); a health probe every
   `--health-seconds` throughout, as Render sends them.
6. A trading day is the warm-up + the close + the open phase's rate x 6.5 h + the closed
   phase's rate x 17.5 h (the rates are measured, the day is their sum: a phase shorter
   than a few refresher ticks gives a noisy figure). Prints the figures per phase and for the day: commands per all-day user and for
   the whole service (goal: under 5,000 a day for 100 users), and exits 1 over the goal or
   on any error (an answer other than 200/304).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feed_load import ROOT, free_port, server_env, wait_until_up

OPEN_SECONDS_A_DAY = 6.5 * 3600
CLOSED_SECONDS_A_DAY = 24 * 3600 - OPEN_SECONDS_A_DAY
GOAL = 5000
CLOSING_SECONDS = 70  # the close's one-off commands settle within a refresher tick
INDEX = ["SPY", "QQQ", "DIA", "IWM"]

SEED = """
import django, json, sys
django.setup()
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from django.contrib.auth import get_user_model
from markets.models import Quote, Ticker
from portfolios.models import Watchlist, WatchlistItem
sets = json.loads(sys.argv[1])
symbols = sorted({s for group in sets for s in group})
now = timezone.now()
tickers = {}
for i, symbol in enumerate(symbols):
    t = tickers[symbol] = Ticker.objects.create(symbol=symbol, name=f"Bench {symbol}", sector="Bench")
    Quote.objects.create(ticker=t, price=Decimal(100 + i), change=Decimal(1),
                         change_pct=Decimal("0.5"), volume=1000,
                         as_of=now - timedelta(minutes=5), source="bench")
User = get_user_model()
for n, group in enumerate(sets):
    user = User.objects.create_user(username=f"bench{n}", email=f"bench{n}@example.com")
    w = Watchlist.objects.create(owner=user, name="Bench")
    WatchlistItem.objects.bulk_create([WatchlistItem(watchlist=w, ticker=tickers[s]) for s in group])
print(len(symbols))
"""


# --- fake vendors ------------------------------------------------------------------------------


class FakeVendors(ThreadingHTTPServer):
    """Finnhub /api/v1/quote at 60 calls a minute (429 + Retry-After beyond), Polygon's
    snapshot endpoint 403 (free tier). Counts what it answered."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _VendorHandler)
        self.calls: Counter[str] = Counter()
        self.minute: list[float] = []
        self.lock = threading.Lock()


class _VendorHandler(BaseHTTPRequestHandler):
    server: FakeVendors

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path.startswith("/v2/snapshot/"):
            self._count("polygon 403")
            return self._json(403, {"status": "NOT_AUTHORIZED", "message": "Not entitled."})
        if url.path == "/api/v1/quote":
            now = time.time()
            with self.server.lock:
                self.server.minute = [t for t in self.server.minute if now - t < 60]
                over = len(self.server.minute) >= 60
                if not over:
                    self.server.minute.append(now)
            if over:
                self._count("finnhub 429")
                return self._json(429, {"error": "API limit reached."}, {"Retry-After": "10"})
            self._count("finnhub 200")
            symbol = parse_qs(url.query).get("symbol", ["X"])[0]
            price = 100 + (hash(symbol) % 50) + random.random()
            body = {"c": round(price, 2), "d": 0.5, "dp": 0.4, "h": 0, "l": 0, "o": 0}
            return self._json(200, {**body, "pc": 99.5, "t": int(now)})
        self._count("other 404")
        return self._json(404, {"error": "not found"})

    def _count(self, what: str) -> None:
        with self.server.lock:
            self.server.calls[what] += 1

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


# --- counting Redis commands -------------------------------------------------------------------


def _purpose(command: str, args: list[str]) -> str:
    text = " ".join(args[:4])
    if command == "PING":
        return "health"
    if "vbudget:" in text:
        return "vendor budget"
    if "mdfeed:refresher" in text:
        return "refresher lease"
    if "mdfeed:gen" in text:
        return "feed generation"
    if "throttle:" in text:
        return "throttle"
    if command in {"HELLO", "CLIENT", "SELECT", "SCRIPT"}:
        return "connection"
    return "other"


class Monitor(threading.Thread):
    """Counts commands sent to one database of the Redis server through MONITOR."""

    LINE = re.compile(r'^[\d.]+ \[(\d+) ([^\]]+)\] "([^"]+)"(.*)$')

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.prefix = prefix
        self.ours: set[str] = set()  # client connections that sent a key of ours
        self.pending: dict[str, list[tuple[str, str, str]]] = {}  # keyless, not yet known
        parsed = urlparse(url)
        self.db = (parsed.path or "/0").lstrip("/") or "0"
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        self.counts: Counter[str] = Counter()
        self.names: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.ready = threading.Event()

    def run(self) -> None:
        import socket

        sock = socket.create_connection((self.host, self.port))
        sock.sendall(b"MONITOR\r\n")
        buffer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\r\n")
            for raw in lines:
                line = raw.decode(errors="replace").lstrip("+")
                if line == "OK":
                    self.ready.set()
                    continue
                match = self.LINE.match(line)
                if not match or match.group(1) != self.db or match.group(2) == "lua":
                    continue
                command = match.group(3).upper()
                args = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(4))
                client = match.group(2)
                with self.lock:
                    if self.prefix in match.group(4):
                        self.ours.add(client)
                        for held in self.pending.pop(client, []):
                            self._count(*held)
                    elif client not in self.ours:
                        # Not (yet) known to be the service's connection: another user of
                        # this database (a test run) must not be counted.
                        self.pending.setdefault(client, []).append((command, "", line))
                        continue
                    self._count(command, _purpose(command, args), line)

    def _count(self, command: str, purpose: str, line: str) -> None:
        purpose = purpose or _purpose(command, [])
        self.counts[purpose] += 1
        self.names[command] += 1
        sample = self.samples.setdefault(purpose, [])
        if len(sample) < 3:
            sample.append(line[:160])

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        with self.lock:
            return Counter(self.counts), Counter(self.names)


# --- the simulated users -----------------------------------------------------------------------


class Users:
    """`n` dashboard users, each polling its own symbol set from its own address."""

    def __init__(self, port: int, sets: list[list[str]], workers: int = 8) -> None:
        self.port = port
        self.sets = sets
        self.etags: list[str | None] = [None] * len(sets)
        self.status: Counter[int | str] = Counter()
        self.jobs: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        for t in self.threads:
            t.start()

    def _work(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while True:
            job = self.jobs.get()
            if job is None:
                return
            kind, n, done = job
            status: int | str = "error"
            for attempt in range(2):  # gunicorn closes a keep-alive connection idle for 5 s
                try:
                    status = self._request(conn, kind, n)
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    if attempt:
                        status = f"error {type(exc).__name__}"
            with self.lock:
                self.status[status] += 1
            if done is not None:
                done.set()

    def _request(self, conn: http.client.HTTPConnection, kind: str, n: int):
        headers = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.7"}
        if kind == "health":
            path = "/health"
        elif kind == "page":
            path = "/"
        else:
            path = "/api/market-data?symbols=" + ",".join(self.sets[n])
            if self.etags[n]:
                headers["If-None-Match"] = self.etags[n]
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if kind == "poll" and response.status == 200:
            self.etags[n] = response.getheader("ETag")
        return response.status

    def run_all(self, kind: str) -> None:
        """Every user once, waiting for all the answers (the warm-up)."""
        events = []
        for n in range(len(self.sets)):
            done = threading.Event()
            self.jobs.put((kind, n, done))
            events.append(done)
        for done in events:
            done.wait(60)

    def run_phase(self, seconds: float, interval: float, health_seconds: float) -> None:
        """Each user polls every `interval` s (spread over the interval), plus health probes."""
        start = time.monotonic()
        next_poll = [start + interval * (n + 0.5) / len(self.sets) for n in range(len(self.sets))]
        next_health = start
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                return
            if health_seconds and now >= next_health:
                self.jobs.put(("health", 0, None))
                next_health += health_seconds
            for n, due in enumerate(next_poll):
                if now >= due:
                    self.jobs.put(("poll", n, None))
                    next_poll[n] = due + interval
            time.sleep(0.05)


# --- the run -----------------------------------------------------------------------------------


def symbol_sets(users: int, rng: random.Random) -> list[list[str]]:
    pool = [f"B{i:02d}" for i in range(56)]
    return [INDEX + sorted(rng.sample(pool, 6)) for _ in range(users)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--open-seconds", type=float, default=300)
    parser.add_argument("--closed-seconds", type=float, default=300)
    parser.add_argument("--health-seconds", type=float, default=5)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit(
            "set REDIS_URL to a Redis database of your own, e.g. redis://127.0.0.1:6379/2"
        )

    rng = random.Random(18)
    sets = symbol_sets(args.users, rng)
    vendors = FakeVendors()
    threading.Thread(target=vendors.serve_forever, daemon=True).start()
    vendor_url = f"http://127.0.0.1:{vendors.server_address[1]}"
    prefix = f"qxbench{uuid.uuid4().hex[:8]}"
    monitor = Monitor(redis_url, prefix)
    monitor.start()
    if not monitor.ready.wait(5):
        raise SystemExit("MONITOR did not start")

    with tempfile.TemporaryDirectory(prefix="qunex-feed-redis-") as tmp:
        market = Path(tmp) / "market"
        market.write_text("closed")
        env = server_env(Path(tmp) / "bench.sqlite3")
        env.update(
            REDIS_URL=redis_url,
            CACHE_KEY_PREFIX=prefix,
            BENCH_MARKET_FILE=str(market),
            WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
            GUNICORN_THREADS=os.environ.get("GUNICORN_THREADS", "4"),
            API_THROTTLE_ANON=os.environ.get("API_THROTTLE_ANON", "60/min"),
            API_THROTTLE_USER=os.environ.get("API_THROTTLE_USER", "1200/min"),
            NUM_PROXIES="1",
            POLYGON_API_KEY="bench-polygon-key",
            FINNHUB_API_KEY="bench-finnhub-key",
            ALPHA_VANTAGE_API_KEY="",
            POLYGON_BASE_URL=vendor_url,
            FINNHUB_BASE_URL=vendor_url + "/api/v1",
        )
        print(f"preparing a scratch database with {args.users} users ...", flush=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        subprocess.run(
            [sys.executable, "-c", SEED, json.dumps(sets)], cwd=ROOT, env=env, check=True
        )
        port = free_port()
        cmd = [
            sys.executable, "-m", "gunicorn", "qunex.wsgi",
            "-c", str(ROOT / "gunicorn.conf.py"),
            "-b", f"127.0.0.1:{port}",
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        log_path = Path(tmp) / "gunicorn.log"
        log = open(log_path, "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        phases: dict[str, tuple[float, Counter[str], Counter[str], Counter]] = {}
        vendor_calls: dict[str, Counter[str]] = {}
        try:
            wait_until_up(port, proc)
            print(
                f"gunicorn on 127.0.0.1:{port} (workers={env['WEB_CONCURRENCY']}, "
                f"threads={env['GUNICORN_THREADS']}), Redis {redis_url} (MONITOR), "
                f"{args.users} users, health probe every {args.health_seconds:g} s",
                flush=True,
            )
            users = Users(port, sets)
            time.sleep(1)
            market.write_text("open")
            time.sleep(1.2)  # the workers read the file at most once a second

            def measure(name: str, run) -> None:
                calls_before = Counter(vendors.calls)
                before, names_before = monitor.snapshot()
                status_before = Counter(users.status)
                started = time.monotonic()
                run()
                while not users.jobs.empty():
                    time.sleep(0.05)
                time.sleep(0.5)
                after, names_after = monitor.snapshot()
                vendor_calls[name] = Counter(vendors.calls) - calls_before
                phases[name] = (
                    time.monotonic() - started,
                    after - before,
                    names_after - names_before,
                    Counter(users.status) - status_before,
                )
                total = sum((after - before).values())
                print(
                    f"  {name:9s} {phases[name][0]:6.0f} s  {total:6d} Redis commands  "
                    f"{dict(sorted((after - before).items()))}  answers "
                    f"{dict(phases[name][3])}",
                    flush=True,
                )

            measure("warm-up", lambda: (users.run_all("page"), users.run_all("poll")))
            measure("open", lambda: users.run_phase(args.open_seconds, 15, args.health_seconds))
            market.write_text("closed")
            # The close itself (leases let go, the last refresh): once a day, not a rate.
            measure("closing", lambda: users.run_phase(CLOSING_SECONDS, 60, args.health_seconds))
            measure("closed", lambda: users.run_phase(args.closed_seconds, 60, args.health_seconds))
        finally:
            proc.terminate()
            proc.wait(20)
            log.close()
            server_log = log_path.read_text()
            if "Traceback" in server_log:
                print(server_log[-3000:], file=sys.stderr)

    warm = sum(phases["warm-up"][1].values()) + sum(phases["closing"][1].values())
    open_rate = sum(phases["open"][1].values()) / phases["open"][0]
    closed_rate = sum(phases["closed"][1].values()) / phases["closed"][0]
    day = warm + open_rate * OPEN_SECONDS_A_DAY + closed_rate * CLOSED_SECONDS_A_DAY
    by_purpose: Counter[str] = Counter()
    for name, seconds_a_day in (("open", OPEN_SECONDS_A_DAY), ("closed", CLOSED_SECONDS_A_DAY)):
        elapsed, counts = phases[name][0], phases[name][1]
        for purpose, count in counts.items():
            by_purpose[purpose] += count / elapsed * seconds_a_day
    for purpose, count in (phases["warm-up"][1] + phases["closing"][1]).items():
        by_purpose[purpose] += count
    answers = sum((p[3] for p in phases.values()), Counter())
    errors = sum(v for k, v in answers.items() if k not in (200, 304))
    if errors:
        print(f"answers other than 200/304: {dict(answers)}")
    polls_a_day = args.users * (OPEN_SECONDS_A_DAY / 15 + CLOSED_SECONDS_A_DAY / 60)
    print(f"vendor calls: {dict(vendors.calls)}")
    # How often the union of watched symbols is refreshed while open: Finnhub answers one
    # symbol a call, so the union's size over the quotes it answered a minute.
    open_quotes = vendor_calls["open"]["finnhub 200"] / (phases["open"][0] / 60)
    union = len({s for group in sets for s in group})
    every = union / open_quotes if open_quotes else float("inf")
    print(
        f"feed refresh while open: {open_quotes:.1f} Finnhub quotes a minute, a union of "
        f"{union} symbols refreshed every {every:.1f} min"
    )
    print(f"commands by name: {dict(sum((p[2] for p in phases.values()), Counter()))}")
    if os.environ.get("BENCH_SAMPLES"):
        for purpose, lines in monitor.samples.items():
            print(f"  {purpose}: " + " | ".join(lines))
    print(
        "a trading day by purpose: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(by_purpose.items(), key=lambda i: -i[1]))
    )
    ok = day < GOAL and errors == 0
    print(
        f"{'OK' if ok else 'FAIL'}: {args.users} all-day dashboard users ({polls_a_day:,.0f} "
        f"polls a day) cost {day:,.0f} Redis commands a day for the whole service "
        f"({day / args.users:.1f} per all-day user; goal < {GOAL:,} for 100): "
        f"{open_rate * 60:.1f}/min open, {closed_rate * 60:.1f}/min closed, {warm} for the "
        f"day's page loads, first polls and close; {errors} errors"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
