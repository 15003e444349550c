/* Qunex quote feed: ONE poller per page for /api/market-data, used by every page.
 *
 * Markup contract:
 *   <div data-feed data-feed-url="/api/market-data" data-poll-seconds="15"
 *        data-closed-poll-seconds="60" data-market-open="true|false" data-max-symbols="50">
 *     <p data-feed-state>What the page does, rendered by the server.</p>
 *     <tr data-quote="AAPL">
 *       <td data-q="price"></td> <td data-q="change"></td> <td data-q="change_pct" data-updown></td>
 *       <span data-q="age" data-as-of="2026-01-02T15:04:05+00:00"></span>
 *     </tr>
 *   </div>
 * Scripts with their own tables (portfolio holdings, watchlists) call
 *   QunexFeed.subscribe(["AAPL", "MSFT"], function (quotes) { ... quotes.AAPL.price ... })
 * and share the same requests.
 *
 * 1. One request cycle at a time (an in-flight guard): hiding and showing the tab during a
 *    fetch never starts a second loop. Symbols beyond data-max-symbols go in more requests of
 *    the same cycle, each with its own ETag (If-None-Match; a 304 keeps what is shown).
 * 2. The next poll waits the server's poll_seconds (15 s while the market is open, 60 s when
 *    closed), else the data attributes; nothing polls while the tab is hidden, and it polls at
 *    once when the tab is shown again. A 304 carries no body, so the market's next close and
 *    open from the last 200 switch the interval when they pass (after the close nothing
 *    changes, and the page must not keep asking every 15 s all night).
 * 3. The status line says what happens ("Market closed · checking every 60 s"). Only a
 *    change of that sentence is announced (aria-live); the time of the last check is shown
 *    beside it, outside the live region, so screen readers are not told every second.
 * 4. Ages ("12s ago") tick every second against the server's clock.
 */
