from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunex.text import plain_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<b>Hi</b> &amp; bye", "Hi & bye"),
        ("<script>alert(1)</script>Good", "Good"),
        ("&lt;script&gt;alert(1)&lt;/script&gt; ok", "ok"),
        ("&amp;lt;img src=x onerror=alert(1)&amp;gt;x", "x"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("AT&T rose 5% as 5<6", "AT&T rose 5% as 5<6"),
        ("x\x00y\x07z", "xyz"),
        ("  many \n\t spaces  ", "many spaces"),
        (None, ""),
    ],
)
def test_plain_text_examples(raw, expected):
    assert plain_text(raw) == expected


@given(st.text())
def test_plain_text_is_a_fixed_point_with_no_tags(raw):
    once = plain_text(raw)
    assert plain_text(once) == once
    # No tag can appear, even after one more round of entity decoding.
    decoded = html.unescape(once)
    assert "<script" not in decoded.lower()
    assert "\x00" not in once


@given(st.text())
def test_entity_encoded_markup_is_as_inert_as_raw(raw):
    encoded = html.escape(f"<script>{raw}</script>")
    assert "<script" not in plain_text(encoded).lower()
