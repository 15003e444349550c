/* The browser's time zone for people who have not picked one (base.html marks the page
 * <html data-tz-auto="ZONE-IN-USE">): report it in a cookie the server reads
 * (accounts/middleware.py), so times show in the visitor's zone from the first visit.
 *
 * 1. Nothing happens when the zone was picked (no data-tz-auto) or already matches.
 * 2. Only a plain IANA name is sent; the server ignores any name it does not know.
 * 3. A GET page reloads once to show the right times; a second try for the same zone in
 *    this tab never reloads (the server may not know the zone), nor when cookies are off.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var shown = root.getAttribute("data-tz-auto");
  if (shown === null) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === shown || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "qunex_browser_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" + secure;
  if (document.cookie.indexOf("qunex_browser_tz=" + zone) === -1) return; // cookies are off
  if (!root.hasAttribute("data-tz-reload")) return;
  try {
    if (sessionStorage.getItem("qunex-tz-reloaded") === zone) return;
    sessionStorage.setItem("qunex-tz-reloaded", zone);
  } catch (e) { return; }
  location.reload();
})();
