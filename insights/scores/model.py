"""The AI-score model: a ridge regression on standardised, clipped, median-imputed features
with a missing-value indicator per feature, trained on the pooled history of the universe.

Pure numpy/pandas/scikit-learn (no Django). Why this model:

* it is exact to explain: the prediction is `intercept + sum(coef_k * z_k)` over standardised
  design columns z, and the model is saved as plain numbers (JSON), so loading a model never
  runs code;
* missing values (no news, no insider filings, a young listing) are imputed with the training
  median AND flagged by an indicator column, so "missing" carries its own weight and is never
  read as zero;
* it is deterministic for a seed (the seed only picks the row sample when the history is
  larger than `max_train_rows`).

Walk-forward validation: expanding training window, test blocks of `test_size` sessions, and a
gap of `gap` (= label horizon, 20) sessions between the last training day and the first test
day so no training label overlaps the test period.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insights.scores.features import FEATURES
from insights.scores.labels import HORIZON

LABELS = {
    1: "Strong sell",
    2: "Strong sell",
    3: "Sell",
    4: "Sell",
    5: "Hold",
    6: "Hold",
    7: "Buy",
    8: "Buy",
    9: "Strong buy",
    10: "Strong buy",
}


@dataclass(frozen=True)
class Hyperparameters:
    ridge_lambda: float = 0.01  # ridge penalty per training row (alpha = lambda * rows)
    clip_quantile: float = 0.01  # features and labels clipped to [q, 1 - q] of training
    max_train_rows: int = 600_000  # larger histories are sampled (seeded) down to this
    seed: int = 7
    test_size: int = 63  # sessions per walk-forward test block (a quarter)
    gap: int = HORIZON  # sessions between training and test
    min_train: int = 252  # sessions of labels before the first test block

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hyperparameters:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ScoreModel:
    """A fitted model as plain numbers; `to_dict`/`from_dict` round-trip through JSON."""

    features: list[str]
    medians: list[float]
    lower: list[float]
    upper: list[float]
    means: list[float]  # of the 2F design columns: F clipped features, then F indicators
    scales: list[float]
    coefs: list[float]
    intercept: float
    kind: str = "ridge-v1"
    extra: dict[str, Any] = field(default_factory=dict)

    # -- the design matrix --------------------------------------------------------------
    def design(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Standardised design columns z (rows x 2F)."""
        raw = _matrix(X, self.features)
        missing = np.isnan(raw)
        filled = np.where(missing, np.asarray(self.medians), raw)
        clipped = np.clip(filled, np.asarray(self.lower), np.asarray(self.upper))
        cols = np.hstack([clipped, missing.astype(float)])
        return (cols - np.asarray(self.means)) / np.asarray(self.scales)

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.design(X) @ np.asarray(self.coefs) + self.intercept

    @property
    def baseline(self) -> float:
        """The prediction for a row at the training means (z = 0): what contributions explain
        the distance from."""
        return float(self.intercept)

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """rows x F: coef * z of each feature plus its missing indicator's. Each row sums to
        predict(row) - baseline (up to float rounding)."""
        z = self.design(X) * np.asarray(self.coefs)
        n = len(self.features)
        return z[:, :n] + z[:, n:]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreModel:
        model = cls(**data)
        width = 2 * len(model.features)
        arrays = (model.means, model.scales, model.coefs)
        if len(model.medians) != len(model.features) or any(len(a) != width for a in arrays):
            raise ValueError("Model artifact has inconsistent array lengths.")
        if not all(math.isfinite(v) for v in [*model.coefs, *model.means, model.intercept]):
            raise ValueError("Model artifact holds non-finite numbers.")
        return model


def _matrix(X: pd.DataFrame | np.ndarray, features: list[str]) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.reindex(columns=features).to_numpy(dtype=float)
    return np.asarray(X, dtype=float)


def fit(X: pd.DataFrame, y: pd.Series | np.ndarray, params: Hyperparameters) -> ScoreModel:
    """Fit on rows of X (columns FEATURES) with labels y; NaN labels are dropped."""
    features = list(FEATURES) if not isinstance(X, pd.DataFrame) else list(X.columns)
    raw = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    return fit_rows(raw, np.asarray(y, dtype=float), params, features)


