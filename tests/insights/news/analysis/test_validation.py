"""The tool-input validator on its own: label bands, quote matching, ticker filtering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insights.news.analysis.claude import LABELS, normalise_for_quote, validate_tool_input
from insights.news.analysis.labels import label_for

TEXT = "Acme said revenue \u201cjumped\u201d 12%.\n\nThe   outlook was raised \u2014 again."
BASE = {
    "sentiment": 0.5,
    "label": "positive",
    "impact": 3,
    "tickers": [],
    "sectors": [],
    "summary": "One. Two.",
    "key_points": [],
    "evidence": ['Acme said revenue "jumped" 12%.'],
}


@given(st.floats(min_value=-1, max_value=1, allow_nan=False), st.sampled_from(LABELS))
def test_a_label_is_accepted_only_in_its_band(sentiment, label):
    data = {**BASE, "sentiment": sentiment, "label": label}
    if label_for(sentiment) == label:
        assert validate_tool_input(data, text=TEXT, known_symbols=set())[0]["label"] == label
    else:
        with pytest.raises(ValueError, match="does not match sentiment"):
            validate_tool_input(data, text=TEXT, known_symbols=set())


@pytest.mark.parametrize(
    ("sentiment", "label"),
    [
        (-0.61, "very_negative"),
        (-0.6, "negative"),
        (-0.15, "neutral"),
        (0.15, "neutral"),
        (0.16, "positive"),
        (0.6, "positive"),
        (0.61, "very_positive"),
    ],
)
def test_band_edges(sentiment, label):
    assert label_for(sentiment) == label


def test_quotes_match_across_typography_but_not_wording():
    ok = {**BASE, "evidence": ["the outlook was raised - again."]}
    assert validate_tool_input(ok, text=TEXT, known_symbols=set())
    reworded = {**BASE, "evidence": ["The outlook was lifted again."]}
    with pytest.raises(ValueError, match="evidence/0: quote not found"):
        validate_tool_input(reworded, text=TEXT, known_symbols=set())
    assert normalise_for_quote(" A\u00a0\u2018b\u2019\n c ") == "a 'b' c"


def test_tickers_are_normalised_deduplicated_and_unknown_ones_dropped():
    data = {
        **BASE,
        "tickers": [
            {"symbol": "$acme", "sentiment": 0.5, "reason": "r"},
            {"symbol": "ACME", "sentiment": 0.1, "reason": "dup"},
            {"symbol": "NOPE", "sentiment": 0.2, "reason": "r"},
        ],
    }
    clean, dropped = validate_tool_input(data, text=TEXT, known_symbols={"ACME"})
    assert [t["symbol"] for t in clean["tickers"]] == ["ACME"] and dropped == ["NOPE"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sentiment": 1.5}, "schema: sentiment: 1.5 is greater than the maximum of 1"),
        ({"impact": True}, "schema: impact: True is not of type 'integer'"),
        ({"evidence": []}, "schema: evidence: [] should be non-empty"),
        ({"extra": 1}, "schema: (root): Additional properties are not allowed"),
    ],
)
def test_schema_errors_name_the_field(change, message):
    with pytest.raises(ValueError) as exc:
        validate_tool_input({**BASE, **change}, text=TEXT, known_symbols=set())
    assert str(exc.value).startswith(message)


def test_missing_field_is_named():
    data = {k: v for k, v in BASE.items() if k != "summary"}
    with pytest.raises(ValueError, match="'summary' is a required property"):
        validate_tool_input(data, text=TEXT, known_symbols=set())
