/* Qunex number formatting for figures drawn by scripts: the same rule and the same output as
 * the server's filters (qunex/templatetags/numbers.py; tests/core/test_numbers.py runs both
 * over one table of cases).
 *
 * 1. null, undefined, "", NaN, +/-Infinity and garbage render as an em dash.
 * 2. Rounding is half away from zero on the number as written (1.005 -> "1.01").
 * 3. A real minus sign (U+2212); a figure that rounds to zero has no sign.
 * 4. Changes are signed ("+1.20", "+1.23%"); money carries "$" wherever it is shown
 *    ("+$12.00", compact "$1.20M", a chart axis "$12,000"); returns read "+1.00%".
 *
 * window.QunexFormat = { price, number, money, signed, signedMoney, pct, plainPct, points,
 *                        compact, compactMoney, tickmarks }
 */
(function (root) {
  "use strict";

  var MINUS = "\u2212";
  var DASH = "\u2014";
  var CURRENCY = "$";
  var formats = {};

  function num(value) {
    if (value === null || value === undefined || value === "" || typeof value === "boolean") return null;
    var n = Number(value);
    return isFinite(n) ? n : null;
  }
  // |x| rounded half away from zero at `digits` decimals, on its shortest decimal form
  // (1.005 is "1.005", so it rounds to 1.01 as the server's Decimal does).
  function roundAbs(x, digits) {
    var text = String(Math.abs(x));
    if (/e/i.test(text)) return Math.abs(x); // below 1e-6 or above 1e21: no digits to round
    return Number(Math.round(Number(text + "e" + digits)) + "e-" + digits);
  }
  function fixed(x, digits) {
    if (!formats[digits]) {
      formats[digits] = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    return formats[digits].format(roundAbs(x, digits));
  }
  function isZero(text) { return !/[1-9]/.test(text); }
  function minus(x, text) { return x < 0 && !isZero(text) ? MINUS + text : text; }
  function sign(x, text) { return isZero(text) ? text : (x > 0 ? "+" : MINUS) + text; }
  // 4 decimals under $1 or for a sub-cent price written with 3 or 4 decimals, else 2.
  function places(x) {
    var text = String(Math.abs(x));
    var decimals = /e/i.test(text) ? 0 : (text.split(".")[1] || "").length;
    return Math.abs(x) < 1 || decimals === 3 || decimals === 4 ? 4 : 2;
  }
  var SIZES = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"], [1, ""]];
  function mantissa(scaled, suffix) {
    if (!suffix) return fixed(scaled, 0);
    var text = fixed(scaled, 2);
    return Number(text.replace(/,/g, "")) < 100 ? text : fixed(scaled, 1);
  }
  function digitsOr(digits, fallback) { return digits === undefined || digits === null ? fallback : digits; }

  var api = {
    MINUS: MINUS,
    DASH: DASH,
    num: num,
    price: function (x) {
      x = num(x);
      return x === null ? DASH : minus(x, fixed(x, places(x)));
    },
    number: function (x, digits) {
      x = num(x);
      return x === null ? DASH : minus(x, fixed(x, digitsOr(digits, 2)));
    },
    money: function (x, digits) {
      x = num(x);
      if (x === null) return DASH;
      var text = fixed(x, digitsOr(digits, 2));
      return (x < 0 && !isZero(text) ? MINUS : "") + CURRENCY + text;
    },
    signed: function (x, suffix, digits) {
      x = num(x);
      return x === null ? DASH : sign(x, fixed(x, digitsOr(digits, 2)) + (suffix || ""));
    },
    signedMoney: function (x) {
      x = num(x);
      if (x === null) return DASH;
      var text = fixed(x, 2);
      return isZero(text) ? CURRENCY + text : (x > 0 ? "+" : MINUS) + CURRENCY + text;
    },
    pct: function (x, digits) { return api.signed(x, "%", digits); },
    plainPct: function (x, digits) {
      x = num(x);
      return x === null ? DASH : minus(x, fixed(x, digitsOr(digits, 2)) + "%");
    },
    points: function (x, digits) {
      x = num(x);
      return x === null ? DASH : api.signed(x * 100, "", digits);
    },
    // 3_010_000_000_000 -> "3.01T", 45_600_000 -> "45.60M", 950 -> "950"; the unit is chosen
    // after rounding (999_999 -> "1.00M").
    compact: function (x) {
      x = num(x);
      if (x === null) return DASH;
      var size = Math.abs(x), i = 0;
      while (i < SIZES.length - 1 && size < SIZES[i][0]) i++;
      var text = mantissa(size / SIZES[i][0], SIZES[i][1]) + SIZES[i][1];
      if (i > 0 && Number(text.slice(0, text.length - SIZES[i][1].length).replace(/,/g, "")) >= 1000) {
        text = mantissa(size / SIZES[i - 1][0], SIZES[i - 1][1]) + SIZES[i - 1][1];
      }
      return x < 0 && /[1-9]/.test(text) ? MINUS + text : text;
    },
    compactMoney: function (x) {
      var text = api.compact(x);
      if (text === DASH) return DASH;
      return text.charAt(0) === MINUS ? MINUS + CURRENCY + text.slice(1) : CURRENCY + text;
    },
    // A chart axis's tick formatter: `format(value, digits)` at the fewest decimals (up to
    // `most`, 2 by default) that show every tick exactly, the same for all: "$10,000", "-5%".
    tickmarks: function (format, most) {
      return function (values) {
        var digits = 0, limit = digitsOr(most, 2);
        while (digits < limit && !values.every(function (v) {
          return Math.abs(roundAbs(v, digits) - Math.abs(v)) <= 1e-9 * Math.max(1, Math.abs(v));
        })) digits++;
        return values.map(function (v) { return format(v, digits); });
      };
    }
  };

  root.QunexFormat = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
