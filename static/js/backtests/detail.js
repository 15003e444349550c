// Backtest detail: equity vs buy & hold (lines) and drawdown (area) with Lightweight Charts,
// their time scales kept in step; plus click-to-sort for tables marked [data-sortable].
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function withAlpha(color, alpha) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
    if (!m) return color;
    return "rgba(" + parseInt(m[1], 16) + ", " + parseInt(m[2], 16) + ", " + parseInt(m[3], 16) + ", " + alpha + ")";
  }

  // A baseline at 0 %: the area fills between 0 % and the line, darkest near 0 %.
  function drawdownColors() {
    var down = cssVar("--down", "#c62828");
    return {
      bottomLineColor: down, bottomFillColor1: withAlpha(down, 0.3), bottomFillColor2: withAlpha(down, 0.05),
      topLineColor: down, topFillColor1: withAlpha(down, 0), topFillColor2: withAlpha(down, 0),
    };
  }

  var axes = {};
  function axisOptions(el) {
    // Years of daily bars must fit a phone's width: allow bars narrower than a pixel.
    if (!axes[el.id]) {
      axes[el.id] = window.QunexChartAxis
        ? window.QunexChartAxis.timeScale(el, { minBarSpacing: 0.01 })
        : { minBarSpacing: 0.01 };
    }
    return axes[el.id];
  }

  function themeOptions(el) {
    var border = cssVar("--border", "#dde1e7");
    return {
      layout: {
        background: { type: "solid", color: "transparent" },
        attributionLogo: false, // its inline styles break the CSP; the page credits TradingView in text
        textColor: cssVar("--muted", "#5c6370"),
        fontFamily: getComputedStyle(document.body).fontFamily,
      },
      grid: { vertLines: { color: border }, horzLines: { color: border } },
      rightPriceScale: { borderColor: border, entireTextOnly: true },
      timeScale: Object.assign({ borderColor: border }, axisOptions(el)),
    };
  }

  function points(dates, values) {
    var out = [];
    for (var i = 0; i < dates.length; i++) {
      if (values[i] !== null && values[i] !== undefined) out.push({ time: dates[i], value: values[i] });
    }
    return out;
  }

  function drawCharts() {
    var dataEl = document.getElementById("backtest-chart-data");
    var equityEl = document.getElementById("equity-chart");
    var drawdownEl = document.getElementById("drawdown-chart");
    if (!dataEl || !equityEl || !drawdownEl || typeof LightweightCharts === "undefined") return;
    var data = JSON.parse(dataEl.textContent);
    if (!data || !data.dates || !data.dates.length) return;
    var LW = LightweightCharts;
    var base = { autoSize: true, handleScroll: true, handleScale: true };

    var equityChart = LW.createChart(equityEl, Object.assign({}, base, themeOptions(equityEl)));
    if (window.QunexChartAxis) window.QunexChartAxis.attach(equityChart, equityEl);
    // The site's number rule (format.js): "$10,512.20" where the crosshair is, as in the
    // statistics; the axis at the fewest decimals its ticks need ("$12,000").
    var fmt = window.QunexFormat;
    var moneyFormat = {
      type: "custom", minMove: 0.01,
      formatter: function (v) { return fmt.money(v); },
      tickmarksFormatter: fmt.tickmarks(fmt.money),
    };
    var buyHold = equityChart.addSeries(LW.LineSeries, {
      // No titles: the legend above the chart names the lines (a title sits over the curves).
      color: cssVar("--muted", "#5c6370"), lineWidth: 2, lineStyle: 2, priceLineVisible: false,
      priceFormat: moneyFormat,
    });
    var equity = equityChart.addSeries(LW.LineSeries, {
      color: cssVar("--accent", "#2563eb"), lineWidth: 2, priceLineVisible: false,
      priceFormat: moneyFormat,
    });
    buyHold.setData(points(data.dates, data.buy_hold));
    equity.setData(points(data.dates, data.equity));

    var ddChart = LW.createChart(drawdownEl, Object.assign({}, base, themeOptions(drawdownEl)));
    if (window.QunexChartAxis) window.QunexChartAxis.attach(ddChart, drawdownEl);
    var drawdown = ddChart.addSeries(LW.BaselineSeries, Object.assign({
      lineWidth: 1, priceLineVisible: false, baseValue: { type: "price", price: 0 },
      // The scale tops out at 0 % (the running peak); its top margin keeps that label whole.
      autoscaleInfoProvider: function (original) {
        var info = original();
        if (info && info.priceRange) info.priceRange.maxValue = 0;
        return info;
      },
      priceFormat: {
        type: "custom", minMove: 0.01,
        formatter: function (v) { return fmt.pct(v); }, // a drawdown is a loss: "\u221212.35%"
        tickmarksFormatter: fmt.tickmarks(fmt.pct),
      },
    }, drawdownColors()));
    drawdown.setData(points(data.dates, data.drawdown));

    // A top margin keeps the "0.0 %" label (and the last-value tag at 0 %) inside the axis.
    ddChart.priceScale("right").applyOptions({ scaleMargins: { top: 0.1, bottom: 0.05 } });
    // autoSize measures the containers on the next frame: fit the whole history after it.
    // Room beyond both ends keeps the first and last labels whole (chart_axis.js).
    window.requestAnimationFrame(function () {
      if (window.QunexChartAxis) {
        window.QunexChartAxis.show(equityChart, 0, data.dates.length - 1);
        window.QunexChartAxis.show(ddChart, 0, data.dates.length - 1);
      } else {
        equityChart.timeScale().fitContent();
        ddChart.timeScale().fitContent();
      }
    });

    // Keep both time scales in step when either is scrolled or zoomed.
    var syncing = false;
    function follow(source, target) {
      source.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
        if (syncing || !range) return;
        syncing = true;
        target.timeScale().setVisibleLogicalRange(range);
        syncing = false;
      });
    }
    follow(equityChart, ddChart);
    follow(ddChart, equityChart);

    function retheme() {
      equityChart.applyOptions(themeOptions(equityEl));
      ddChart.applyOptions(themeOptions(drawdownEl));
      equity.applyOptions({ color: cssVar("--accent", "#2563eb") });
      buyHold.applyOptions({ color: cssVar("--muted", "#5c6370") });
      drawdown.applyOptions(drawdownColors());
    }
    new MutationObserver(retheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    if (window.matchMedia) {
      var mq = window.matchMedia("(prefers-color-scheme: dark)");
      if (mq.addEventListener) mq.addEventListener("change", retheme);
    }
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, column) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") !== "descending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = parseFloat(a.cells[column].getAttribute("data-value"));
          var y = parseFloat(b.cells[column].getAttribute("data-value"));
          if (isNaN(x) && isNaN(y)) return 0;
          if (isNaN(x)) return 1; // undefined values last either way
          if (isNaN(y)) return -1;
          return descending ? y - x : x - y;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  drawCharts();
  document.querySelectorAll("table[data-sortable]").forEach(makeSortable);
})();
