"""The number rule (qunex/templatetags/numbers.py) holds on every page, not just in its filters.

1. Templates and scripts format figures only through the shared filters and static/js/format.js:
   no `floatformat` in a template, no `toFixed` or hand-made `Intl.NumberFormat` in a script.
2. Every GET page of the URLconf (discovered, so a page added later is checked the day it is
   added), rendered for the demo user with the demo data, shows no hyphen-minus before a
   figure ("-3.20" instead of U+2212) and no space before a percent sign ("135.01 %"), in its
   text and in the tooltips (`title`) and labels (`aria-label`) a reader meets; on the pages of
   returns (portfolios, backtests, the track record) every percent has 2 decimals.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from django.contrib.auth import get_user_model

from tests.core.test_hostile_params import _page_paths
from tests.insights.news.factories import AnalysisFactory

ROOT = Path(__file__).resolve().parents[2]
FORMATTER = ROOT / "static" / "js" / "format.js"


def _files(folder: str, suffix: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob(f"*{suffix}") if p.is_file())


def test_templates_format_figures_through_the_shared_filters():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files("templates", ".html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "floatformat" in line
    ]
    assert not offenders, "use the filters of `{% load numbers %}`:\n" + "\n".join(offenders)


def test_scripts_format_figures_through_format_js():
    scripts = [p for p in _files("static/js", ".js") if p != FORMATTER]
    assert len(scripts) > 10
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(
            r"\.toFixed\(|\.toPrecision\(|Intl\.NumberFormat|toLocaleString\(\s*[\"'(]?en", line
        )
    ]
    assert not offenders, "use window.QunexFormat (static/js/format.js):\n" + "\n".join(offenders)


# A hyphen-minus that starts a figure: " -3.2", "(-1.5%)", "$-12"; not "2024-01-02",
# "20-session", "S&P-500" or "--days 5".
HYPHEN_FIGURE = re.compile(r"(?<![\w.\-/:#&])-\$?\d")
SPACED_PERCENT = re.compile(r"\d %")
# On the pages of returns a percent has 2 decimals, whatever the period: "+1.00%", not "+1.0%".
RETURN_PAGES = re.compile(r"^/(portfolios/(\d+/)?|backtests/|ai-scores/track-record/)$")
OTHER_DECIMALS = re.compile(r"(?<![\d.,])\d[\d,]*(\.\d|\.\d{3,})?%")
TAG = re.compile(r"<[^>]+>")
SKIPPED = re.compile(r"<(script|style|template|code|pre)\b.*?</\1>", re.S | re.I)
ATTRIBUTE = re.compile(r"""\s(?:title|aria-label)="([^"]*)\"""")


def visible_text(page: str) -> str:
    """The text of a page and its tooltips/labels, without scripts, styles and code samples."""
    body = SKIPPED.sub(" ", page)
    attributes = " | ".join(ATTRIBUTE.findall(body))
    return html.unescape(TAG.sub(" ", body) + " | " + attributes)


def test_visible_text_sees_text_and_tooltips_but_not_scripts():
    page = '<p title="Loss -2.5%">Return <b>-3.20</b></p><script>var x = -1;</script>'
    text = visible_text(page)
    assert "-2.5" in text and "-3.20" in text and "-1" not in text
    assert HYPHEN_FIGURE.findall("Return -3.20, (-$12), 2024-01-02, 20-session, --days 5") == [
        "-3",
        "-$1",
    ]
    assert SPACED_PERCENT.search("135.01 %") and not SPACED_PERCENT.search("135.01%")
    assert [m.group() for m in OTHER_DECIMALS.finditer("+1.0% 5% 1.234% +1.00% 1,234.56%")] == [
        "1.0%",
        "5%",
        "1.234%",
    ]


def test_every_page_follows_the_number_rule_on_the_demo_data(client, seeded_demo):
    user = get_user_model().objects.get(username="demo")
    AnalysisFactory()  # a news article with its analysis (the demo seed has no news)
    client.force_login(user)

    checked, negatives, returns, problems = 0, 0, 0, []
    for path, _ in _page_paths(user):
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        text = visible_text(response.content.decode())
        checked += 1
        negatives += len(re.findall("\u2212\\$?\\d", text))
        rules = [(HYPHEN_FIGURE, "hyphen-minus"), (SPACED_PERCENT, "space before %")]
        if RETURN_PAGES.match(path):
            rules.append((OTHER_DECIMALS, "a percent without 2 decimals"))
            returns += 1
        for pattern, what in rules:
            for match in pattern.finditer(text):
                around = text[max(match.start() - 40, 0) : match.end() + 20]
                problems.append(f"{path}: {what}: …{' '.join(around.split())}…")
    assert checked > 30 and returns == 4
    assert negatives > 10  # the demo data has losses to show, so a hyphen would be seen
    assert not problems, "\n".join(problems)
