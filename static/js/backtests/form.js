// New-backtest form: show only the selected strategy's parameter and sweep fieldsets.
// Hidden fieldsets are disabled too, so their inputs are neither validated nor submitted.
(function () {
  "use strict";
  var select = document.getElementById("id_strategy");
  if (!select) return;
  var groups = document.querySelectorAll("fieldset.strategy-params[data-strategy]");

  function apply() {
    groups.forEach(function (fieldset) {
      var active = fieldset.getAttribute("data-strategy") === select.value;
      fieldset.hidden = !active;
      fieldset.disabled = !active;
    });
  }

  select.addEventListener("change", apply);
  apply();

  var ticker = document.getElementById("id_ticker");
  if (ticker) {
    ticker.addEventListener("change", function () {
      ticker.value = ticker.value.trim().toUpperCase();
    });
  }
})();
