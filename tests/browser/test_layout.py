"""Tables and charts at 1280 px (light) and 390 px (dark), on the demo data:

- each table keeps the columns a trader needs most on screen, without scrolling sideways;
- a table that does scroll sideways says so (a faded edge, a pinned first column, keyboard focus)
  and its last column can be reached; no table scrolls inside a box of its own;
- headers never break inside a word, badges never wrap, the page never scrolls sideways;
- every chart axis label is a year or a month (with its day), none is cut at an axis edge (the
  axis canvases' outermost pixel rows and columns hold no text), and legend swatches stay on
  their label's line.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import (
    demo_site,
    log_in_demo,
    set_theme,
    settle,
)

pytestmark = pytest.mark.browser

__all__ = ["demo_site"]  # fixtures shared with the accessibility test

VIEWS = ((1280, 900, "light"), (390, 844, "dark"))
LABEL = re.compile(r"^(\d{4}|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{1,2})?)$")

# Per page, each table (a CSS selector) and the headers that must be on screen at both widths.
KEY_COLUMNS = {
    "portfolio": [
        ("#pf-holdings", ["Symbol", "Day", "Market value", "Unrealized"]),
        (".pf-returns", ["Period", "TWR", "Money-weighted", "SPY"]),
    ],
    "transactions": [(".pf-table", ["Date", "Type", "Cash effect", "Actions"])],
    "realized": [(".pf-table", ["Symbol", "Sold", "Gain"])],
    "backtests": [(".backtest-list", ["Ticker", "Status", "Return"])],
    "single": [(".trades", ["Entry", "Exit", "P&L", "Return"])],
    "sweep": [(".trades", ["Entry", "Exit", "P&L", "Return"])],
    "model": [
        ("with:Momentum baseline", ["Metric", "Model", "Momentum baseline"]),
        ("with:Trained to", ["Trained to", "Tested", "Rank IC", "Baseline"]),
    ],
    "portfolios": [(".pf-table", ["Portfolio", "Value", "Day", "Total gain"])],
}

HEADERS_ON_SCREEN = """([selector, wanted]) => {
  // "with:Header" is the table whose header row holds that text
  const table = selector.startsWith('with:')
    ? [...document.querySelectorAll('table')].find((t) => t.tHead && t.tHead.textContent.includes(selector.slice(5)))
    : document.querySelector(selector);
  if (!table) return {missing: selector};
  const wrap = table.closest('.table-wrap') || table.parentElement;
  const box = wrap.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const left = Math.max(box.left, 0) - 1, right = Math.min(box.right, vw) + 1;
  const heads = [...table.querySelectorAll('thead th')];
  const off = [];
  for (const name of wanted) {
    const th = heads.find((h) => h.textContent.trim().toLowerCase() === name.toLowerCase());
    const r = th && th.getBoundingClientRect();
    if (!th || !th.offsetParent || r.width < 1 || r.left < left || r.right > right) off.push(name);
  }
  return {off, shown: heads.filter((h) => h.offsetParent).map((h) => h.textContent.trim())};
}"""

PAGE_LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const out = {scrollWidth: document.documentElement.scrollWidth, vw, broken: [], badges: [],
               boxed: [], noCue: [], legends: []};
  document.querySelectorAll('thead th').forEach((th) => {
    if (!th.offsetParent) return;
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const re = /[^\\s\\-\\u2010\\u2013\\/]+/g; let m;  // words; a break at a hyphen is fine
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        if (tops.size > 1) out.broken.push(m[0]);
      }
    }
  });
  document.querySelectorAll('.badge').forEach((b) => {
    if (!b.offsetParent) return;
    if (new Set([...b.getClientRects()].map((r) => Math.round(r.top))).size > 1 ||
        b.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(b).fontSize)) {
      out.badges.push(b.textContent.trim());
    }
  });
  document.querySelectorAll('.table-wrap').forEach((wrap) => {
    if (!wrap.offsetParent) return;
    const name = (wrap.querySelector('table') || wrap).className || wrap.id;
    if (wrap.scrollHeight > wrap.clientHeight + 1) out.boxed.push(name);
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const style = getComputedStyle(wrap);
      const mask = style.maskImage || style.webkitMaskImage || 'none';
      const cue = (wrap.hasAttribute('data-more-right') && mask !== 'none') ||
                  wrap.hasAttribute('data-more-left');
      if (!cue || wrap.getAttribute('tabindex') !== '0') out.noCue.push(name);
    }
  });
  document.querySelectorAll('.legend-item').forEach((item) => {
    if (!item.offsetParent) return;
    const key = item.querySelector('.swatch, .key');
    if (!key) return;
    const k = key.getBoundingClientRect();
    const text = [...item.childNodes].filter((n) => n.nodeType === 3 && n.data.trim());
    const t = document.createRange();
    t.selectNodeContents(text[text.length - 1]);
    const line = t.getClientRects()[0];
    const middle = k.top + k.height / 2;
    if (!line || middle < line.top - 2 || middle > line.bottom + 2) out.legends.push(item.textContent.trim());
  });
  return out;
}"""

