"""Each honesty rule of the AI score through the commands a workflow runs: an amendment filed
after D, an article at 23:30 UTC on D, a filing without an EDGAR header, an ETF import, a
delisted stock in training, and a replace after publication."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import time_machine
from django.core.management import call_command

from insights.insiders.models import InsiderFiling
from insights.scores import features, inputs, selectors, services
from insights.scores.models import AIScore
from markets.models import DailyBar, Ticker
from tests.insights.scores.factories import make_version, seed_market

pytestmark = pytest.mark.django_db
SEC = Path(__file__).resolve().parents[2] / "fixtures" / "sec"
NY = ZoneInfo("America/New_York")


def _submission(name: str, symbol: str, accepted: str, filed: str) -> str:
    """A full EDGAR submission text: the header with its acceptance time (New York) around
    the fixture's ownership XML, re-pointed at `symbol`."""
    xml = (SEC / name).read_text().replace("AAPL", symbol)
    return (
        f"<SEC-DOCUMENT>0000000000-26-000000.txt : {filed}\n"
        f"<SEC-HEADER>0000000000-26-000000.hdr.sgml : {filed}\n"
        f"<ACCEPTANCE-DATETIME>{accepted}\n"
        "CONFORMED SUBMISSION TYPE:\t4\n"
        f"FILED AS OF DATE:\t\t{filed}\n"
        "</SEC-HEADER>\n<DOCUMENT>\n<TYPE>4\n<TEXT>\n<XML>\n"
        f"{xml}\n</XML>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
    )


def _insider_feature(day: date, symbol: str) -> float:
    """insider_net_90 of `symbol` on `day`, as score_day computes it."""
    _, insider = inputs.event_inputs(start=day, end=day, symbols=[symbol])
    sessions = pd.DatetimeIndex([pd.Timestamp(day)])
    return float(
        features.event_features(sessions, [symbol], None, insider)["insider_net_90"].iloc[0, 0]
    )


@pytest.fixture
def autumn(db):
    """12 stocks with bars from Nov 2025 to mid-December 2026."""
    tickers, close = seed_market(n_tickers=12, n_days=290, seed=4, start="2025-11-03")
    assert close.index[-1] >= pd.Timestamp("2026-12-04")
    return tickers, close


def test_an_amendment_filed_after_d_leaves_ds_inputs_and_score_as_they_were(autumn, tmp_path):
    version = make_version(
        promoted=True, coefs={"insider_net_90": 0.01}, last_bar=date(2026, 11, 1)
    )
    first = tmp_path / "first"
    first.mkdir()
    # The original is accepted on Monday 23 Nov 2026 at 15:00 (before the close).
    (first / "0000950170-26-000101.txt").write_text(
        _submission("0000950170-26-000101.xml", "S000", "20261123150000", "20261123")
    )
    call_command("refresh_insider_trades", "--from-dir", str(first))
    day = date(2026, 11, 24)
    call_command("update_ai_scores", "--date", day.isoformat())
    stored = {s.ticker.symbol: s for s in AIScore.objects.select_related("ticker")}
    before = _insider_feature(day, "S000")
    assert before == pytest.approx(np.log10(1 + 100_000))  # 1,000 shares at $100
    # The 4/A is accepted on Wednesday 25 Nov at 17:30, after the close: it belongs to Friday
    # 27 Nov (Thanksgiving in between).
    second = tmp_path / "second"
    second.mkdir()
    (second / "0000950170-26-000102.txt").write_text(
        _submission("0000950170-26-000102.xml", "S000", "20261125173000", "20261125")
    )
    call_command("refresh_insider_trades", "--from-dir", str(second))
    original = InsiderFiling.objects.get(accession="0000950170-26-000101")
    assert original.amended_by is not None and original.transactions.count() == 1
    assert _insider_feature(day, "S000") == before
    assert _insider_feature(date(2026, 11, 25), "S000") == before
    amended = _insider_feature(date(2026, 11, 27), "S000")
    assert amended != before and amended == pytest.approx(np.log10(1 + 101_250))
    # Any later rescore of D gives what the evening run stored.
    again = services.score_day(day=day, version=version)
    for symbol, row in again.iterrows():
        assert row["prediction"] == stored[symbol].predicted_excess_return
        assert row["score"] == stored[symbol].score


def test_an_article_at_2330_utc_belongs_to_the_next_session(autumn):
    from insights.news.models import Article, ArticleAnalysis, TickerSentiment

    version = make_version(promoted=True, coefs={"sentiment_7": 0.01}, last_bar=date(2026, 11, 1))
    day = date(2026, 12, 2)  # a Wednesday
    stored = services.score_day(day=day, version=version)
    article = Article.objects.create(
        source="test",
        url="https://example.com/late",
        title="Late news",
        published_at=datetime(2026, 12, 2, 23, 30, tzinfo=UTC),
    )
    analysis = ArticleAnalysis.objects.create(
        article=article,
        kind="offline",
        status=ArticleAnalysis.Status.ANALYSED,
        sentiment=0.9,
        analysed_at=datetime(2026, 12, 2, 23, 31, tzinfo=UTC),
    )
    TickerSentiment.objects.create(
        analysis=analysis, ticker=Ticker.objects.get(symbol="S001"), sentiment=0.9
    )
    rows = inputs.sentiment_observations(start=day, end=day)
    assert rows == [("S001", date(2026, 12, 3), 0.9)]
    again = services.score_day(day=day, version=version)
    pd.testing.assert_frame_equal(stored, again)
    nxt = services.score_day(day=date(2026, 12, 3), version=version)
    (reason,) = [c for c in nxt.loc["S001", "contributions"] if c["feature"] == "sentiment_7"]
    assert reason["value"] == pytest.approx(0.9)


