/* Registrar UI helpers (no dependencies beyond Bootstrap). */
(function () {
  "use strict";

  // Documents, class prints and imports being produced: poll their status JSON and update the
  // progress bar; reload when one is ready, failed or finished so the result appears.
  function pollDocuments() {
    var pending = document.querySelectorAll("[data-document-poll]");
    if (!pending.length) { return; }
    var delay = 1000;
    function tick() {
      var remaining = document.querySelectorAll("[data-document-poll]");
      if (!remaining.length) { return; }
      var requests = Array.prototype.map.call(remaining, function (el) {
        return fetch(el.getAttribute("data-document-poll"), {
          headers: {"Accept": "application/json"}, credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
          if (!s) { return false; }
          var wrap = el.querySelector(".progress");
          var bar = el.querySelector(".progress-bar");
          if (wrap) { wrap.setAttribute("aria-valuenow", s.progress); }
          if (bar) {
            bar.style.width = s.progress + "%";
            bar.textContent = s.progress + "%";
          }
          return Boolean(s.ready || s.failed || s.finished);
        }).catch(function () { return false; });
      });
      Promise.all(requests).then(function (done) {
        if (done.some(Boolean)) { window.location.reload(); return; }
        delay = Math.min(delay * 1.3, 5000);
        setTimeout(tick, delay);
      });
    }
    setTimeout(tick, 800);
  }

  // Sizes computed on the server come as data attributes, set here through the CSSOM: the
  // Content-Security-Policy refuses style="…" attributes in the markup.
  function applySizes() {
    document.querySelectorAll("[data-progress]").forEach(function (el) {
      el.style.width = el.getAttribute("data-progress") + "%";
    });
    document.querySelectorAll("[data-max-height]").forEach(function (el) {
      el.style.maxHeight = el.getAttribute("data-max-height") + "px";
    });
    document.querySelectorAll("[data-max-width]").forEach(function (el) {
      el.style.maxWidth = el.getAttribute("data-max-width") + "px";
    });
    document.querySelectorAll("[data-min-width]").forEach(function (el) {
      el.style.minWidth = el.getAttribute("data-min-width") + "px";
    });
    document.querySelectorAll("[data-swatch]").forEach(function (el) {
      el.style.backgroundColor = el.getAttribute("data-swatch");
    });
  }

  // A "select all" checkbox ticks every checkbox named by its data-select-all selector.
  function selectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll(all.getAttribute("data-select-all")).forEach(function (c) {
          c.checked = all.checked;
        });
      });
    });
  }

  // Buttons that submit a form once only (avoid double submissions).
  function guardDoubleSubmit() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    applySizes();
    selectAll();
    pollDocuments();
    guardDoubleSubmit();
  });
})();
