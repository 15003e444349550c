"""Filter forms at phone and desktop widths: text boxes, date boxes, dropdowns and their
buttons are one height, and nothing touches or overlaps its neighbour (the AI-score filter's
button sat flush against its dropdown on a phone)."""

from __future__ import annotations

import pytest

from tests.insights.scores.factories import make_scores

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ["/ai-scores/", "/news/", "/stocks/", "/insiders/", "/calendar/"]
BOXES = """(selector) => Array.from(document.querySelectorAll(selector + ' :is(input:not([type=hidden]):not([type=checkbox]), select, button)'))
  .filter((e) => e.offsetParent)
  .map((e) => { const r = e.getBoundingClientRect();
    return {name: e.name || e.textContent.trim(), top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; })"""


def _apart(a: dict, b: dict) -> bool:
    """At least 4 px of space between two boxes, across or down."""
    return (
        a["bottom"] + 4 <= b["top"]
        or b["bottom"] + 4 <= a["top"]
        or a["right"] + 4 <= b["left"]
        or b["right"] + 4 <= a["left"]
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_filter_fields_share_one_height_and_never_touch(browser, live_server, width):
    make_scores(3)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    try:
        for url in PAGES:
            page.goto(url)
            boxes = page.evaluate(BOXES, "main form")
            assert len(boxes) >= 2, (url, boxes)
            heights = {round(b["height"]) for b in boxes}
            assert len(heights) == 1, (url, width, boxes)
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert _apart(a, b), (url, width, a, b)
    finally:
        context.close()
