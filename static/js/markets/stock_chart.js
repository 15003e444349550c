/* Stock page chart: daily candlesticks, volume histogram, SMA 50 / SMA 200, range buttons.
 *
 * "Max" shows every stored bar at any width (a tiny minimum bar spacing, or the chart would
 * stop at ~2 bars a pixel and start years late); volume has its own pane below the prices,
 * so the price axis needs no empty band (which used to run to negative prices).
 * After each range change the element carries data-range-from (the range's first bar),
 * data-visible-from / data-visible-to (the first and last bars drawn) and
 * data-price-bottom (the price at the bottom of the price pane), for the browser tests.
 * Every range keeps ~22 px of room beyond its first and last bar (chart_axis.js), so labels
 * on those bars are whole rather than cut at the edges.
 *
 * Bars come from the element's data-url (compact rows [date, open, high, low, close, volume],
 * split-adjusted where the source adjusted them). SMAs are computed here over every bar, so
 * a 1M view still shows the 200-day average. Colors are read from the CSS variables and
 * re-applied when the theme changes.
 */
(function () {
  "use strict";

  var el = document.getElementById("stock-chart");
  if (!el || !window.LightweightCharts) return;
  var LC = window.LightweightCharts;
  var errorEl = document.querySelector("[data-chart-error]");
  var buttons = document.querySelectorAll("[data-range]");

  function css(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  function palette() {
    return {
      bg: css("--surface", "#ffffff"),
      text: css("--muted", "#5c6370"),
      grid: css("--border", "#dde1e7"),
      up: css("--up", "#0f8a4b"),
      down: css("--down", "#c62828"),
      accent: css("--accent", "#2563eb"),
      warn: css("--warn", "#a15c00"),
    };
  }

  function withAlpha(color, alpha) {
    var m = /^#([0-9a-f]{6})$/i.exec(color);
    if (!m) return color;
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function sma(rows, window) {
    var out = [];
    var sum = 0;
    for (var i = 0; i < rows.length; i++) {
      sum += rows[i][4];
      if (i >= window) sum -= rows[i - window][4];
      if (i >= window - 1) out.push({ time: rows[i][0], value: Math.round((sum / window) * 10000) / 10000 });
    }
    return out;
  }

  function showError(text) {
    if (!errorEl) return;
    errorEl.textContent = text;
    errorEl.classList.remove("hidden");
  }

  var axis = window.QunexChartAxis;
  var timeScale = axis ? axis.timeScale(el, { minBarSpacing: 0.001 }) : { rightOffset: 3, minBarSpacing: 0.001 };
  var chart = null;
  var series = {};
  var rows = [];
  var current = null;

  function chartOptions(p) {
    return {
      autoSize: true,
      layout: { background: { type: "solid", color: p.bg }, textColor: p.text, attributionLogo: false },
      grid: { vertLines: { color: withAlpha(p.grid, 0.6) }, horzLines: { color: withAlpha(p.grid, 0.6) } },
      // entireTextOnly: a price label that would be cut at the top or bottom is not drawn.
      rightPriceScale: { borderColor: p.grid, scaleMargins: { top: 0.08, bottom: 0.04 }, entireTextOnly: true },
      timeScale: Object.assign({ borderColor: p.grid }, timeScale),
      crosshair: { mode: LC.CrosshairMode ? LC.CrosshairMode.Normal : 0 },
    };
  }

  function colorize() {
    var p = palette();
    chart.applyOptions(chartOptions(p));
    series.candles.applyOptions({
      upColor: p.up, downColor: p.down, wickUpColor: p.up, wickDownColor: p.down, borderVisible: false,
    });
    series.sma50.applyOptions({ color: p.accent });
    series.sma200.applyOptions({ color: p.warn });
    series.volume.setData(volumeData(p));
  }

  function volumeData(p) {
    return rows.map(function (r, i) {
      var up = i === 0 ? r[4] >= r[1] : r[4] >= rows[i - 1][4];
      return { time: r[0], value: r[5], color: withAlpha(up ? p.up : p.down, 0.35) };
    });
  }

  function describe() {
    var visible = chart.timeScale().getVisibleRange();
    if (visible) {
      el.setAttribute("data-visible-from", String(visible.from));
      el.setAttribute("data-visible-to", String(visible.to));
    }
    var pane = chart.panes ? chart.panes()[0] : null;
    if (pane && pane.getHeight) {
      var bottom = series.candles.coordinateToPrice(pane.getHeight() - 1);
      if (bottom !== null) el.setAttribute("data-price-bottom", String(Math.round(bottom * 100) / 100));
    }
  }

  function setRange(range) {
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", b.getAttribute("data-range") === range ? "true" : "false"); });
    if (!rows.length) return;
    current = range;
    if (range === "Max") {
      el.setAttribute("data-range-from", rows[0][0]);
      if (axis) axis.show(chart, 0, rows.length - 1);
      else chart.timeScale().setVisibleLogicalRange({ from: 0, to: rows.length - 1 });
      window.requestAnimationFrame(describe);
      return;
    }
    var lastText = rows[rows.length - 1][0];
    var last = new Date(lastText + "T00:00:00Z");
    var from = new Date(last.getTime());
    if (range === "YTD") {
      from = new Date(Date.UTC(last.getUTCFullYear(), 0, 1));
    } else {
      var months = { "1M": 1, "3M": 3, "6M": 6, "1Y": 12, "5Y": 60 }[range] || 12;
      from.setUTCMonth(from.getUTCMonth() - months);
    }
    var fromText = from.toISOString().slice(0, 10);
    var start = 0;
    while (start < rows.length - 1 && rows[start][0] < fromText) start++;
    el.setAttribute("data-range-from", rows[start][0]);
    // ~22 px of room each side: a label on the range's first or last bar is whole.
    if (axis) axis.show(chart, start, rows.length - 1);
    else chart.timeScale().setVisibleLogicalRange({ from: start, to: rows.length - 1 });
    window.requestAnimationFrame(describe);
  }

  function draw(data) {
    rows = data.bars || [];
    if (!rows.length) {
      showError("No daily bars stored yet.");
      return;
    }
    var p = palette();
    chart = LC.createChart(el, chartOptions(p));
    if (axis) axis.attach(chart, el);
    series.candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: p.up, downColor: p.down, wickUpColor: p.up, wickDownColor: p.down, borderVisible: false,
    });
    // Volume in a pane of its own (pane 1), a fifth of the height.
    series.volume = chart.addSeries(LC.HistogramSeries, {
      priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false,
    }, 1);
    var panes = chart.panes();
    if (panes.length > 1 && panes[1].setStretchFactor) {
      panes[0].setStretchFactor(4);
      panes[1].setStretchFactor(1);
    }
    // No series titles: drawn inside the pane they sit over the candles on a phone; the legend
    // under the chart names the lines.
    var line = { lineWidth: 2, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false };
    series.sma50 = chart.addSeries(LC.LineSeries, Object.assign({ color: p.accent }, line));
    series.sma200 = chart.addSeries(LC.LineSeries, Object.assign({ color: p.warn }, line));

    series.candles.setData(rows.map(function (r) {
      return { time: r[0], open: r[1], high: r[2], low: r[3], close: r[4] };
    }));
    series.volume.setData(volumeData(p));
    series.sma50.setData(sma(rows, 50));
    series.sma200.setData(sma(rows, 200));
    el.setAttribute("data-bars", String(rows.length));
    setRange(el.getAttribute("data-default-range") || "1Y");
    // autoSize resizes after layout (a phone turned sideways): keep the chosen range.
    if (window.ResizeObserver) {
      var lastWidth = 0;
      new ResizeObserver(function (entries) {
        var width = Math.round(entries[0].contentRect.width);
        if (width && width !== lastWidth) {
          lastWidth = width;
          window.requestAnimationFrame(function () { if (current) setRange(current); });
        }
      }).observe(el);
    }

    new MutationObserver(colorize).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    if (window.matchMedia) {
      var mq = window.matchMedia("(prefers-color-scheme: dark)");
      if (mq.addEventListener) mq.addEventListener("change", colorize);
    }
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { setRange(b.getAttribute("data-range")); });
  });

  fetch(el.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(draw)
    .catch(function (err) { showError("The chart could not load (" + err.message + "). Reload the page to try again."); });
})();