def fit_rows(
    raw: np.ndarray,
    y: np.ndarray,
    params: Hyperparameters,
    features: list[str],
    rows: np.ndarray | None = None,
) -> ScoreModel:
    """Fit on `rows` (positions; default all) of the feature matrix `raw` (float32 or 64).

    1. Keep the labelled rows, then sample down to `max_train_rows` with the seeded
       generator (sorted, so order is stable) BEFORE copying: a fold never copies the
       whole history.
    2. Per feature: training median for imputation, [q, 1-q] quantiles for clipping.
    3. Standardise the 2F design columns; constant columns get coefficient 0.
    4. Ridge with alpha = ridge_lambda * rows on labels clipped to their [q, 1-q] quantiles.
    """
    rows = np.arange(len(y)) if rows is None else np.asarray(rows)
    rows = rows[np.isfinite(y[rows])]
    if len(rows) < 50:
        raise ValueError(f"Only {len(rows)} labelled rows: a model needs at least 50.")
    if len(rows) > params.max_train_rows:
        rng = np.random.default_rng(params.seed)
        pick = np.sort(rng.choice(len(rows), size=params.max_train_rows, replace=False))
        rows = rows[pick]
    raw = np.asarray(raw[rows], dtype=float)
    y = y[rows]
    q = params.clip_quantile
    with np.errstate(all="ignore"), _quiet():
        medians = np.nanmedian(raw, axis=0)
        lower = np.nanquantile(raw, q, axis=0)
        upper = np.nanquantile(raw, 1 - q, axis=0)
    medians, lower, upper = (np.nan_to_num(a, nan=0.0) for a in (medians, lower, upper))
    missing = np.isnan(raw)
    cols = np.hstack(
        [np.clip(np.where(missing, medians, raw), lower, upper), missing.astype(float)]
    )
    means = cols.mean(axis=0)
    scales = cols.std(axis=0)
    varying = scales > 1e-12
    scales = np.where(varying, scales, 1.0)
    z = (cols - means) / scales
    y_clipped = np.clip(y, *np.quantile(y, [q, 1 - q]))
    coefs = np.zeros(cols.shape[1])
    if varying.any():
        from sklearn.linear_model import Ridge  # training only: web workers never load sklearn

        ridge = Ridge(alpha=params.ridge_lambda * len(y), solver="cholesky")
        ridge.fit(z[:, varying], y_clipped)
        coefs[varying] = ridge.coef_
        intercept = float(ridge.intercept_)
    else:
        intercept = float(y_clipped.mean())
    return ScoreModel(
        features=features,
        medians=medians.tolist(),
        lower=lower.tolist(),
        upper=upper.tolist(),
        means=means.tolist(),
        scales=scales.tolist(),
        coefs=coefs.tolist(),
        intercept=intercept,
        extra={"train_rows": len(y)},
    )


class _quiet:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


# -- scores ------------------------------------------------------------------------------


def to_scores(predictions: pd.Series) -> pd.Series:
    """1-10 from one day's cross-sectional rank: the top 10 % of predictions get 10.

    score = ceil(10 * rank / n) with average ranks for ties, so with n stocks each score
    holds about n/10 of them.
    """
    pct = predictions.rank(method="average", pct=True)
    return np.ceil(pct * 10).clip(1, 10).astype(int)


def label_for(score: int) -> str:
    return LABELS[int(score)]


# -- metrics -----------------------------------------------------------------------------


def momentum_baseline(
    X: pd.DataFrame | np.ndarray, features: list[str] | None = None
) -> np.ndarray:
    """The baseline forecast: 12-1 momentum, the 12-month return skipping the last month."""
    if isinstance(X, pd.DataFrame):
        ret_252, ret_20 = X["ret_252"].to_numpy(float), X["ret_20"].to_numpy(float)
    else:
        names = features or list(FEATURES)
        ret_252 = np.asarray(X[:, names.index("ret_252")], dtype=float)
        ret_20 = np.asarray(X[:, names.index("ret_20")], dtype=float)
    return (1.0 + ret_252) / (1.0 + ret_20) - 1.0


