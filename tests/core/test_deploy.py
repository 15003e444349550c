"""The production box: render.yaml sizes the web service for its plan, gunicorn preloads the
app so workers share it (issue 14 §4; memory measured by benchmarks/feed_load.py)."""

from __future__ import annotations

import runpy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_render_sizes_the_web_service_for_the_starter_plan():
    render = yaml.safe_load((ROOT / "render.yaml").read_text())
    web = render["services"][0]
    env = {v["key"]: v.get("value") for v in web["envVars"]}
    assert web["plan"] == "starter"  # 512 MB
    assert int(env["WEB_CONCURRENCY"]) == 2
    assert int(env["GUNICORN_THREADS"]) == 4
    assert "gunicorn.conf.py" in web["startCommand"]


def test_gunicorn_preloads_and_recycles(monkeypatch):
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["preload_app"] is True
    assert conf["max_requests"] == 5000
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert callable(conf["when_ready"]) and callable(conf["post_fork"])


def test_when_ready_imports_every_view_before_the_fork():
    import gc
    import sys

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        conf["when_ready"](server=None)
        assert "markets.views" in sys.modules
        assert gc.get_freeze_count() > 0  # the preloaded objects are out of the GC's reach
    finally:
        gc.unfreeze()
