/* Time-axis options every Lightweight Charts chart of the site shares (stock, portfolio, backtest).
 *
 * 1. Labels are whole words: "2025", "Mar", "Mar 3" (the library's default shows a bare day
 *    number, "3", where a month has no room for its name), in English whatever the browser's
 *    locale, so they read alike on every page.
 * 2. show() sets a range of bars with ~22 px of room (half the widest label) beyond its first and last bar, so a label on
 *    either (a year, a month) is drawn whole instead of cut at the edge ("023" for 2023); the
 *    room before the first stored bar is empty, the room before a later bar shows the bars
 *    before it.
 * 3. Once attach()ed to its chart, the formatter leaves empty any label that would not fit
 *    whole between the axis ends (a tick can fall anywhere, also in that room), and is
 *    re-applied after every scroll or zoom so no label stays cached from another position.
 * 4. Every label the formatter hands out is kept on the chart element's data-tick-labels (the
 *    browser tests read them: each must be a month or a year).
 */
(function () {
  "use strict";

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function parts(time) {
    if (typeof time === "string") {
      var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(time);
      if (m) return { year: +m[1], month: +m[2], day: +m[3] };
    }
    if (time && typeof time === "object" && "year" in time) return time;
    if (typeof time === "number") {
      var d = new Date(time * 1000);
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    }
    return null;
  }

  function label(time, type) {
    var p = parts(time);
    if (!p) return null;
    if (type === 0) return String(p.year); // TickMarkType.Year
    if (type === 1) return MONTHS[p.month - 1]; // Month
    return MONTHS[p.month - 1] + " " + p.day; // DayOfMonth (and times, unused for daily bars)
  }

  var states = [];
  var measurer = null;

  function stateOf(el) {
    for (var i = 0; i < states.length; i++) if (states[i].el === el) return states[i];
    var state = { el: el, chart: null, seen: {} };
    states.push(state);
    return state;
  }

  function textWidth(chart, text) {
    if (!measurer) measurer = document.createElement("canvas").getContext("2d");
    var layout = chart.options().layout || {};
    // bold: the library draws the labels of years (and the heavier marks) in bold
    measurer.font = "bold " + (layout.fontSize || 12) + "px " + (layout.fontFamily || "sans-serif");
    return measurer.measureText(text).width;
  }

  function fits(state, time, text) {
    var chart = state.chart;
    if (!chart) return true;
    var scale = chart.timeScale();
    var x = scale.timeToCoordinate(time);
    if (x === null) return true;
    var half = textWidth(chart, text) / 2 + 2;
    return x - half >= 0 && x + half <= scale.width();
  }

  function formatter(state) {
    return function (time, type) {
      var text = label(time, type);
      if (text === null) return null;
      if (!fits(state, time, text)) return "";
      if (state.el && !state.seen[text]) {
        state.seen[text] = true;
        state.el.setAttribute("data-tick-labels", Object.keys(state.seen).join("|"));
      }
      return text;
    };
  }

  function timeScale(el, extra) {
    var options = {
      lockVisibleTimeRangeOnResize: true,
      tickMarkMaxCharacterLength: 6,
      tickMarkFormatter: formatter(stateOf(el)),
    };
    Object.keys(extra || {}).forEach(function (k) { options[k] = extra[k]; });
    return options;
  }

  // Let the formatter see where its labels land; re-format after every scroll or zoom.
  function attach(chart, el) {
    var state = stateOf(el);
    state.chart = chart;
    var pending = false;
    function refresh() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        chart.applyOptions({ timeScale: { tickMarkFormatter: formatter(state) } });
      });
    }
    chart.timeScale().subscribeVisibleLogicalRangeChange(refresh);
    chart.timeScale().subscribeSizeChange(refresh);
  }

  // Bars from..to (logical indexes) with `room` px on both sides: pad * spacing >= room where
  // spacing = width / (bars + 2 * pad).
  function show(chart, from, to, room) {
    room = room === undefined ? 22 : room;
    var width = chart.timeScale().width() || 300;
    var bars = Math.max(to - from + 1, 1);
    var pad = Math.ceil((room * bars) / Math.max(width - 2 * room, 1));
    chart.timeScale().setVisibleLogicalRange({ from: from - pad, to: to + pad });
  }

  window.QunexChartAxis = { timeScale: timeScale, attach: attach, label: label, show: show };
})();
