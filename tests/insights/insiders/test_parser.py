"""Form 4 parsing: the real EDGAR filings in ../shared/data/sec (contract, skipped when the
folder is absent), our own fixtures (a code-P buy, a 4/A), and unsafe XML refused."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from insights.insiders.parser import FilingParseError, parse_form4

SHARED_SEC = Path(settings.BASE_DIR).parent / "shared" / "data" / "sec"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sec"
REAL = sorted(SHARED_SEC.glob("form[45]_*.xml")) if SHARED_SEC.is_dir() else []


def _expected(path: Path) -> list[dict]:
    """Each transaction row as the XML states it, read with the stdlib parser (trusted,
    recorded file), independently of the code under test."""
    root = ET.parse(path).getroot()  # noqa: S314 (a recorded EDGAR file, not user input)
    rows = []
    for tag in (
        "nonDerivativeTable/nonDerivativeTransaction",
        "derivativeTable/derivativeTransaction",
    ):
        for node in root.iterfind(tag):

            def value(p, node=node):
                found = node.find(p + "/value")
                return (
                    None if found is None or not (found.text or "").strip() else found.text.strip()
                )

            rows.append(
                {
                    "code": node.findtext("transactionCoding/transactionCode").strip(),
                    "shares": Decimal(value("transactionAmounts/transactionShares")),
                    "price": (
                        Decimal(p)
                        if (p := value("transactionAmounts/transactionPricePerShare"))
                        else None
                    ),
                    "after": (
                        Decimal(a)
                        if (a := value("postTransactionAmounts/sharesOwnedFollowingTransaction"))
                        else None
                    ),
                    "acquired": value("transactionAmounts/transactionAcquiredDisposedCode") == "A",
                }
            )
    return rows


@pytest.mark.skipif(not REAL, reason="../shared/data/sec is not here (only in the project's CI)")
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_filings_match_their_xml(path):
    record = parse_form4(path.read_bytes())
    expected = _expected(path)
    assert record.skipped == ()
    got = [
        {
            "code": t.code,
            "shares": t.shares,
            "price": t.price,
            "after": t.shares_after,
            "acquired": t.acquired,
        }
        for t in record.transactions
    ]
    assert got == expected
    assert record.issuer_symbol and record.insider_name


@pytest.mark.skipif(not REAL, reason="../shared/data/sec is not here (only in the project's CI)")
def test_real_filings_cover_the_codes_and_tables_traders_see():
    codes, derivative, footnoted = set(), 0, 0
    for path in REAL:
        record = parse_form4(path.read_bytes())
        codes |= {t.code for t in record.transactions}
        derivative += sum(t.table == "d" for t in record.transactions)
        footnoted += sum(bool(t.footnotes) for t in record.transactions)
    assert {"S", "M", "A", "F", "G"} <= codes
    assert derivative >= 3 and footnoted >= 5
    snow = parse_form4(
        (SHARED_SEC / "form4_SNOW_2022-12-13_Scarpelli_M_S_derivative.xml").read_bytes()
    )
    option = next(t for t in snow.transactions if t.table == "d")
    assert option.underlying_title == "Class A Common Stock"
    assert option.underlying_shares == Decimal("200000.0")
    assert option.exercise_price == Decimal("8.88")
    assert any("weighted-average price" in note for t in snow.transactions for note in t.footnotes)


@pytest.mark.skipif(not SHARED_SEC.is_dir(), reason="../shared/data/sec is not here")
def test_form3_is_not_a_form4():
    with pytest.raises(FilingParseError, match="form 3"):
        parse_form4((SHARED_SEC / "form3_SNOW_Garrett.xml").read_bytes())


def test_own_code_p_buy_with_footnote_and_value():
    record = parse_form4((FIXTURES / "0000950170-26-000101.xml").read_bytes())
    (buy,) = record.transactions
    assert (record.form, record.issuer_symbol, record.is_director) == ("4", "AAPL", True)
    assert (buy.code, buy.acquired, buy.shares, buy.price, buy.shares_after) == (
        "P",
        True,
        Decimal("1000"),
        Decimal("100.00"),
        Decimal("5000"),
    )
    assert buy.value == Decimal("100000.00")
    assert buy.footnotes == ("Weighted average price; purchases ranged from $99.50 to $100.50.",)
    assert record.rule_10b5_1 is False
    assert parse_form4((FIXTURES / "0000950170-26-000102.xml").read_bytes()).form == "4/A"


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_unsafe_xml_is_refused(name):
    with pytest.raises(FilingParseError, match="unsafe XML refused"):
        parse_form4((FIXTURES / name).read_bytes())


def test_submission_text_file_and_bad_rows():
    xml = (FIXTURES / "0000950170-26-000101.xml").read_bytes()
    wrapped = (
        b"<SEC-DOCUMENT>\nFILED AS OF DATE: 20261121\n<XML>\n" + xml + b"\n</XML>\n</SEC-DOCUMENT>"
    )
    assert len(parse_form4(wrapped).transactions) == 1
    broken = xml.replace(b"<value>1000</value>", b"<value>lots</value>")
    record = parse_form4(broken)
    assert record.transactions == () and "shares is not a number" in record.skipped[0]
    no_code = xml.replace(
        b"<transactionCode>P</transactionCode>", b"<transactionCode></transactionCode>"
    )
    record = parse_form4(no_code)
    assert record.transactions == () and "missing date, code or shares" in record.skipped[0]
    with pytest.raises(FilingParseError, match="not well-formed"):
        parse_form4(b"<ownershipDocument><documentType>4")
    with pytest.raises(FilingParseError, match="not an ownershipDocument"):
        parse_form4(b"<html><body>Too many requests</body></html>")
