/* Registrar UI helpers (no dependencies beyond Bootstrap). */
(function () {
  "use strict";

  // Documents being produced: poll their status JSON and update the progress bar;
  // reload when one is ready or failed so the download link appears.
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
          return Boolean(s.ready || s.failed);
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
    pollDocuments();
    guardDoubleSubmit();
  });
})();