# For each Lightweight Charts chart: ink (text) in the outermost pixel columns of its time axis
# and the outermost pixel rows of its price axes means a label is cut there. The background is
# the canvas's commonest colour; the axis border lines are skipped.
CHART_EDGES = """() => {
  const out = [];
  document.querySelectorAll('.tv-lightweight-charts').forEach((chart) => {
    const holder = chart.parentElement;
    const rows = chart.querySelectorAll('table tr');
    function ink(canvas, points) {
      const w = canvas.width, h = canvas.height;
      if (!w || !h) return 0;
      const data = canvas.getContext('2d').getImageData(0, 0, w, h).data;
      const counts = new Map();
      for (let i = 0; i < data.length; i += 28) {
        const k = data[i] + ',' + data[i + 1] + ',' + data[i + 2] + ',' + data[i + 3];
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      const bg = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
      let n = 0;
      for (const [x, y] of points(w, h)) {
        const i = (y * w + x) * 4;
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) +
            Math.abs(data[i + 2] - bg[2]) + Math.abs(data[i + 3] - bg[3]) > 60) n += 1;
      }
      return n;
    }
    const column = (at, skip) => (w, h) => { const p = []; for (let y = skip; y < h; y++) p.push([at(w), y]); return p; };
    const row = (at, skip) => (w, h) => { const p = []; for (let x = skip; x < w; x++) p.push([x, at(h)]); return p; };
    const cells = rows[rows.length - 1].querySelectorAll('td');
    const time = (cells[1] || cells[0]).querySelector('canvas');
    const dpr = (c) => c.width / Math.max(1, c.clientWidth);
    if (time) {
      const skip = Math.ceil(3 * dpr(time));
      out.push([holder.id, 'time axis, left edge', ink(time, column(() => 0, skip))]);
      out.push([holder.id, 'time axis, right edge', ink(time, column((w) => w - 1, skip))]);
    }
    for (let r = 0; r < rows.length - 1; r++) {
      const tds = rows[r].querySelectorAll('td');
      const canvas = tds.length > 1 && tds[tds.length - 1].querySelector('canvas');
      if (!canvas || !canvas.width) continue;
      const skip = Math.ceil(3 * dpr(canvas));
      out.push([holder.id, 'price axis ' + r + ', top edge', ink(canvas, row(() => 0, skip))]);
      out.push([holder.id, 'price axis ' + r + ', bottom edge', ink(canvas, row((h) => h - 1, skip))]);
    }
    out.push([holder.id, 'labels', holder.getAttribute('data-tick-labels') || '']);
  });
  return out;
}"""


def chart_problems(page, where: str) -> list[str]:
    problems, charts = [], 0
    for chart, what, value in page.evaluate(CHART_EDGES):
        if what == "labels":
            charts += 1
            labels = [x for x in value.split("|") if x]
            bad = [x for x in labels if not LABEL.match(x)]
            if not labels or bad:
                problems.append(f"{where} {chart}: labels {bad or 'none'}")
        elif value:
            problems.append(f"{where} {chart}: {what} has {value} text pixels (a cut label)")
    if not charts:
        problems.append(f"{where}: no chart drawn")
    return problems