(function () {
  "use strict";
  // --- formatting: static/js/format.js (the same rule as the server's number filters) ---
  var fmt = window.QunexFormat;
  var num = fmt.num;
  function setSign(el, x) {
    x = num(x) || 0;
    el.classList.toggle("up", x > 0);
    el.classList.toggle("down", x < 0);
  }
  function flash(el, direction) {
    if (!direction) return;
    el.classList.remove("flash-up", "flash-down", "flash");
    void el.offsetWidth; // restart the animation
    el.classList.add(direction > 0 ? "flash-up" : "flash-down");
  }
  function fmtAge(seconds) {
    if (seconds < 60) return Math.max(0, Math.floor(seconds)) + "s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h ago";
    return Math.floor(seconds / 86400) + "d ago";
  }

  function normalise(q) {
    return {
      symbol: String(q.symbol || "").toUpperCase(),
      price: num(q.price),
      change: num(q.change),
      changePct: num(q.change_pct),
      previousClose: num(q.price) !== null && num(q.change) !== null ? num(q.price) - num(q.change) : null,
      asOf: q.as_of || null,
      source: q.source || "",
      raw: q
    };
  }

  // --- the poller ---
  var root = document.querySelector("[data-feed]");
  var subscribers = [];
  var state = {
    url: root ? root.getAttribute("data-feed-url") : null,
    openSeconds: root ? Number(root.getAttribute("data-poll-seconds")) || 15 : 15,
    closedSeconds: root ? Number(root.getAttribute("data-closed-poll-seconds")) || 60 : 60,
    maxSymbols: root ? Number(root.getAttribute("data-max-symbols")) || 50 : 50,
    marketOpen: root ? root.getAttribute("data-market-open") !== "false" : true,
    etags: {},
    timer: null,
    inFlight: false,
    stopped: false,
    started: false,
    clockSkewMs: 0,
    lastCheck: null,
    nextSeconds: null,
    serverSeconds: null,
    nextOpen: null,
    nextClose: null,
    mode: ""
  };

  function statusEls() {
    return root ? root.querySelectorAll("[data-feed-state]") : [];
  }
  function statusParts(el) {
    if (!el._feedParts) {
      el.removeAttribute("aria-live"); // only the mode sentence below is live
      el.textContent = "";
      var mode = document.createElement("span");
      mode.className = "feed-mode";
      mode.setAttribute("role", "status");
      mode.setAttribute("aria-live", "polite");
      var checked = document.createElement("span");
      checked.className = "feed-checked";
      el.append(mode, checked);
      el._feedParts = { mode: mode, checked: checked };
    }
    return el._feedParts;
  }
  function showStatus(mode) {
    var time = state.lastCheck
      ? " · last checked " + state.lastCheck.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
      : "";
    statusEls().forEach(function (el) {
      var parts = statusParts(el);
      if (parts.mode.textContent !== mode) parts.mode.textContent = mode; // announced
      parts.checked.textContent = mode && state.mode !== "unavailable" ? time : "";
    });
  }
  function modeText(kind, seconds) {
    if (kind === "error") return "The price feed answered with an error · trying again in " + seconds + " s";
    if (kind === "offline") return "Offline · trying again in " + seconds + " s";
    if (kind === "unavailable") return "Live prices unavailable · prices are from the page load";
    if (kind === "paused") return "Paused while this tab is hidden";
    return (state.marketOpen ? "Market open · prices checked every " : "Market closed · prices checked every ") + seconds + " s";
  }

  function symbols() {
    var seen = {};
    var list = [];
    function add(s) {
      s = String(s || "").trim().toUpperCase();
      if (s && !seen[s]) { seen[s] = true; list.push(s); }
    }
    if (root) root.querySelectorAll("[data-quote]").forEach(function (el) { add(el.getAttribute("data-quote")); });
    subscribers.forEach(function (sub) { sub.symbols.forEach(add); });
    return list;
  }

  function applyToMarkup(quote) {
    if (!root) return;
    var selector = '[data-quote="' + quote.symbol.replace(/"/g, "") + '"]';
    root.querySelectorAll(selector).forEach(function (el) {
      var changed = 0;
      el.querySelectorAll("[data-q]").forEach(function (f) {
        var field = f.getAttribute("data-q");
        var text = null;
        if (field === "price") {
          var old = num(String(f.textContent).replace(/[^0-9.]/g, ""));
          text = fmt.price(quote.price);
          if (old !== null && quote.price !== null && f.textContent !== text) changed = quote.price - old;
        } else if (field === "change") text = fmt.signed(quote.change);
        else if (field === "change_pct") text = fmt.pct(quote.changePct);
        else if (field === "age") {
          if (quote.asOf) {
            f.setAttribute("data-as-of", quote.asOf);
            f.setAttribute("title", "as of " + new Date(quote.asOf).toLocaleString() + " · " + quote.source);
          }
          return;
        }
        if (text !== null && f.textContent !== text) f.textContent = text;
      });
      el.querySelectorAll("[data-updown]").forEach(function (f) {
        setSign(f, quote.changePct !== null ? quote.changePct : quote.change);
      });
      if (changed) { // the row's own animation (markets.css .flash)
        el.classList.remove("flash");
        void el.offsetWidth;
        el.classList.add("flash");
      }
    });
  }

  function tickAges() {
    if (!root) return;
    var now = Date.now() + state.clockSkewMs;
    root.querySelectorAll("[data-q='age'][data-as-of]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-as-of"));
      if (!isNaN(t)) el.textContent = fmtAge((now - t) / 1000);
    });
  }

  function schedule(seconds) {
    window.clearTimeout(state.timer);
    state.timer = null;
    if (state.stopped || document.hidden) return;
    state.nextSeconds = seconds;
    state.timer = window.setTimeout(poll, seconds * 1000);
  }

  function defaultSeconds() {
    return state.marketOpen ? state.openSeconds : state.closedSeconds;
  }

  // The interval to wait now: the server's last word, unless the market has opened or
  // closed since (known from the last 200's next_open / next_close).
  function currentSeconds() {
    var now = Date.now() + state.clockSkewMs;
    var flip = state.marketOpen ? state.nextClose : state.nextOpen;
    if (flip && now >= flip) {
      state.marketOpen = !state.marketOpen;
      state.serverSeconds = null;
      state[state.marketOpen ? "nextOpen" : "nextClose"] = null;
      if (root) root.setAttribute("data-market-open", state.marketOpen ? "true" : "false");
    }
    return state.serverSeconds || defaultSeconds();
  }

  function fetchChunk(list) {
    var key = list.join(",");
    var headers = { Accept: "application/json" };
    if (state.etags[key]) headers["If-None-Match"] = state.etags[key];
    var sep = state.url.indexOf("?") >= 0 ? "&" : "?";
    return fetch(state.url + sep + "symbols=" + encodeURIComponent(key), {
      headers: headers,
      cache: "no-store",
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 304) return null;
      if ([400, 401, 403, 404].indexOf(response.status) >= 0) {
        var err = new Error("unavailable");
        err.permanent = true;
        throw err;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      state.etags[key] = response.headers.get("ETag") || state.etags[key];
      return response.json();
    });
  }

  function poll() {
    state.timer = null;
    if (state.inFlight || state.stopped || document.hidden || !state.url) return;
    var list = symbols();
    if (!list.length) return;
    var chunks = [];
    for (var i = 0; i < list.length; i += state.maxSymbols) chunks.push(list.slice(i, i + state.maxSymbols));
    state.inFlight = true;
    Promise.all(chunks.map(fetchChunk))
      .then(function (answers) {
        var quotes = {};
        answers.forEach(function (data) {
          if (!data) return;
          if (data.server_time) state.clockSkewMs = Date.parse(data.server_time) - Date.now();
          if (data.market) {
            state.marketOpen = !!data.market.is_open;
            state.nextOpen = Date.parse(data.market.next_open) || null;
            state.nextClose = Date.parse(data.market.next_close) || null;
            root.setAttribute("data-market-open", state.marketOpen ? "true" : "false");
          }
          if (data.poll_seconds) state.serverSeconds = Math.max(1, Number(data.poll_seconds));
          (data.quotes || []).forEach(function (q) {
            var quote = normalise(q);
            if (quote.symbol && quote.price !== null) quotes[quote.symbol] = quote;
          });
        });
        Object.keys(quotes).forEach(function (s) { applyToMarkup(quotes[s]); });
        subscribers.forEach(function (sub) {
          var mine = {};
          sub.symbols.forEach(function (s) { if (quotes[s]) mine[s] = quotes[s]; });
          if (Object.keys(mine).length) sub.onQuotes(mine);
        });
        // A 304 carries no body: keep the server's last word, until the market turns.
        var seconds = currentSeconds();
        state.lastCheck = new Date();
        state.mode = "live";
        root.classList.remove("feed-error");
        showStatus(modeText("live", seconds));
        tickAges();
        return seconds;
      })
      .catch(function (err) {
        root.classList.add("feed-error");
        if (err && err.permanent) {
          state.stopped = true;
          state.mode = "unavailable";
          showStatus(modeText("unavailable"));
          return null;
        }
        var retry = Math.max(defaultSeconds(), 15);
        state.mode = navigator.onLine === false ? "offline" : "error";
        showStatus(modeText(state.mode, retry));
        return retry;
      })
      .then(function (seconds) {
        state.inFlight = false;
        if (seconds !== null) schedule(seconds);
      });
  }

  function onVisibility() {
    if (document.hidden) {
      window.clearTimeout(state.timer);
      state.timer = null;
    } else if (!state.inFlight && !state.stopped) {
      poll(); // back in view: ask at once (the in-flight guard keeps it one loop)
    }
  }

  function start() {
    if (state.started || !root || !state.url) return;
    state.started = true;
    document.addEventListener("visibilitychange", onVisibility);
    tickAges();
    window.setInterval(tickAges, 1000);
    // Pages render with fresh prices: the first poll waits one interval.
    schedule(defaultSeconds());
  }

  window.QunexFeed = {
    subscribe: function (list, onQuotes) {
      subscribers.push({
        symbols: (list || []).map(function (s) { return String(s).trim().toUpperCase(); }).filter(Boolean),
        onQuotes: onQuotes
      });
      start();
    },
    fmt: fmt,
    setSign: setSign,
    flash: flash,
    num: num,
    _state: state, // read by the browser tests
    _poll: poll
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
