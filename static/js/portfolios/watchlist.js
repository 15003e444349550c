// Watchlist tables (the watchlist page and the dashboard panel): live quotes from the feed.
(function () {
  "use strict";
  var feed = window.QunexPortfolioFeed;
  if (!feed) return;

  document.querySelectorAll("table[data-feed-url][data-symbols]").forEach(function (table) {
    if (table.id === "pf-holdings" || !table.dataset.symbols) return;
    var rows = {};
    table.querySelectorAll("tbody tr[data-symbol]").forEach(function (tr) { rows[tr.dataset.symbol] = tr; });

    function update(quotes) {
      Object.keys(quotes).forEach(function (symbol) {
        var tr = rows[symbol];
        if (!tr) return;
        var q = quotes[symbol];
        var priceCell = tr.querySelector('[data-cell="price"]');
        var old = Number(String(priceCell.textContent).replace(/[^0-9.\-]/g, ""));
        priceCell.textContent = feed.fmt.price(q.price);
        if (isFinite(old) && old > 0) feed.flash(priceCell, q.price - old);
        var prev = q.previousClose !== null ? q.previousClose
          : (q.change !== null ? q.price - q.change : (tr.dataset.prev ? Number(tr.dataset.prev) : null));
        var dayCell = tr.querySelector('[data-cell="day"]');
        if (dayCell && prev) {
          var change = q.price - prev;
          var pct = q.changePct !== null ? q.changePct : change / prev * 100;
          dayCell.innerHTML = "";
          if (table.id !== "wl-table-dash") dayCell.append(feed.fmt.signed(change) + " ");
          var small = document.createElement("span"); small.className = "small";
          small.textContent = feed.fmt.pct(pct);
          dayCell.append(small);
          feed.setSign(dayCell, change);
        }
      });
    }

    feed.start({
      url: table.dataset.feedUrl,
      symbols: table.dataset.symbols.split(","),
      onQuotes: update,
      onStatus: feed.statusText(table.id === "wl-table" ? document.getElementById("pf-feed-status") : null)
    });
  });
})();
