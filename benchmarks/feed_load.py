"""Load-test the quote feed's 304 path against a trivial Django view on the same server.

    .venv/bin/python benchmarks/feed_load.py [--duration 10] [--connections 16] [--symbols 20]
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python benchmarks/feed_load.py   # as in production

1. Builds a scratch SQLite database (migrate, then N tickers with a quote each).
2. Starts gunicorn with the repository's own gunicorn.conf.py (preload, recycling and
   workers/threads from the environment, as render.yaml sets them) on a free
   loopback port with DEBUG=false, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
   SECURE_SSL_REDIRECT=false, a high anonymous API throttle (one client IP sends everything)
   and benchmarks.bench_settings (Qunex plus `/bench/trivial`). REDIS_URL is passed through
   when set: the feed's cache is then shared by the workers, as in production.
   BENCH_ANON_RATE="" turns the anonymous throttle off, to see what its counter costs
   (with the high rate, one client hammering the feed is what the throttle's leases are for:
   markets/api/throttles.py).
3. Loads `/api/market-data?symbols=...` with the current ETag in If-None-Match (the 304
   path the dashboards take every 15 s) and `/bench/trivial`, with wrk when it is installed
   (`apt-get install -y wrk`), else with a small threaded http.client load generator.
4. Prints both throughputs, run by run (each feed run's ratio to the trivial run just before
   it, and how many answers were 304 and how many 200), the ratio of the best runs (goal:
   >= 0.7) and one summary line; exits non-zero on any error (an answer other than 200/304,
   a socket error, or no answer within --timeout) or a ratio under the goal. The two loads
   alternate, three rounds, so both see the same machine.
5. Measures the memory of the whole service (gunicorn master + workers, PSS from
   /proc/<pid>/smaps_rollup, so shared pages count once) after warm-up and after the load.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.7


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    client: str
    ok_200: int = 0
    not_modified: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.bench_settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        DEBUG="false",
        SECRET_KEY="feed-benchmark-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        API_THROTTLE_ANON=os.environ.get("BENCH_ANON_RATE", "100000000/min"),
        API_THROTTLE_USER="100000000/min",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


SEED = """
import django
django.setup()
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from markets.models import Quote, Ticker
now = timezone.now()
for i in range({n}):
    t = Ticker.objects.create(symbol=f"B{{i:03d}}", name=f"Bench {{i}}", sector="Bench")
    Quote.objects.create(ticker=t, price=Decimal(100 + i), change=Decimal(1),
                         change_pct=Decimal("0.5"), volume=1000, as_of=now - timedelta(seconds=30),
                         source="bench")
print(",".join(Ticker.objects.order_by("symbol").values_list("symbol", flat=True)))
"""


def prepare_database(env: dict[str, str], n: int) -> str:
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(
        [python, "-c", SEED.format(n=n)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/trivial")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


def get(port: int, path: str, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    return response.status, response.getheader("ETag"), body


WRK_STATUS_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s200 = 0; s304 = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 304 then s304 = s304 + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s200"); b = b + t:get("s304"); c = c + t:get("other")
  end
  io.write(string.format("STATUS 200=%d 304=%d other=%d\\n", a, b, c))
end
"""


def run_wrk(
    url: str, headers: dict[str, str], duration: int, connections: int, timeout: int
) -> Result:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_STATUS_SCRIPT)
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s", "--latency"]
    cmd += ["-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    elapsed_match = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    seconds = float(elapsed_match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[elapsed_match.group(2)]
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_ok.group(1)) if non_ok else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    counted = re.search(r"STATUS 200=(\d+) 304=(\d+) other=(\d+)", out)
    ok_200, not_modified, other = (int(g) for g in counted.groups()) if counted else (0, 0, 0)
    errors = max(errors, other)
    script.unlink()
    if errors:
        print(out, file=sys.stderr)
    return Result(total, seconds, errors, "wrk", ok_200, not_modified)


