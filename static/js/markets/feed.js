/* Qunex quote feed: polls /api/market-data for every [data-quote] on the page.
 *
 * Markup contract (any template can use it, e.g. a dashboard panel):
 *   <div data-feed data-feed-url="/api/market-data" data-poll-seconds="15"
 *        data-closed-poll-seconds="60" data-market-open="true|false" data-max-symbols="50">
 *     <tr data-quote="AAPL">
 *       <td data-q="price"></td> <td data-q="change"></td> <td data-q="change_pct" data-updown></td>
 *       <span data-q="age" data-as-of="2026-01-02T15:04:05+00:00"></span>
 *     </tr>
 *   </div>
 * An element with data-updown (or containing the change) gets the class up/down.
 *
 * 1. Sends If-None-Match with the last ETag; a 304 keeps what is shown.
 * 2. Waits poll_seconds from the answer (15 s open, 60 s closed), or the data attributes.
 * 3. Stops while the tab is hidden (visibilitychange) and polls at once when it is back.
 * 4. Ages ("12s ago") tick every second against the server's clock.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-feed]");
  if (!root) return;

  var url = root.getAttribute("data-feed-url");
  var openSeconds = Number(root.getAttribute("data-poll-seconds")) || 15;
  var closedSeconds = Number(root.getAttribute("data-closed-poll-seconds")) || 60;
  var maxSymbols = Number(root.getAttribute("data-max-symbols")) || 50;
  var marketOpen = root.getAttribute("data-market-open") !== "false";
  var stateEl = root.querySelector("[data-feed-state]");

  var etag = null;
  var timer = null;
  var inFlight = false;
  var clockSkewMs = 0; // server time - browser time
  var lastOkAt = null;
  var nextDelay = null;

  function symbols() {
    var seen = {};
    var list = [];
    root.querySelectorAll("[data-quote]").forEach(function (el) {
      var s = el.getAttribute("data-quote");
      if (s && !seen[s]) {
        seen[s] = true;
        list.push(s);
      }
    });
    return list.slice(0, maxSymbols);
  }

  var nf2 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var nf4 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 4, maximumFractionDigits: 4 });

  function fmtPrice(v) {
    if (v === null || v === undefined) return "—";
    var n = Number(v);
    return Math.abs(n) < 1 ? nf4.format(n) : nf2.format(n);
  }
  function fmtSigned(v, suffix) {
    if (v === null || v === undefined) return "—";
    var n = Number(v);
    var text = nf2.format(Math.abs(n)) + (suffix || "");
    return n > 0 ? "+" + text : n < 0 ? "\u2212" + text : text;
  }
  function fmtAge(seconds) {
    if (seconds < 60) return Math.max(0, Math.floor(seconds)) + "s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h ago";
    return Math.floor(seconds / 86400) + "d ago";
  }
  function setDirection(el, value) {
    var n = value === null || value === undefined ? 0 : Number(value);
    el.classList.toggle("up", n > 0);
    el.classList.toggle("down", n < 0);
  }

  function apply(quote) {
    var selector = '[data-quote="' + quote.symbol.replace(/"/g, "") + '"]';
    root.querySelectorAll(selector).forEach(function (el) {
      var changed = false;
      el.querySelectorAll("[data-q]").forEach(function (f) {
        var field = f.getAttribute("data-q");
        var text = null;
        if (field === "price") text = fmtPrice(quote.price);
        else if (field === "change") text = fmtSigned(quote.change);
        else if (field === "change_pct") text = fmtSigned(quote.change_pct, "%");
        else if (field === "age") {
          f.setAttribute("data-as-of", quote.as_of);
          f.setAttribute("title", "as of " + new Date(quote.as_of).toLocaleString() + " · " + quote.source);
          return;
        }
        if (text !== null && f.textContent !== text) {
          f.textContent = text;
          changed = true;
        }
      });
      el.querySelectorAll("[data-updown]").forEach(function (f) {
        setDirection(f, quote.change_pct !== null ? quote.change_pct : quote.change);
      });
      if (changed) {
        el.classList.remove("flash");
        void el.offsetWidth; // restart the animation
        el.classList.add("flash");
      }
    });
  }

  function tickAges() {
    var now = Date.now() + clockSkewMs;
    root.querySelectorAll("[data-q='age'][data-as-of]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-as-of"));
      if (!isNaN(t)) el.textContent = fmtAge((now - t) / 1000);
    });
    if (stateEl && lastOkAt) {
      stateEl.textContent = "Live · checked " + fmtAge((Date.now() - lastOkAt) / 1000);
    }
  }

  function updateMarket(market) {
    if (!market) return;
    marketOpen = !!market.is_open;
    root.setAttribute("data-market-open", marketOpen ? "true" : "false");
  }

  function schedule(seconds) {
    clearTimeout(timer);
    timer = null;
    if (document.hidden) return;
    nextDelay = seconds;
    timer = setTimeout(poll, seconds * 1000);
  }

  function defaultDelay() {
    return marketOpen ? openSeconds : closedSeconds;
  }

  function poll() {
    timer = null;
    if (inFlight || document.hidden) return;
    var list = symbols();
    if (!list.length) return;
    inFlight = true;
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url + "?symbols=" + encodeURIComponent(list.join(",")), {
      headers: headers,
      cache: "no-store",
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status === 304) {
          lastOkAt = Date.now();
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        var delay = defaultDelay();
        if (data) {
          lastOkAt = Date.now();
          if (data.server_time) clockSkewMs = Date.parse(data.server_time) - Date.now();
          data.quotes.forEach(apply);
          updateMarket(data.market);
          // The page's own interval (a setting) wins over the server's hint when shorter.
          delay = marketOpen ? Math.min(openSeconds, data.poll_seconds || openSeconds) : closedSeconds;
        }
        root.classList.remove("feed-error");
        tickAges();
        schedule(delay);
      })
      .catch(function () {
        root.classList.add("feed-error");
        if (stateEl) stateEl.textContent = "Offline · retrying";
        schedule(Math.max(defaultDelay(), 15));
      })
      .finally(function () {
        inFlight = false;
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer && !inFlight) {
      poll();
    }
  });

  tickAges();
  setInterval(tickAges, 1000);
  schedule(defaultDelay());
})();
