// Portfolio page: value vs benchmark chart of the chosen window, and live holdings from the feed.
(function () {
  "use strict";
  var feed = window.QunexFeed;

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  var fmt = window.QunexFormat;

  // The whole chosen window is shown, with room beyond both ends for whole labels.
  var holderEl = document.getElementById("pf-chart");
  var axisOptions = window.QunexChartAxis
    ? window.QunexChartAxis.timeScale(holderEl, { minBarSpacing: 0.05 })
    : { minBarSpacing: 0.05 };

  function chartOptions() {
    return {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: cssVar("--muted", "#5c6370"), attributionLogo: false },
      grid: { vertLines: { color: cssVar("--border", "#dde1e7") }, horzLines: { color: cssVar("--border", "#dde1e7") } },
      rightPriceScale: { borderColor: cssVar("--border", "#dde1e7"), entireTextOnly: true },
      timeScale: Object.assign({ borderColor: cssVar("--border", "#dde1e7") }, axisOptions),
      crosshair: { mode: 0 },
      // Dollars with their currency: "$12,345.67" where the crosshair is, "$12,000" on the axis.
      localization: { priceFormatter: function (v) { return fmt.money(v); }, tickmarksPriceFormatter: fmt.tickmarks(fmt.money) }
    };
  }

  function setupChart() {
    var holder = document.getElementById("pf-chart");
    var dataEl = document.getElementById("pf-chart-data");
    if (!holder || !dataEl || !window.LightweightCharts) return;
    var data = JSON.parse(dataEl.textContent);
    var LC = window.LightweightCharts;
    var chart = LC.createChart(holder, chartOptions());
    if (window.QunexChartAxis) window.QunexChartAxis.attach(chart, holder);
    var priceFormat = { type: "price", precision: 2, minMove: 0.01 };
    var value = chart.addSeries(LC.LineSeries, { color: cssVar("--accent", "#2563eb"), lineWidth: 2, priceFormat: priceFormat, lastValueVisible: false, priceLineVisible: false });
    value.setData(data.series);
    var bench = null;
    if (data.benchmark && data.benchmark.length) {
      bench = chart.addSeries(LC.LineSeries, { color: cssVar("--muted", "#5c6370"), lineWidth: 2, lineStyle: 2, priceFormat: priceFormat, lastValueVisible: false, priceLineVisible: false });
      bench.setData(data.benchmark);
    }
    // The server chose the window (?start=&end=): show all of it, also after a resize.
    function fit() {
      if (window.QunexChartAxis) window.QunexChartAxis.show(chart, 0, data.series.length - 1);
      else chart.timeScale().fitContent();
    }
    fit();
    if (window.ResizeObserver) {
      var lastWidth = 0;
      new ResizeObserver(function (entries) {
        var width = Math.round(entries[0].contentRect.width);
        if (width && width !== lastWidth) {
          lastWidth = width;
          window.requestAnimationFrame(fit);
        }
      }).observe(holder);
    }

    // Follow the light/dark switch.
    new MutationObserver(function () {
      chart.applyOptions(chartOptions());
      value.applyOptions({ color: cssVar("--accent", "#2563eb") });
      if (bench) bench.applyOptions({ color: cssVar("--muted", "#5c6370") });
    }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  }

  function setupFeed() {
    var table = document.getElementById("pf-holdings");
    if (!table || !feed) return;
    var totals = document.getElementById("pf-totals");
    var rows = {};
    table.querySelectorAll("tbody tr[data-symbol]").forEach(function (tr) { rows[tr.dataset.symbol] = tr; });

    function cell(tr, name) { return tr.querySelector('[data-cell="' + name + '"]'); }

    function update(quotes) {
      var sumValue = 0, sumCost = 0, sumDay = 0, sumPrev = 0;
      Object.keys(rows).forEach(function (symbol) {
        var tr = rows[symbol];
        var qty = Number(tr.dataset.qty), cost = Number(tr.dataset.cost);
        var prev = tr.dataset.prev === "" ? null : Number(tr.dataset.prev);
        var oldPrice = tr.dataset.price ? Number(tr.dataset.price) : null;
        var q = quotes[symbol];
        var price = q ? q.price : oldPrice;
        if (q && q.previousClose !== null) prev = q.previousClose;
        else if (q && q.change !== null) prev = q.price - q.change;
        if (price === null) {
          // no quote and none seen yet: keep the server-rendered cells
          var shown = cell(tr, "value").textContent.replace(/[^0-9.\-]/g, "");
          sumValue += Number(shown) || 0; sumCost += cost; sumPrev += Number(shown) || 0;
          return;
        }
        var marketValue = qty * price;
        sumValue += marketValue; sumCost += cost;
        if (q) {
          var priceCell = cell(tr, "price");
          priceCell.textContent = feed.fmt.price(price);
          feed.flash(priceCell, oldPrice === null ? 0 : price - oldPrice);
          tr.dataset.price = String(price);
          cell(tr, "value").textContent = feed.fmt.money(marketValue);
          var unrealized = marketValue - cost;
          var u = cell(tr, "unrealized");
          u.innerHTML = "";
          u.append(feed.fmt.signedMoney(unrealized) + " ");
          var up = document.createElement("span"); up.className = "small";
          up.textContent = cost ? feed.fmt.pct(unrealized / cost * 100) : "\u2014";
          u.append(up);
          feed.setSign(u, unrealized);
        }
        if (prev !== null) {
          var day = qty * (price - prev);
          sumDay += day; sumPrev += qty * prev;
          if (q) {
            var d = cell(tr, "day");
            d.innerHTML = "";
            d.append(feed.fmt.signedMoney(day) + " ");
            var dp = document.createElement("span"); dp.className = "small";
            dp.textContent = feed.fmt.pct(prev ? (price - prev) / prev * 100 : null);
            d.append(dp);
            feed.setSign(d, day);
          }
        } else {
          sumPrev += marketValue;
        }
      });
      if (!totals || !Object.keys(quotes).length) return;
      var cash = Number(totals.dataset.cash), flows = Number(totals.dataset.flows);
      var total = sumValue + cash;
      totals.querySelector('[data-total="value"]').textContent = feed.fmt.money(total);
      var unrealizedTotal = sumValue - Number(totals.dataset.cost);
      var ut = totals.querySelector('[data-total="unrealized"]');
      ut.textContent = feed.fmt.signedMoney(unrealizedTotal) + " ";
      var us = document.createElement("small");
      us.textContent = sumCost ? feed.fmt.pct(unrealizedTotal / sumCost * 100) : "\u2014";
      ut.append(us); feed.setSign(ut, unrealizedTotal);
      var dt = totals.querySelector('[data-total="day"]');
      dt.textContent = feed.fmt.signedMoney(sumDay) + " ";
      var ds = document.createElement("small");
      ds.textContent = sumPrev + cash ? feed.fmt.pct(sumDay / (sumPrev + cash) * 100) : "\u2014";
      dt.append(ds); feed.setSign(dt, sumDay);
      var g = totals.querySelector('[data-total="gain"]');
      g.textContent = feed.fmt.signedMoney(total - flows); feed.setSign(g, total - flows);
    }

    // Remember the server-rendered prices so the first update can flash the change.
    Object.keys(rows).forEach(function (symbol) {
      var text = cell(rows[symbol], "price").firstChild;
      var n = text ? Number(String(text.textContent).replace(/[^0-9.\-]/g, "")) : NaN;
      if (isFinite(n) && n > 0) rows[symbol].dataset.price = String(n);
    });

    feed.subscribe(table.dataset.symbols.split(","), update);
  }

  setupChart();
  setupFeed();
})();
