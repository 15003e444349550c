// Transaction form: show only the fields that apply to the chosen type.
(function () {
  "use strict";
  var form = document.getElementById("txn-form");
  if (!form) return;
  var type = form.querySelector('select[name="type"]');
  var hint = document.getElementById("txn-hint");
  var FIELDS = {
    buy: ["symbol", "quantity", "price", "fees"],
    sell: ["symbol", "quantity", "price", "fees"],
    split: ["symbol", "quantity"],
    dividend: ["symbol", "amount"],
    fee: ["symbol", "amount"],
    interest: ["symbol", "amount"],
    deposit: ["amount"],
    withdrawal: ["amount"]
  };
  var HINTS = {
    buy: "Shares bought at a price per share; fees are the commission and join the cost basis.",
    sell: "Closes the oldest lots first (FIFO); a sale of more than you hold is refused.",
    split: "Quantity is the ratio: 4 for a 4-for-1 split, 0.1 for a 1-for-10 reverse split.",
    dividend: "Cash received from a holding.",
    fee: "A charge not tied to one trade (account fee); the symbol is optional.",
    interest: "Interest received; the symbol is optional.",
    deposit: "Money put into the account.",
    withdrawal: "Money taken out of the account."
  };
  var optional = ["symbol", "quantity", "price", "fees", "amount"];

  function apply() {
    var show = FIELDS[type.value] || optional;
    optional.forEach(function (name) {
      var box = form.querySelector('[data-field="' + name + '"]');
      if (!box) return;
      var hasError = box.querySelector(".errorlist");
      box.classList.toggle("is-hidden", show.indexOf(name) < 0 && !hasError);
    });
    var qtyLabel = form.querySelector('label[for="id_quantity"]');
    if (qtyLabel) qtyLabel.textContent = type.value === "split" ? "Split ratio:" : "Quantity:";
    if (hint) hint.textContent = HINTS[type.value] || "";
  }
  type.addEventListener("change", apply);
  apply();
})();
