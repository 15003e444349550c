"""AI-score benchmark on a synthetic universe (default 3,000 tickers x 10 years of sessions,
the US market): feature computation, the daily scoring run and a full retrain with
walk-forward, each with its wall time and peak memory.

    .venv/bin/python benchmarks/ai_score.py                 # pure pipeline, in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qunex_bench \\
        .venv/bin/python benchmarks/ai_score.py --db        # end to end through the database

1. Each stage runs in its own child process, so its peak memory (the child's max RSS, which
   includes building the synthetic prices: an upper bound) is its own.
2. `features`: compute_features over the whole history of every ticker.
3. `daily`: score the latest session for every ticker from the trailing window only
   (features_for, predict, contributions, 1-10 mapping). With --db: `scores_update`, i.e.
   also loading the window's bars from the database and storing the scores.
4. `retrain`: features, labels, walk-forward validation (quarterly test blocks, 20-session
   gap, expanding window) and the final fit. With --db: `model_retrain`, bars loaded from
   the database.
Goals: the weekly retrain fits a GitHub-hosted runner (2 cores, 7 GB): retrain < 15 min and
peak memory < 4 GB; daily scoring < 10 s. Prints one line per stage and a summary line.
Features are float32 and built per window of sessions (`features.CHUNK`); each walk-forward
fold samples its training rows before copying them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOALS = {"features": None, "daily": 10.0, "retrain": 900.0}
PEAK_GOAL_MB = 4096


def synthetic(n_tickers: int, n_days: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2015-01-02", periods=n_days)
    market_ret = rng.normal(0.0003, 0.011, n_days)
    beta = rng.uniform(0.6, 1.4, n_tickers)
    drift = rng.normal(0, 0.0003, n_tickers)
    rets = market_ret[:, None] * beta + drift + rng.normal(0, 0.017, (n_days, n_tickers))
    symbols = [f"BN{i:04d}" for i in range(n_tickers)]
    close = pd.DataFrame(30 * np.exp(np.cumsum(rets, 0)), index=index, columns=symbols)
    volume = pd.DataFrame(
        rng.integers(50_000, 5_000_000, (n_days, n_tickers)).astype(float),
        index=index,
        columns=symbols,
    )
    market = pd.Series(300 * np.exp(np.cumsum(market_ret)), index=index, name="SPY")
    return close, volume, market


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process (user + system): on a shared machine, wall time is inflated
    by the other jobs; CPU time is not."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 1)


# -- stages (run in a child process) ---------------------------------------------------------


def stage_pure(name: str, n_tickers: int, n_days: int) -> dict:
    from insights.scores import explain, features, labels
    from insights.scores import model as ml

    close, volume, market = synthetic(n_tickers, n_days)
    if name == "features":
        t = time.perf_counter()
        X = features.compute_features(close, volume, market=market)
        return {"seconds": time.perf_counter() - t, "rows": len(X)}
    if name == "daily":
        # An untimed model from a small slice, then the timed scoring of the last session.
        small = features.compute_features(close.iloc[:, :40], volume.iloc[:, :40], market=market)
        y = labels.stack(labels.forward_excess_return(close.iloc[:, :40], market))
        fitted = ml.ScoreModel.from_dict(
            ml.fit(small, y.reindex(small.index), ml.Hyperparameters()).to_dict()
        )
        day = close.index[-1]
        t = time.perf_counter()
        X = features.features_for(day, close, volume, market=market)
        rows = explain.explain_rows(fitted, X)
        pred = pd.Series([r["prediction"] for r in rows], index=X.index)
        scores = ml.to_scores(pred)
        return {"seconds": time.perf_counter() - t, "rows": int(scores.size)}
    if name == "retrain":
        params = ml.Hyperparameters()
        t = time.perf_counter()
        X = features.compute_features(close, volume, market=market)
        y = labels.aligned(close, market, X.index)
        wf = ml.walk_forward(X, y, params)
        ml.fit(X, y, params)
        return {
            "seconds": time.perf_counter() - t,
            "rows": int(y.notna().sum()),
            "folds": len(wf.folds),
            "rank_ic": wf.model["rank_ic_mean"],
            "baseline_rank_ic": wf.baseline["rank_ic_mean"],
        }
    raise ValueError(name)


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qunex.settings")
    import django

    django.setup()


def seed_db(n_tickers: int, n_days: int) -> None:
    """Store the synthetic universe once (untimed); reused when already there."""
    _django()
    from decimal import Decimal

    from django.core.management import call_command

    from markets.models import DailyBar, Ticker

    call_command("migrate", verbosity=0)
    if Ticker.objects.filter(symbol__startswith="BN").count() == n_tickers:
        return
    from insights.scores.models import AIScore, ModelVersion

    AIScore.objects.all().delete()
    ModelVersion.objects.all().delete()
    Ticker.objects.all().delete()
    close, volume, market = synthetic(n_tickers, n_days)
    tickers = Ticker.objects.bulk_create(
        [Ticker(symbol=s, name=s, sector=f"Sector {i % 11}") for i, s in enumerate(close.columns)]
    )
    spy = Ticker.objects.create(symbol="SPY", asset_type=Ticker.AssetType.ETF)
    days = [d.date() for d in close.index]
    batch: list[DailyBar] = []

    def add(ticker, values, vols):
        for d, c, v in zip(days, values, vols, strict=True):
            p = Decimal(f"{c:.4f}")
            batch.append(
                DailyBar(
                    ticker=ticker,
                    date=d,
                    open=p,
                    high=p,
                    low=p,
                    close=p,
                    volume=int(v),
                    source="bench",
                )
            )
        if len(batch) >= 50_000:
            DailyBar.objects.bulk_create(batch, batch_size=5000)
            batch.clear()

    for i, t in enumerate(tickers):
        add(t, close.iloc[:, i].to_numpy(), volume.iloc[:, i].to_numpy())
    add(spy, market.to_numpy(), np.full(len(days), 1e6))
    DailyBar.objects.bulk_create(batch, batch_size=5000)


def stage_db(name: str) -> dict:
    _django()
    from insights.scores import services
    from insights.scores.models import AIScore

    if name == "retrain":
        t = time.perf_counter()
        result = services.model_retrain(force_promote=True)
        v = result.version
        return {
            "seconds": time.perf_counter() - t,
            "rows": v.rows,
            "folds": len(v.folds),
            "rank_ic": v.metrics.get("rank_ic_mean"),
            "baseline_rank_ic": v.baseline_metrics.get("rank_ic_mean"),
        }
    if name == "daily":
        AIScore.objects.all().delete()
        t = time.perf_counter()
        result = services.scores_update()
        return {"seconds": time.perf_counter() - t, "rows": result.counts["created"]}
    raise ValueError(name)


def child(args) -> None:
    out = stage_db(args.stage) if args.db else stage_pure(args.stage, args.tickers, args.days)
    out["peak_mb"] = peak_mb()
    out["cpu_s"] = cpu_seconds()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--db", action="store_true", help="End to end through DATABASE_URL.")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        child(args)
        return
    stages = ["features", "daily", "retrain"]
    if args.db:
        t = time.perf_counter()
        seed_db(args.tickers, args.days)
        print(
            f"seeded/checked {args.tickers} x {args.days} bars in {time.perf_counter() - t:.1f}s (untimed)"
        )
        stages = ["retrain", "daily"]  # scoring needs the promoted model
    results = {}
    for stage in stages:
        cmd = [
            sys.executable,
            __file__,
            "--stage",
            stage,
            "--tickers",
            str(args.tickers),
            "--days",
            str(args.days),
        ]
        if args.db:
            cmd.append("--db")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"stage {stage} failed")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[stage] = r
        goal = GOALS[stage]
        extra = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("seconds", "peak_mb"))
        verdict = (
            ""
            if goal is None
            else (" OK" if r["seconds"] < goal else f" OVER the {goal:.0f}s goal")
        )
        print(f"{stage:9s} {r['seconds']:8.2f}s  peak {r['peak_mb']:7.0f} MB  ({extra}){verdict}")
    worst = max(r["peak_mb"] for r in results.values())
    ok = all(GOALS[s] is None or r["seconds"] < GOALS[s] for s, r in results.items())
    ok = ok and worst < PEAK_GOAL_MB
    mode = "database" if args.db else "in memory"
    print(
        f"ai_score benchmark ({mode}, {args.tickers} tickers x {args.days} sessions): "
        + ", ".join(f"{s} {r['seconds']:.1f}s" for s, r in results.items())
        + f"; peak {worst:.0f} MB; goals {'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