def daily_metrics(dates: np.ndarray, pred: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Per test day: rank IC (Spearman), hit rate, top-minus-bottom decile spread, names.

    Missing predictions take the day's median (neutral). Days with fewer than 10 names get no
    decile spread.
    """
    df = pd.DataFrame({"date": dates, "p": pred, "y": y})
    df = df[np.isfinite(df["y"])]
    g = df.groupby("date", sort=True)
    df["p"] = df["p"].fillna(g["p"].transform("median")).fillna(0.0)
    g = df.groupby("date", sort=True)
    rp = g["p"].rank(method="average")
    ry = g["y"].rank(method="average")
    df["rp"] = rp - rp.groupby(df["date"]).transform("mean")
    df["ry"] = ry - ry.groupby(df["date"]).transform("mean")
    df["rpy"], df["rpp"], df["ryy"] = df["rp"] * df["ry"], df["rp"] ** 2, df["ry"] ** 2
    sums = df.groupby("date", sort=True)[["rpy", "rpp", "ryy"]].sum()
    with np.errstate(all="ignore"):
        ic = sums["rpy"] / np.sqrt(sums["rpp"] * sums["ryy"])
    sp = np.sign(df["p"] - g["p"].transform("median"))
    sy = np.sign(df["y"] - g["y"].transform("median"))
    both = (sp != 0) & (sy != 0)
    hit = (sp == sy)[both].groupby(df.loc[both, "date"]).mean()
    n = g["p"].size()
    decile = np.minimum(np.floor((g["p"].rank(method="first", pct=True) - 1e-12) * 10), 9)
    df["decile"] = decile.astype(int)
    top = df[df["decile"] == 9].groupby("date")["y"].mean()
    bottom = df[df["decile"] == 0].groupby("date")["y"].mean()
    spread = (top - bottom).where(n >= 10)
    return pd.DataFrame({"ic": ic, "hit": hit, "spread": spread, "names": n})


def _tstat(sample: pd.Series) -> float:
    if len(sample) >= 3 and sample.std(ddof=1) > 0:
        return float(sample.mean() / (sample.std(ddof=1) / math.sqrt(len(sample))))
    return float("nan")


def sample_days(ics: list[pd.Series], horizon: int = HORIZON) -> pd.DatetimeIndex:
    """The non-overlapping sample every comparison uses: of the test days on which every
    series in `ics` has an IC, every `horizon`-th (neighbouring days' 20-session labels
    overlap, so only these days are independent)."""
    common = None
    for ic in ics:
        days = ic.dropna().index
        common = days if common is None else common.intersection(days)
    common = pd.DatetimeIndex([] if common is None else common).sort_values()
    return common[::horizon]


def summarise(
    daily: pd.DataFrame, horizon: int = HORIZON, sample: pd.DatetimeIndex | None = None
) -> dict[str, Any]:
    """Mean rank IC and its t-stat, both over the same non-overlapping sample of test days
    (`sample`, default every `horizon`-th day with an IC), plus the mean IC over every test
    day, hit rate and decile spread (over every test day)."""
    ic = daily["ic"].dropna()
    sample = ic.index[::horizon] if sample is None else sample
    values = ic.reindex(sample).dropna()
    return {
        "rank_ic_mean": _num(values.mean()) if len(values) else None,
        "rank_ic_tstat": _num(_tstat(values)),
        "rank_ic_mean_all_days": _num(ic.mean()) if len(ic) else None,
        "hit_rate": _num(daily["hit"].mean()),
        "decile_spread": _num(daily["spread"].mean()),
        "test_days": len(ic),
        "independent_days": len(values),
    }


def paired(a: pd.Series, b: pd.Series, sample: pd.DatetimeIndex) -> dict[str, Any]:
    """How much IC series `a` beats `b` by on the sample days: mean difference and its
    t-stat (paired, so the market's good and bad months cancel)."""
    diff = (a.reindex(sample) - b.reindex(sample)).dropna()
    return {
        "ic_gain": _num(diff.mean()) if len(diff) else None,
        "tstat": _num(_tstat(diff)),
        "days": len(diff),
    }


def promotion_verdict(
    comparison: dict[str, Any], *, margin: float, min_tstat: float
) -> tuple[bool, str]:
    """Promote only when the candidate's own IC is significant AND it beats the momentum
    baseline AND (when there is one to compare) the incumbent, each by at least `margin`
    with a paired t-stat of at least `min_tstat`, all on the same test days."""
    model = comparison.get("model") or {}
    ic, t = model.get("rank_ic_mean"), model.get("rank_ic_tstat")
    if ic is None or t is None or t < min_tstat or ic <= 0:
        return False, (
            f"not promoted: its rank IC {_fmt(ic)} (t {_fmt(t, 2)}) is not significant "
            f"(needs t >= {min_tstat:g})"
        )
    checks = [("the momentum baseline", comparison.get("vs_baseline"))]
    if comparison.get("vs_incumbent") is not None:
        checks.append((f"v{comparison.get('incumbent')}", comparison["vs_incumbent"]))
    for name, test in checks:
        gain, tt = (test or {}).get("ic_gain"), (test or {}).get("tstat")
        if gain is None or tt is None or gain < margin or tt < min_tstat:
            return False, (
                f"not promoted: beats {name} by {_fmt(gain)} rank IC (t {_fmt(tt, 2)}) on "
                f"the same test days; needs {margin:g} and t >= {min_tstat:g}"
            )
    beaten = " and ".join(
        f"{n} by {_fmt(c['ic_gain'])} (t {_fmt(c['tstat'], 2)})" for n, c in checks
    )
    return True, f"promoted: rank IC {_fmt(ic)} (t {_fmt(t, 2)}) beats {beaten}"


def _fmt(value: Any, places: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


def _num(value: Any) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


@dataclass
class WalkForward:
    model: dict[str, Any]
    baseline: dict[str, Any]
    folds: list[dict[str, Any]]
    daily: pd.DataFrame  # per test day: ic, hit, spread, names (model) + base_ic
    sample: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "baseline": self.baseline, "folds": self.folds}

    @property
    def test_window(self) -> tuple[str, str] | None:
        if not self.folds:
            return None
        return self.folds[0]["test_start"], self.folds[-1]["test_end"]


def walk_forward(
    X: pd.DataFrame,
    y: pd.Series,
    params: Hyperparameters,
    *,
    features: list[str] | None = None,
    split: Hyperparameters | None = None,
) -> WalkForward:
    """Expanding-window walk-forward over the sessions of X (index (date, symbol)).

    For test block [s, s + test_size): train on sessions [0, s - gap), so the last training
    label (which looks `gap` sessions ahead) ends before the first test day. `split` (default
    `params`) sets the blocks, so an incumbent's method can be re-run on a candidate's folds;
    `features` (default X's columns) the columns a method uses. The feature matrix is read
    once; each fold samples its training rows before copying them.
    """
    split = split or params
    cols = list(features or X.columns)
    yv = y.reindex(X.index).to_numpy(dtype=float)
    labelled = np.isfinite(yv)
    dates = X.index.get_level_values("date")
    sessions = np.unique(dates[labelled])
    date_pos = pd.Index(sessions).get_indexer(dates)
    start = split.min_train + split.gap
    if len(sessions) < start + 1:
        raise ValueError(
            f"Walk-forward needs more than {start} labelled sessions; there are {len(sessions)}."
        )
    raw = X[cols].to_numpy() if cols != list(X.columns) else X.to_numpy()
    preds = np.full(len(X), np.nan)
    folds = []
    for s in range(start, len(sessions), split.test_size):
        e = min(s + split.test_size, len(sessions))
        train = np.flatnonzero((date_pos >= 0) & (date_pos < s - split.gap) & labelled)
        test = np.flatnonzero((date_pos >= s) & (date_pos < e) & labelled)
        model = fit_rows(raw, yv, params, cols, rows=train)
        preds[test] = model.predict(raw[test])
        folds.append(
            {
                "train_end": str(pd.Timestamp(sessions[s - split.gap - 1]).date()),
                "test_start": str(pd.Timestamp(sessions[s]).date()),
                "test_end": str(pd.Timestamp(sessions[e - 1]).date()),
            }
        )
    tested = np.flatnonzero(np.isfinite(preds))
    yt = yv[tested]
    dt = dates[tested].to_numpy()
    daily = daily_metrics(dt, preds[tested], yt)
    momentum = momentum_baseline(X[["ret_252", "ret_20"]].to_numpy()[tested], ["ret_252", "ret_20"])
    base_daily = daily_metrics(dt, momentum, yt)
    daily["base_ic"] = base_daily["ic"]
    sample = sample_days([daily["ic"], daily["base_ic"]], split.gap)
    for fold in folds:
        mask = (daily.index >= pd.Timestamp(fold["test_start"])) & (
            daily.index <= pd.Timestamp(fold["test_end"])
        )
        fold["rank_ic_mean"] = _num(daily.loc[mask, "ic"].mean())
        fold["baseline_rank_ic_mean"] = _num(daily.loc[mask, "base_ic"].mean())
    return WalkForward(
        model=summarise(daily, split.gap, sample),
        baseline=summarise(base_daily, split.gap, sample),
        folds=folds,
        daily=daily,
        sample=sample,
    )


def fingerprint(close: pd.DataFrame) -> str:
    """sha256 of the symbols, sessions and closes (rounded to 1e-6) a model was trained on."""
    h = hashlib.sha256()
    h.update("|".join(map(str, close.columns)).encode())
    h.update(np.asarray(close.index.values, dtype="datetime64[D]").astype("int64").tobytes())
    values = np.round(close.to_numpy(dtype=float), 6)
    h.update(np.nan_to_num(values, nan=-1.0).tobytes())
    return h.hexdigest()