@pytest.mark.parametrize(
    "view", VIEWS, ids=[f"{w}px-{theme}" for w, _, theme in VIEWS]
)  # one test per view, so a parallel run's workers take them side by side
def test_tables_and_charts_hold_at_1280_and_390(browser, live_server, demo_site, view):
    portfolio, single, sweep = demo_site["portfolio"], demo_site["single"], demo_site["sweep"]
    pages = {
        "portfolio": f"/portfolios/{portfolio.pk}/",
        "transactions": f"/portfolios/{portfolio.pk}/transactions/",
        "realized": f"/portfolios/{portfolio.pk}/realized/",
        "backtests": "/backtests/",
        "single": f"/backtests/{single.pk}/",
        "sweep": f"/backtests/{sweep.pk}/",
        "model": f"/ai-scores/models/{demo_site['model'].pk}/",
        "portfolios": "/portfolios/",
        "stocks": "/stocks/",
        "stock": "/stocks/AAPL/",
        "scores": "/ai-scores/",
        "dashboard": "/",
    }
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in_demo(page)
    problems: list[str] = []
    for width, height, theme in [view]:
        page.set_viewport_size({"width": width, "height": height})
        for name, url in pages.items():
            page.goto(url)
            set_theme(page, theme)
            page.wait_for_load_state("networkidle")
            settle(page)
            where = f"{name} at {width}px"
            for selector, headers in KEY_COLUMNS.get(name, []):
                seen = page.evaluate(HEADERS_ON_SCREEN, [selector, headers])
                if seen.get("missing") or seen["off"]:
                    problems.append(f"{where}: {selector} hides {seen}")
            layout = page.evaluate(PAGE_LAYOUT)
            if layout["scrollWidth"] > layout["vw"]:
                problems.append(f"{where}: the page scrolls sideways ({layout['scrollWidth']}px)")
            for key, text in (
                ("broken", "headers broken inside a word"),
                ("badges", "badges wrapped onto two lines"),
                ("boxed", "tables scrolling inside a box"),
                ("noCue", "sideways-scrolling tables without a cue or keyboard focus"),
                ("legends", "legend swatches off their label's line"),
            ):
                if layout[key]:
                    problems.append(f"{where}: {text}: {layout[key]}")
            if name == "transactions":
                # Edit and Delete: whole words, on screen, big enough to tap
                for link in (
                    page.locator(".pf-table tbody tr").first.locator(".actions-cell a").all()
                ):
                    box = link.bounding_box()
                    if (
                        not box
                        or box["width"] < 20
                        or box["height"] < 16
                        or box["x"] + box["width"] > width
                    ):
                        problems.append(f"{where}: {link.inner_text()} link is {box}")
            if name == "sweep":
                # the heatmap's last column can be scrolled to, its row labels stay in view
                reach = page.evaluate(
                    """() => {
                      const wrap = document.getElementById('heatmap');
                      wrap.scrollLeft = wrap.scrollWidth;
                      const box = wrap.getBoundingClientRect();
                      const heads = wrap.querySelectorAll('thead th');
                      const last = heads[heads.length - 1].getBoundingClientRect();
                      const label = wrap.querySelector('tbody th').getBoundingClientRect();
                      return {last: last.right <= box.right + 1 && last.left >= box.left - 1,
                              label: label.left >= box.left - 1 && label.right <= box.right + 1};
                    }"""
                )
                if not (reach["last"] and reach["label"]):
                    problems.append(f"{where}: heatmap end not reachable with its labels {reach}")
            if name in ("portfolio", "single", "sweep"):
                problems += chart_problems(page, where)
            if name == "stock":
                for range_ in ("1M", "3M", "6M", "YTD", "1Y", "5Y", "Max"):
                    page.click(f'[data-range="{range_}"]')
                    settle(page)
                    settle(page)
                    problems += chart_problems(page, f"{where} {range_}")
    context.close()
    assert problems == [], "\n".join(problems)
    assert errors == []
