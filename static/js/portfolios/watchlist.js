// The watchlist table: live quotes from the page's one feed (static/js/feed.js).
(function () {
  "use strict";
  var feed = window.QunexFeed;
  if (!feed) return;

  document.querySelectorAll("table#wl-table[data-symbols]").forEach(function (table) {
    if (!table.dataset.symbols) return;
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
          dayCell.append(feed.fmt.signed(change) + " ");
          var small = document.createElement("span"); small.className = "small";
          small.textContent = feed.fmt.pct(pct);
          dayCell.append(small);
          feed.setSign(dayCell, change);
        }
      });
    }

    feed.subscribe(table.dataset.symbols.split(","), update);
  });
})();
