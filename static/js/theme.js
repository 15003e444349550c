// Applies the saved light/dark choice before the page paints (loaded in <head>, no inline script).
(function () {
  var saved = null;
  try { saved = localStorage.getItem("qunex-theme"); } catch (e) { /* storage blocked */ }
  if (saved === "light" || saved === "dark") {
    document.documentElement.setAttribute("data-theme", saved);
  }
})();
