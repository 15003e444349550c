"""Plain text from untrusted input (vendor feeds, user notes and names).

`plain_text` removes every tag and decodes every entity, repeating both until the text stops
changing, so entity-encoded markup such as `&lt;script&gt;` cannot come back to life as a tag
after decoding. What is left is text with no markup: templates and the API escape it on output
as they escape everything else.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

_MAX_ROUNDS = 10
_SPACE = re.compile(r"\s+")
# Control characters other than tab/newline (NUL included) never belong in stored text.
_CONTROL = dict.fromkeys(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) | {0x7F: None}


def strip_control(value: str) -> str:
    """`value` without NUL and other C0 control characters (tabs and newlines are kept)."""
    return value.translate(_CONTROL)


def plain_text(value: str | None, *, collapse_space: bool = True) -> str:
    """`value` with all markup removed and entities decoded, to a fixed point.

    1. Drop control characters.
    2. Strip tags (nh3 removes `<script>`/`<style>` together with their content), then
       decode entities; repeat until a round changes nothing.
    3. Remove any `<` that still opens a tag-like run, normalise Unicode (NFC) and, unless
       `collapse_space` is false, fold runs of white space into one space.
    """
    if not value:
        return ""
    text = strip_control(str(value))
    for _ in range(_MAX_ROUNDS):
        stripped = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"<(?=[A-Za-z/!?])", "", text)
    text = unicodedata.normalize("NFC", strip_control(text))
    if collapse_space:
        text = _SPACE.sub(" ", text)
    return text.strip()
