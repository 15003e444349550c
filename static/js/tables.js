/* Tables wider than their card: the scroller says so and keeps the key column in view.
 *
 * For every .table-wrap, on load, on resize and on scroll:
 * 1. data-overflows when the table is wider than the box; the box then takes keyboard focus
 *    (tabindex 0, a region named after its caption or heading) so it can be scrolled without a
 *    mouse.
 * 2. data-more-left / data-more-right while columns are hidden on that side: the CSS fades
 *    that edge (and shades the sticky first column) so the table visibly continues.
 * 3. data-sticky when the first column is narrow enough (a symbol, a date, a row label) to stay
 *    pinned at the left while the rest scrolls under it.
 */
(function () {
  "use strict";

  function name(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var card = wrap.closest("section, .card");
    var heading = card && card.querySelector("h2, h3");
    return heading ? heading.textContent.trim() : "Table";
  }

  function update(wrap) {
    var over = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.toggleAttribute("data-overflows", over);
    if (over && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", name(wrap) + " (scrolls sideways)");
      wrap.setAttribute("data-focus-added", "");
    } else if (!over && wrap.hasAttribute("data-focus-added")) {
      ["tabindex", "role", "aria-label", "data-focus-added"].forEach(function (a) { wrap.removeAttribute(a); });
    }
    var first = wrap.querySelector("tbody tr > :first-child");
    wrap.toggleAttribute("data-sticky", over && !!first && first.offsetWidth <= wrap.clientWidth * 0.4);
    wrap.toggleAttribute("data-more-left", over && wrap.scrollLeft > 1);
    wrap.toggleAttribute("data-more-right", over && wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1);
  }

  function setup(wrap) {
    var pending = false;
    function schedule() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; update(wrap); });
    }
    update(wrap);
    wrap.addEventListener("scroll", schedule, { passive: true });
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(schedule);
      observer.observe(wrap);
      var table = wrap.querySelector("table");
      if (table) observer.observe(table);
    } else {
      window.addEventListener("resize", schedule);
    }
  }

  document.querySelectorAll(".table-wrap").forEach(setup);
})();
