// The 15-second quote feed for portfolio and watchlist pages: GET <url>?symbols=A,B with
// If-None-Match, so an unchanged feed costs a 304. Pages render with fresh prices, so the
// first poll waits one interval; polling pauses while the tab is hidden.
(function () {
  "use strict";

  function num(value) {
    if (value === null || value === undefined || value === "") return null;
    var n = Number(value);
    return isFinite(n) ? n : null;
  }

  // Accepts {quotes: [...]}, {results: [...]}, {data: [...]}, a list, or {SYMBOL: {...}}.
  function parseQuotes(body) {
    var list = body && (body.quotes || body.results || body.data);
    var out = {};
    if (!list && Array.isArray(body)) list = body;
    if (!list && body && typeof body === "object") {
      list = Object.keys(body).map(function (key) {
        var q = body[key];
        return q && typeof q === "object" ? Object.assign({ symbol: key }, q) : null;
      });
    }
    if (list && !Array.isArray(list) && typeof list === "object") {
      list = Object.keys(list).map(function (key) { return Object.assign({ symbol: key }, list[key]); });
    }
    (list || []).forEach(function (q) {
      if (!q) return;
      var symbol = String(q.symbol || q.ticker || "").toUpperCase();
      var price = num(q.price !== undefined ? q.price : (q.last !== undefined ? q.last : q.close));
      if (!symbol || price === null) return;
      out[symbol] = {
        price: price,
        change: num(q.change),
        changePct: num(q.change_pct !== undefined ? q.change_pct : (q.changePct !== undefined ? q.changePct : q.change_percent)),
        previousClose: num(q.previous_close !== undefined ? q.previous_close : q.prev_close)
      };
    });
    return out;
  }

  var MAX_SYMBOLS = 50; // the feed's limit per request

  function start(options) {
    var symbols = (options.symbols || []).filter(Boolean);
    if (!options.url || !symbols.length) return null;
    if (symbols.length > MAX_SYMBOLS) {
      var pollers = [];
      for (var i = 0; i < symbols.length; i += MAX_SYMBOLS) {
        pollers.push(start(Object.assign({}, options, { symbols: symbols.slice(i, i + MAX_SYMBOLS) })));
      }
      return { stop: function () { pollers.forEach(function (p) { if (p) p.stop(); }); } };
    }
    var interval = options.interval || 15000;
    var onStatus = options.onStatus || function () {};
    var etag = null;
    var timer = null;
    var stopped = false;
    var delay = interval;
    var url = options.url + (options.url.indexOf("?") >= 0 ? "&" : "?") + "symbols=" + encodeURIComponent(symbols.join(","));

    function schedule() {
      if (!stopped && !document.hidden) timer = window.setTimeout(poll, delay);
    }

    function poll() {
      timer = null;
      if (document.hidden) return;
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
        .then(function (res) {
          if (res.status === 304) { onStatus("fresh"); return null; }
          if (res.status === 400 || res.status === 404 || res.status === 401 || res.status === 403) {
            stopped = true; onStatus("unavailable"); return null;
          }
          if (!res.ok) { onStatus("error"); return null; }
          etag = res.headers.get("ETag") || etag;
          return res.json().then(function (body) {
            // The server says when to ask again: 15 s while the market is open, 60 s closed.
            if (body && body.poll_seconds) delay = Math.max(5, Number(body.poll_seconds)) * 1000;
            options.onQuotes(parseQuotes(body));
            onStatus("updated");
          });
        })
        .catch(function () { onStatus("offline"); })
        .then(schedule);
    }

    document.addEventListener("visibilitychange", function () {
      if (timer) window.clearTimeout(timer);
      timer = null;
      if (!document.hidden && !stopped) poll();
    });
    schedule();
    return { stop: function () { stopped = true; if (timer) window.clearTimeout(timer); } };
  }

  var money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function fmtMoney(x) {
    var text = money.format(Math.abs(x));
    return (x < 0 && text !== "0.00" ? "\u2212" : "") + text;
  }
  function fmtSigned(x) {
    var text = money.format(Math.abs(x));
    if (text === "0.00") return text;
    return (x > 0 ? "+" : "\u2212") + text;
  }
  function fmtPct(x) {
    if (x === null || !isFinite(x)) return "\u2014";
    var text = money.format(Math.abs(x)) + "%";
    if (text === "0.00%") return text;
    return (x > 0 ? "+" : "\u2212") + text;
  }
  function fmtPrice(x) {
    var places = Math.abs(x * 100 - Math.round(x * 100)) > 1e-6 ? 4 : 2;
    return new Intl.NumberFormat("en-US", { minimumFractionDigits: places, maximumFractionDigits: places }).format(x);
  }
  function setSign(el, x) {
    el.classList.toggle("up", x > 0);
    el.classList.toggle("down", x < 0);
  }
  function flash(el, direction) {
    if (!direction) return;
    el.classList.remove("flash-up", "flash-down");
    void el.offsetWidth; // restart the animation
    el.classList.add(direction > 0 ? "flash-up" : "flash-down");
  }
  function statusText(el) {
    return function (state) {
      if (!el) return;
      var now = new Date();
      var time = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      var texts = {
        updated: "Prices updated " + time + ".",
        fresh: "Prices checked " + time + "; no change.",
        error: "The price feed answered with an error; retrying in 15 seconds.",
        offline: "Offline: prices will refresh when the connection is back.",
        unavailable: "Live prices are unavailable; prices shown are from the last page load."
      };
      el.textContent = texts[state] || "";
    };
  }

  window.QunexPortfolioFeed = {
    start: start,
    parseQuotes: parseQuotes,
    fmt: { money: fmtMoney, signed: fmtSigned, pct: fmtPct, price: fmtPrice },
    setSign: setSign,
    flash: flash,
    statusText: statusText
  };
})();
