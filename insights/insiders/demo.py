"""Demo insider trades: made-up Form 4 filings of the last few weeks, stored through
`filing_store` like parsed EDGAR filings (amendment rule included) with `source="demo"`:

- a cluster buy: three Disney directors buying on the open market within ten days;
- a large first-time open-market buy (PepsiCo) and an ordinary one (Caterpillar);
- open-market sales: an NVIDIA officer under a Rule 10b5-1 plan, an Apple officer;
- an amendment: a Microsoft officer's sale filed with a wrong price, then a 4/A correcting it
  (the original and its rows are kept, marked amended_by the 4/A: pages show the amended
  view, features count the original's rows until the 4/A was filed);
- derivative rows: an option exercise (the derivative row, the shares it delivered and the
  shares withheld for tax).

Accessions are fixed ("DEMO-…"), so seeding again changes nothing. `insiders_demo_release`
deletes them once a real filing is stored (refresh_insider_trades).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from insights.insiders.models import InsiderFiling
from insights.insiders.parser import FilingRecord, TransactionRecord
from insights.insiders.services import filing_store

DEMO_SOURCE = "demo"
ISSUERS = {  # symbol: (made-up CIK, name)
    "DIS": ("9900000001", "The Walt Disney Company"),
    "PEP": ("9900000002", "PepsiCo, Inc."),
    "CAT": ("9900000003", "Caterpillar Inc."),
    "NVDA": ("9900000004", "NVIDIA Corporation"),
    "AAPL": ("9900000005", "Apple Inc."),
    "MSFT": ("9900000006", "Microsoft Corporation"),
}
COMMON = "Common Stock"


def _trade(
    row: int,
    day: date,
    code: str,
    shares: str,
    price: str | None,
    after: str,
    *,
    table: str = "nd",
    title: str = COMMON,
    **extra,
) -> TransactionRecord:
    return TransactionRecord(
        table=table,
        row=row,
        security_title=title,
        trade_date=day,
        code=code,
        acquired=code in {"P", "M", "A"},
        shares=Decimal(shares),
        price=Decimal(price) if price is not None else None,
        shares_after=Decimal(after),
        direct=True,
        **extra,
    )


def _filing(
    symbol: str,
    insider: tuple[str, str],
    role: dict,
    trades: list[TransactionRecord],
    *,
    form: str = "4",
    plan: bool | None = False,
) -> FilingRecord:
    cik, name = ISSUERS[symbol]
    return FilingRecord(
        form=form,
        period=min(t.trade_date for t in trades),
        issuer_cik=cik,
        issuer_name=name,
        issuer_symbol=symbol,
        insider_cik=insider[0],
        insider_name=insider[1],
        is_director=role.get("director", False),
        is_officer="officer" in role,
        officer_title=role.get("officer", ""),
        is_ten_percent_owner=False,
        is_other=False,
        other_text="",
        rule_10b5_1=plan,
        transactions=tuple(trades),
    )


def demo_filings(*, today: date) -> list[tuple[str, date, FilingRecord]]:
    """(accession, filed on, record) in filing order: an original before its amendment."""

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    director = {"director": True}
    return [
        # The cluster: three directors, open-market purchases within ten days.
        ("DEMO-DIS-1", ago(12), _filing("DIS", ("9910000001", "Demo Director Ada Park"), director, [_trade(1, ago(14), "P", "5000", "98.40", "12000")])),
        ("DEMO-DIS-2", ago(9), _filing("DIS", ("9910000002", "Demo Director Ben Ortiz"), director, [_trade(1, ago(11), "P", "2500", "97.10", "2500")])),
        ("DEMO-DIS-3", ago(6), _filing("DIS", ("9910000003", "Demo Director Cleo Hart"), director, [_trade(1, ago(8), "P", "10000", "96.75", "41000")])),
        # A first position (a large buy) and an ordinary buy.
        ("DEMO-PEP-1", ago(4), _filing("PEP", ("9910000004", "Demo Director Dev Rao"), director, [_trade(1, ago(6), "P", "3000", "141.20", "3000")])),
        ("DEMO-CAT-1", ago(15), _filing("CAT", ("9910000005", "Demo Officer Eve Lind"), {"officer": "Chief Financial Officer"}, [_trade(1, ago(17), "P", "400", "352.00", "21400")])),
        # Sales: one under a 10b5-1 plan.
        ("DEMO-NVDA-1", ago(3), _filing("NVDA", ("9910000006", "Demo Officer Finn Cole"), {"officer": "President and CEO"}, [_trade(1, ago(5), "S", "120000", "148.90", "74000000"), _trade(2, ago(5), "S", "80000", "149.60", "73920000")], plan=True)),
        ("DEMO-AAPL-2", ago(2), _filing("AAPL", ("9910000007", "Demo Officer Gia Moss"), {"officer": "Senior Vice President"}, [_trade(1, ago(4), "S", "15000", "209.30", "110000")])),
        # An option exercise: the derivative row, the shares it delivered, tax withholding.
        ("DEMO-AAPL-1", ago(8), _filing("AAPL", ("9910000007", "Demo Officer Gia Moss"), {"officer": "Senior Vice President"}, [
            _trade(1, ago(10), "M", "30000", "64.25", "155000"),
            _trade(2, ago(10), "F", "12000", "206.50", "143000"),
            _trade(1, ago(10), "M", "30000", None, "0", table="d", title="Employee Stock Option (right to buy)", underlying_title=COMMON, underlying_shares=Decimal("30000"), exercise_price=Decimal("64.25")),
        ])),
        # A sale filed with a wrong price, then the amendment correcting it.
        ("DEMO-MSFT-1", ago(11), _filing("MSFT", ("9910000008", "Demo Officer Hal Wren"), {"officer": "Chief Operating Officer"}, [_trade(1, ago(13), "S", "8000", "4.88", "52000")])),
        ("DEMO-MSFT-1A", ago(7), _filing("MSFT", ("9910000008", "Demo Officer Hal Wren"), {"officer": "Chief Operating Officer"}, [_trade(1, ago(13), "S", "8000", "488.00", "52000")], form="4/A")),
    ]  # fmt: skip


def seed(*, today: date) -> str:
    if InsiderFiling.objects.exclude(source=DEMO_SOURCE).exists():
        return "Insider trades: real filings are stored, so no demo trades."
    created = rows = 0
    with transaction.atomic():
        for accession, filed_on, record in demo_filings(today=today):
            if InsiderFiling.objects.filter(accession=accession).exists():
                continue
            result = filing_store(
                record=record, accession=accession, filed_on=filed_on, source=DEMO_SOURCE
            )
            created += int(result.created)
            rows += result.transactions
    return f"Insider trades: {created} demo filings added ({rows} rows)."


def insiders_demo_release() -> int:
    """Delete the demo filings (and their rows): real filings have arrived."""
    deleted = InsiderFiling.objects.filter(source=DEMO_SOURCE).count()
    InsiderFiling.objects.filter(source=DEMO_SOURCE).delete()
    return deleted