def run_python(
    port: int,
    path: str,
    headers: dict[str, str],
    duration: int,
    connections: int,
    timeout: int,
) -> Result:
    """A threaded keep-alive load generator for machines without wrk. Counts 200s and 304s
    apart; any other answer is an error."""
    counts = {200: 0, 304: 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        seen = {200: 0, 304: 0}
        errors = 0
        while time.monotonic() < stop:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status in seen:
                    seen[response.status] += 1
                else:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        with lock:
            counts[200] += seen[200]
            counts[304] += seen[304]
            counts["errors"] += errors

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = counts[200] + counts[304] + counts["errors"]
    return Result(
        total, time.monotonic() - started, counts["errors"], "python", counts[200], counts[304]
    )


def service_pss_mb(master_pid: int) -> tuple[float, int]:
    """PSS of the gunicorn master and its workers in MB (shared pages split between the
    processes that share them, so the sum is what the service costs), and the process count."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_kb = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kb += int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1))
    return total_kb / 1024, len(pids)


def warm_up(port: int, feed: str, symbols: str) -> None:
    """What a worker does in its first minutes: pages, the API, the feed."""
    for _ in range(20):
        for path in ("/", "/stocks/", f"/stocks/{symbols.split(',')[0]}/", "/health", feed):
            get(port, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--symbols", type=int, default=20, help="symbols per feed request")
    parser.add_argument(
        "--timeout",
        type=int,
        default=5,
        help="seconds a request may take before it counts as an error (default 5; wrk's own "
        "2 s is hit by stalls of a busy 2-core machine, for the trivial view too)",
    )
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    args = parser.parse_args()

    use_wrk = shutil.which("wrk") is not None and not args.python_client
    with tempfile.TemporaryDirectory(prefix="qunex-feed-bench-") as tmp:
        env = server_env(Path(tmp) / "bench.sqlite3")
        print(f"preparing a scratch database with {args.symbols} tickers ...", flush=True)
        symbols = prepare_database(env, args.symbols)
        port = free_port()
        cmd = [
            sys.executable, "-m", "gunicorn", "qunex.wsgi",
            "-c", str(ROOT / "gunicorn.conf.py"),
            "-b", f"127.0.0.1:{port}",
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        log = open(Path(tmp) / "gunicorn.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(port, proc)
            feed = f"/api/market-data?symbols={symbols}"
            status, etag, body = get(port, feed)
            if status != 200 or not etag:
                raise SystemExit(f"feed answered {status}: {body[:300]!r}")
            status, _, _ = get(port, feed, {"If-None-Match": etag})
            if status != 304:
                raise SystemExit(f"feed answered {status} to its own ETag, expected 304")
            warm_up(port, feed, symbols)
            idle_mb, processes = service_pss_mb(proc.pid)
            print(
                f"gunicorn on 127.0.0.1:{port} "
                f"(workers={os.environ.get('WEB_CONCURRENCY', 'default')}, "
                f"threads={os.environ.get('GUNICORN_THREADS', 'default')}, "
                f"cache={'redis' if env.get('REDIS_URL') else 'locmem'}); "
                f"client: {'wrk' if use_wrk else 'python threads'}, "
                f"{args.connections} connections, {args.duration}s per run",
                flush=True,
            )
            print(f"service memory after warm-up: {idle_mb:.0f} MB PSS ({processes} processes)")
            runs: dict[str, list[Result]] = {"trivial view": [], "feed 304": []}
            for name, path, headers in (
                ("trivial view", "/bench/trivial", {}),
                ("feed 304", feed, {"If-None-Match": etag}),
            ) * 3:
                if use_wrk:
                    url = f"http://127.0.0.1:{port}{path}"
                    result = run_wrk(url, headers, args.duration, args.connections, args.timeout)
                else:
                    result = run_python(
                        port, path, headers, args.duration, args.connections, args.timeout
                    )
                runs[name].append(result)
                paired = ""
                if name == "feed 304" and runs["trivial view"][-1].rps:
                    paired = f"  ratio to the run before: {result.rps / runs['trivial view'][-1].rps:.2f}"
                print(
                    f"  {name:13s} {result.rps:9.0f} req/s  ({result.requests} requests: "
                    f"{result.not_modified} 304, {result.ok_200} 200, {result.errors} errors)"
                    f"{paired}",
                    flush=True,
                )
            loaded_mb, processes = service_pss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()
            server_log = (Path(tmp) / "gunicorn.log").read_text()
            if "Traceback" in server_log or "ERROR" in server_log:
                print(server_log[-3000:], file=sys.stderr)

    feed_rps = max(r.rps for r in runs["feed 304"])
    trivial_rps = max(r.rps for r in runs["trivial view"])
    errors = sum(r.errors for rs in runs.values() for r in rs)
    ratio = feed_rps / trivial_rps if trivial_rps else 0.0
    print(f"ratio feed 304 / trivial view: {ratio:.2f} (goal >= {GOAL})")
    ok = ratio >= GOAL and errors == 0
    feed_304 = sum(r.not_modified for r in runs["feed 304"])
    feed_200 = sum(r.ok_200 for r in runs["feed 304"])
    print(
        f"{'OK' if ok else 'FAIL'}: feed 304 {feed_rps:.0f} req/s vs trivial {trivial_rps:.0f} "
        f"req/s (best of 3 runs each), ratio {ratio:.2f}, feed answers {feed_304} 304 + "
        f"{feed_200} 200, {errors} errors, {args.symbols} symbols per request; service "
        f"memory {idle_mb:.0f} MB PSS warm, {loaded_mb:.0f} MB after the load "
        f"({processes} processes)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
