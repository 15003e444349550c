"""Parse a Form 4 / 4/A `ownershipDocument` into plain records.

XML from outside is parsed with defusedxml and any DTD refused, so external entities
(XXE) and entity expansion (billion laughs) never run. A full submission text file (.txt with
an <XML> block) is accepted too: the block is taken out first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# Form 5 (annual, e.g. gifts) shares the schema and is read too.
FORMS = {"4", "4/A", "5", "5/A"}
_XML_BLOCK = re.compile(rb"<XML>\s*(.*?)\s*</XML>", re.DOTALL | re.IGNORECASE)


class FilingParseError(ValueError):
    """The document is not a Form 4 we can read (or is unsafe); the message says why."""


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    table: str  # "nd" or "d"
    row: int
    security_title: str
    trade_date: date
    code: str
    acquired: bool
    shares: Decimal
    price: Decimal | None
    shares_after: Decimal | None
    direct: bool
    ownership_nature: str = ""
    underlying_title: str = ""
    underlying_shares: Decimal | None = None
    exercise_price: Decimal | None = None
    footnotes: tuple[str, ...] = ()

    @property
    def value(self) -> Decimal | None:
        if self.price is None:
            return None
        return (self.shares * self.price).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class FilingRecord:
    form: str
    period: date | None
    issuer_cik: str
    issuer_name: str
    issuer_symbol: str
    insider_cik: str
    insider_name: str
    is_director: bool
    is_officer: bool
    officer_title: str
    is_ten_percent_owner: bool
    is_other: bool
    other_text: str
    rule_10b5_1: bool | None
    transactions: tuple[TransactionRecord, ...] = field(default=())
    skipped: tuple[str, ...] = field(default=())
    signature_date: date | None = None  # ownerSignature/signatureDate (latest when several)

    @property
    def last_trade(self) -> date | None:
        return max((t.trade_date for t in self.transactions), default=None)


def _text(node: Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _value(node: Element, path: str) -> str:
    return _text(node, f"{path}/value")


def _decimal(raw: str, what: str) -> Decimal | None:
    if not raw:
        return None
    try:
        number = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise FilingParseError(f"{what} is not a number: {raw[:40]!r}") from None
    if not number.is_finite():
        raise FilingParseError(f"{what} is not a finite number: {raw[:40]!r}")
    return number


def _flag(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true"}


def _footnote_ids(node: Element) -> list[str]:
    return [f.get("id", "") for f in node.iter("footnoteId") if f.get("id")]


def load_xml(data: bytes) -> Element:
    block = _XML_BLOCK.search(data)
    if block:
        data = block.group(1)
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FilingParseError(f"unsafe XML refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise FilingParseError(f"not well-formed XML ({exc})") from exc


def parse_form4(data: bytes) -> FilingRecord:
    """The filing and each of its transactions. A row that cannot be read (no date, code or
    shares) is left out and named in `skipped`; a document that is not a Form 4 raises."""
    root = load_xml(data)
    if root.tag != "ownershipDocument":
        raise FilingParseError(f"not an ownershipDocument (root is <{root.tag[:40]}>)")
    form = _text(root, "documentType")
    if form not in FORMS:
        raise FilingParseError(f"form {form or '?'} is not a Form 4 or 5 (or amendment)")
    owners = root.findall("reportingOwner")
    if not owners:
        raise FilingParseError("no reportingOwner")
    issuer = root.find("issuer")
    footnotes = {
        f.get("id", ""): " ".join("".join(f.itertext()).split())
        for f in root.iterfind("footnotes/footnote")
    }
    rel = [o.find("reportingOwnerRelationship") for o in owners]
    period_raw = _text(root, "periodOfReport")
    try:
        period = date.fromisoformat(period_raw) if period_raw else None
    except ValueError:
        raise FilingParseError(f"periodOfReport is not a date: {period_raw[:20]!r}") from None
    b10 = _text(root, "aff10b5One")
    signed = []
    for node in root.iterfind("ownerSignature/signatureDate"):
        try:
            signed.append(date.fromisoformat(" ".join((node.text or "").split())[:10]))
        except ValueError:
            continue  # an unreadable signature date is no date: the trade date bounds it
    transactions: list[TransactionRecord] = []
    skipped: list[str] = []
    for table, tag in (
        ("nd", "nonDerivativeTable/nonDerivativeTransaction"),
        ("d", "derivativeTable/derivativeTransaction"),
    ):
        for row, node in enumerate(root.iterfind(tag)):
            try:
                transactions.append(_transaction(node, table, row, footnotes))
            except FilingParseError as exc:
                skipped.append(
                    f"{'derivative' if table == 'd' else 'non-derivative'} row {row + 1}: {exc}"
                )
    return FilingRecord(
        form=form,
        period=period,
        issuer_cik=_text(issuer, "issuerCik").lstrip("0")[:10] or "0",
        issuer_name=_text(issuer, "issuerName")[:200],
        issuer_symbol=_text(issuer, "issuerTradingSymbol").upper()[:12],
        insider_cik=_text(owners[0], "reportingOwnerId/rptOwnerCik").lstrip("0")[:10] or "0",
        insider_name="; ".join(_text(o, "reportingOwnerId/rptOwnerName") for o in owners)[:300],
        is_director=any(_flag(_text(r, "isDirector")) for r in rel),
        is_officer=any(_flag(_text(r, "isOfficer")) for r in rel),
        officer_title="; ".join(t for r in rel if (t := _text(r, "officerTitle")))[:200],
        is_ten_percent_owner=any(_flag(_text(r, "isTenPercentOwner")) for r in rel),
        is_other=any(_flag(_text(r, "isOther")) for r in rel),
        other_text="; ".join(t for r in rel if (t := _text(r, "otherText")))[:200],
        rule_10b5_1=_flag(b10) if b10 else None,
        transactions=tuple(transactions),
        skipped=tuple(skipped),
        signature_date=max(signed, default=None),
    )


def _transaction(
    node: Element, table: str, row: int, footnotes: dict[str, str]
) -> TransactionRecord:
    raw_date = _value(node, "transactionDate")
    code = _text(node, "transactionCoding/transactionCode").upper()
    shares = _decimal(_value(node, "transactionAmounts/transactionShares"), "shares")
    if not raw_date or not code or shares is None:
        raise FilingParseError("missing date, code or shares")
    try:
        trade_date = date.fromisoformat(raw_date[:10])
    except ValueError:
        raise FilingParseError(f"transactionDate is not a date: {raw_date[:20]!r}") from None
    if len(code) != 1 or not code.isalpha():
        raise FilingParseError(f"transaction code {code[:5]!r} is not one letter")
    ad = _value(node, "transactionAmounts/transactionAcquiredDisposedCode").upper()
    if ad not in {"A", "D"}:
        raise FilingParseError(f"acquired/disposed code {ad[:5]!r} is not A or D")
    notes = [footnotes[i] for i in dict.fromkeys(_footnote_ids(node)) if i in footnotes]
    return TransactionRecord(
        table=table,
        row=row,
        security_title=_value(node, "securityTitle")[:200],
        trade_date=trade_date,
        code=code,
        acquired=ad == "A",
        shares=shares,
        price=_decimal(_value(node, "transactionAmounts/transactionPricePerShare"), "price"),
        shares_after=_decimal(
            _value(node, "postTransactionAmounts/sharesOwnedFollowingTransaction"),
            "shares owned after",
        ),
        direct=_value(node, "ownershipNature/directOrIndirectOwnership").upper() != "I",
        ownership_nature=_value(node, "ownershipNature/natureOfOwnership")[:200],
        underlying_title=_value(node, "underlyingSecurity/underlyingSecurityTitle")[:200],
        underlying_shares=_decimal(
            _value(node, "underlyingSecurity/underlyingSecurityShares"), "underlying shares"
        ),
        exercise_price=_decimal(_value(node, "conversionOrExercisePrice"), "exercise price"),
        footnotes=tuple(notes),
    )
