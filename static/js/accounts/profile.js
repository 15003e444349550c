// Profile page: a Copy button for the freshly created API token (shown only where the clipboard works).
(function () {
  "use strict";
  var button = document.getElementById("copy-token");
  if (!button || !navigator.clipboard) {
    return;
  }
  var source = document.getElementById(button.dataset.target);
  button.classList.remove("hidden");
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select and copy the token by hand"; }
    );
  });
})();
