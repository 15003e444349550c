"""gunicorn settings for Render (and the feed benchmark). Values come from the environment.

Memory (Render's starter instance has 512 MB): the app is loaded ONCE in the master
(`preload_app`), with every URLconf, view and the NYSE calendar of this year imported and
computed before the workers fork, and `gc.freeze()` keeps the collector from touching (and
so copying) those shared pages. Workers then share pandas, scipy and the rest copy-on-write
instead of importing them each. render.yaml sets WEB_CONCURRENCY and GUNICORN_THREADS for
its plan; the measured memory of the whole service is in the README (feed benchmark).

Recycling (`max_requests`) stays on as a guard against slow leaks; a recycled worker is a
fork of the preloaded master, so it starts in milliseconds instead of re-importing the app
(the cause of the p99 spikes measured with recycling on and no preload).
"""

import gc
import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2 + 1)))
os.environ["WEB_CONCURRENCY"] = str(workers)  # settings.WEB_CONCURRENCY: the feed throttle's share
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "*"
# gunicorn answers a longer request line itself (a plain-text 414) before Django sees it; keep
# it at gunicorn's maximum, above settings.REQUEST_LINE_LIMIT (8000), so that an over-long
# address gets Django's documented 414 (JSON on /api/) instead.
limit_request_line = 8190


def when_ready(server):
    """In the master, after the app is loaded and before any worker forks: import what the
    first request of every worker would import, then freeze it out of the GC's reach."""
    from django.db import connections
    from django.urls import get_resolver
    from django.utils import timezone

    get_resolver().url_patterns  # noqa: B018 - imports every urlconf and view module
    from markets import calendar

    calendar.is_open(timezone.now())  # this year's NYSE schedule, computed once
    connections.close_all()  # never share a database socket with the workers
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    from django.db import connections

    connections.close_all()