def test_a_filing_without_a_header_is_dated_by_its_signature_never_before_its_trade(tmp_path):
    xml = (SEC / "0000950170-26-000101.xml").read_text()
    signed = xml.replace(
        "</ownershipDocument>",
        "<ownerSignature><signatureName>Jane Doe</signatureName>"
        "<signatureDate>2026-12-01</signatureDate></ownerSignature></ownershipDocument>",
    )
    (tmp_path / "0000950170-26-000201.xml").write_text(signed)
    early = signed.replace("2026-12-01", "2026-11-01").replace("000101", "000202")
    (tmp_path / "0000950170-26-000202.xml").write_text(early.replace("0001000001", "0001000002"))
    call_command("refresh_insider_trades", "--from-dir", str(tmp_path))
    late = InsiderFiling.objects.get(accession="0000950170-26-000201")
    assert late.filed_on == date(2026, 12, 1)  # the signature, not the trade of 20 Nov
    assert late.known_at == datetime(2026, 12, 1, 23, 59, 59, tzinfo=NY)
    # A signature dated before the trade is not believed: the trade's day bounds it.
    bounded = InsiderFiling.objects.get(accession="0000950170-26-000202")
    assert bounded.filed_on == date(2026, 11, 20)
    # Known at the end of the day: it belongs to the next session.
    assert inputs.to_sessions([late.known_at]) == [date(2026, 12, 2)]


def test_an_etf_import_is_never_scored(tmp_path):
    header = "date,open,high,low,close,volume\n"
    rows = "".join(f"2024-01-{d:02d},10,11,9,10.5,1000\n" for d in (2, 3, 4))
    for symbol in ("SPY", "ACME", "FUND"):
        (tmp_path / f"{symbol}.csv").write_text(header + rows)
    call_command("import_prices", str(tmp_path / "SPY.csv"), str(tmp_path / "ACME.csv"))
    call_command("import_prices", str(tmp_path / "FUND.csv"), "--asset-type", "etf")
    types = dict(Ticker.objects.values_list("symbol", "asset_type"))
    assert types == {"SPY": "etf", "ACME": "stock", "FUND": "etf"}
    assert inputs.universe().symbols == ["ACME"]
    # An explicit type corrects a known one too, and a re-import keeps it.
    call_command("import_prices", str(tmp_path / "ACME.csv"), "--asset-type", "index")
    call_command("import_prices", str(tmp_path / "ACME.csv"))
    assert Ticker.objects.get(symbol="ACME").asset_type == "index"


def test_a_delisted_stock_trains_up_to_its_last_bar(db):
    tickers, close = seed_market(n_tickers=20, n_days=420, seed=6)
    gone = tickers[3]
    last = close.index[300].date()
    DailyBar.objects.filter(ticker=gone, date__gt=last).delete()
    gone.active = False
    gone.save()
    data = services.training_data()
    assert gone.symbol in data["universe"].symbols
    dates = data["X"].xs(gone.symbol, level="symbol").index
    assert dates.max().date() == last and len(dates) == 301
    labelled = data["y"].xs(gone.symbol, level="symbol").dropna()
    assert labelled.index.max() == close.index[280]  # its last label needs 20 more bars
    version = services.model_retrain(
        params=services.ml.Hyperparameters(min_train=120, test_size=40), force_promote=True
    ).version
    assert version.tickers == 20
    # Scoring today skips it (no bar), a backfill of a day it traded includes it.
    assert services.scores_update().counts["created"] == 19
    assert gone.symbol in services.score_day(day=last, version=version).index


def test_a_replace_after_publication_leaves_the_track_record_unchanged(db, capsys):
    _, close = seed_market(n_tickers=15, n_days=420, seed=3)
    day = close.index[-40].date()
    fast = services.ml.Hyperparameters(min_train=120, test_size=40)
    services.model_retrain(end=day - timedelta(days=1), params=fast, force_promote=True)
    evening = datetime.combine(day, datetime.min.time(), tzinfo=NY) + timedelta(hours=17)
    with time_machine.travel(evening, tick=False):
        call_command("update_ai_scores", "--date", day.isoformat())
    record = selectors.track_record()
    assert record["count"] == 15 and not record["late"]
    published = {s.pk: (s.score, s.created_at) for s in AIScore.objects.all()}
    # Weeks later a new model is trained on everything and the day is replaced.
    services.model_retrain(
        params=services.ml.Hyperparameters(min_train=120, test_size=40, ridge_lambda=2.0),
        force_promote=True,
    )
    call_command("update_ai_scores", "--date", day.isoformat(), "--replace")
    assert "replaced 15" in capsys.readouterr().out
    assert {
        s.pk: (s.score, s.created_at) for s in AIScore.objects.filter(pk__in=published)
    } == published
    assert AIScore.objects.current().exclude(pk__in=published).count() == 15
    after = selectors.track_record()
    assert after["by_score"] == record["by_score"] and after["count"] == 15
