// Polls the status endpoint for queued/running backtests on the page ([data-backtest-id])
// and reloads the page when one of them has finished, so its results appear.
(function () {
  "use strict";
  var root = document.querySelector("[data-poll-url]");
  if (!root) return;
  var url = root.getAttribute("data-poll-url");
  var rows = document.querySelectorAll("[data-backtest-id]");
  var ids = Array.prototype.map.call(rows, function (el) { return el.getAttribute("data-backtest-id"); });
  if (!ids.length) return;
  var query = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
  var delay = 2000;
  var statusClasses = ["queued", "running", "succeeded", "failed", "cancelled"];

  function badgeFor(id) {
    var holder = document.querySelector('[data-backtest-id="' + id + '"]');
    return (holder && holder.querySelector("[data-status-badge]")) || document.querySelector("[data-status-badge]");
  }

  function show(job) {
    var badge = badgeFor(String(job.id));
    if (!badge) return;
    badge.textContent = job.status_label;
    statusClasses.forEach(function (s) { badge.classList.remove("status-" + s); });
    badge.classList.add("status-" + job.status);
  }

  function schedule(ms) { window.setTimeout(poll, ms); }

  function poll() {
    if (document.hidden) { schedule(delay); return; }
    fetch(url + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (data) {
        var finished = false;
        data.backtests.forEach(function (job) {
          show(job);
          if (job.finished) finished = true;
        });
        if (finished) { window.location.reload(); return; }
        delay = Math.min(delay * 1.3, 15000);
        schedule(delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 60000);
        schedule(delay);
      });
  }

  schedule(delay);
})();
