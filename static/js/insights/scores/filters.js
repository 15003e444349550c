/* AI-scores page: apply a filter as soon as a select changes (the Filter button stays for
 * keyboard users and for browsers without JavaScript). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (!form) return;
  form.addEventListener("change", function (event) {
    if (event.target && event.target.tagName === "SELECT") form.submit();
  });
})();
