/* Grade entry grid (grades:offering_detail): spreadsheet-like keyboard movement, pasting a
 * block from Excel, a live composite preview computed with the same rules as grades/scoring.py,
 * and saving the changed rows as JSON (the server re-checks everything and is authoritative).
 *
 * Stable hooks: form#grade-grid-form[data-editable], input.grade-cell[data-student][data-component]
 * [data-row][data-col][data-saved], td[data-composite][data-student], #save-grades, #autosave,
 * #save-status, #entry-errors [data-errors-list]. The page works without this script (form POST).
 */
(function () {
  "use strict";

  var form = document.getElementById("grade-grid-form");
  var configEl = document.getElementById("grid-config");
  if (!form || !configEl || form.getAttribute("data-editable") !== "1") { return; }
  var cfg = JSON.parse(configEl.textContent);
  var msg = cfg.messages || {};
  var cells = Array.prototype.slice.call(form.querySelectorAll("input.grade-cell"));
  var grid = [];  // grid[row][col] = input
  cells.forEach(function (input) {
    var r = +input.getAttribute("data-row"), c = +input.getAttribute("data-col");
    (grid[r] = grid[r] || [])[c] = input;
  });
  var statusEl = document.getElementById("save-status");
  var autosave = document.getElementById("autosave");
  var errorsBox = document.getElementById("entry-errors");
  var saving = false, queued = false, timer = null, focusValue = "";

  // --- scoring (mirror of grades/scoring.py) ------------------------------------------------
  var PRIORITY = ["cheating", "absent", "deferred", "exempt"];
  var FAILING = {cheating: true, absent: true};

  function parse(raw) {
    var text = String(raw == null ? "" : raw).trim();
    if (!text) { return {blank: true}; }
    var mark = cfg.marks[text] || cfg.marks[text.toLowerCase()];
    if (mark) { return {mark: mark}; }
    var isFive = Object.prototype.hasOwnProperty.call(cfg.fiveLevels, text);
    var isPF = cfg.passFail.indexOf(text) >= 0;
    if (cfg.scale === "five_level" && isFive) { return {level: text}; }
    if (cfg.scale === "pass_fail" && isPF) { return {level: text}; }
    if (isFive || isPF) { return {error: true}; }
    var m = /^\+?(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m || cfg.scale === "pass_fail") { return {error: true}; }
    var decimals = (m[2] || "").replace(/0+$/, "");
    if (decimals.length > 1) { return {error: true}; }
    var tenths = parseInt(m[1], 10) * 10 + (decimals ? parseInt(decimals, 10) : 0);
    if (tenths > 1000) { return {error: true}; }
    return {tenths: tenths};
  }

  function tenthsOf(entry) {
    return entry.tenths != null ? entry.tenths : Math.round(cfg.fiveLevels[entry.level] * 10);
  }

  function levelFor(scoreTenths) {
    for (var i = 0; i < cfg.fiveBounds.length; i++) {
      if (scoreTenths >= cfg.fiveBounds[i][0] * 10) { return cfg.fiveBounds[i][1]; }
    }
    return cfg.fiveBounds[cfg.fiveBounds.length - 1][1];
  }

  function showTenths(t) {
    return t % 10 === 0 ? String(t / 10) : (t / 10).toFixed(1);
  }

  /* {text, passed (true/false/null), incomplete, error} for one row's entries {code: parsed} */
  function compute(entries) {
    var codes = Object.keys(entries), i;
    for (i = 0; i < codes.length; i++) { if (entries[codes[i]].error) { return {text: "?", error: true}; } }
    var marks = codes.map(function (c) { return entries[c].mark; }).filter(Boolean);
    if (marks.length) {
      var mark = PRIORITY.filter(function (p) { return marks.indexOf(p) >= 0; })[0];
      return {text: cfg.markText[mark] || mark, passed: FAILING[mark] ? false : (mark === "deferred" ? null : true)};
    }
    if (cfg.scale === "pass_fail") {
      var given = codes.map(function (c) { return entries[c]; }).filter(function (e) { return !e.blank; })[0];
      if (!given) { return {text: "", incomplete: true}; }
      return {text: given.level, passed: given.level === cfg.passFail[0]};
    }
    var sum = 0;
    for (i = 0; i < cfg.weights.length; i++) {
      var e = entries[cfg.weights[i][0]];
      if (!e || e.blank) { return {text: "", incomplete: true}; }
      sum += tenthsOf(e) * cfg.weights[i][1];  // in thousandths of a point
    }
    var score = cfg.rounding === "integer" ? Math.floor((sum + 500) / 1000) * 10 : Math.floor((sum + 50) / 100);
    var passed = score >= cfg.passScore * 10;
    if (cfg.kind !== "regular" && passed && cfg.makeupCap != null && score > cfg.makeupCap * 10) {
      score = cfg.makeupCap * 10;
    }
    return {text: cfg.scale === "five_level" ? levelFor(score) : showTenths(score), passed: passed};
  }

  // --- rows ------------------------------------------------------------------------------------
  function rowInputs(r) { return grid[r] || []; }

  function refreshRow(r) {
    var inputs = rowInputs(r);
    if (!inputs.length) { return; }
    var entries = {};
    inputs.forEach(function (input) {
      var parsed = parse(input.value);
      entries[input.getAttribute("data-component")] = parsed;
      input.classList.toggle("is-invalid", Boolean(parsed.error));
      input.classList.toggle("cell-dirty", input.value.trim() !== input.getAttribute("data-saved"));
      if (parsed.error) {
        input.setAttribute("aria-invalid", "true");
        input.title = msg.badCell || "";
      } else if (input.getAttribute("aria-invalid") && !input.hasAttribute("data-server-error")) {
        input.removeAttribute("aria-invalid");
        input.title = "";
      }
    });
    var result = compute(entries);
    var td = form.querySelector('td[data-composite][data-student="' + cssEscape(inputs[0].getAttribute("data-student")) + '"]');
    if (!td) { return; }
    td.textContent = result.incomplete ? "" : result.text;
    td.classList.toggle("composite-fail", result.passed === false);
    td.classList.toggle("composite-pending", result.passed === null && !result.incomplete);
    td.classList.toggle("composite-preview", isRowDirty(r));
  }

  function isRowDirty(r) {
    return rowInputs(r).some(function (i) { return i.value.trim() !== i.getAttribute("data-saved"); });
  }

  function dirtyRows() {
    var out = [];
    for (var r = 0; r < grid.length; r++) { if (grid[r] && isRowDirty(r)) { out.push(r); } }
    return out;
  }

  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/"/g, '\\"'); }

  function setStatus(text, cls) {
    if (!statusEl) { return; }
    statusEl.textContent = text;
    statusEl.className = "small " + (cls || "text-body-secondary");
  }

  function markDirtyStatus() {
    if (dirtyRows().length) { setStatus(msg.unsaved || "", "text-warning-emphasis"); }
  }

  // --- movement ----------------------------------------------------------------------------------
  function focusCell(r, c) {
    if (r < 0 || r >= grid.length) { return false; }
    var row = grid[r];
    if (!row) { return false; }
    c = Math.max(0, Math.min(c, row.length - 1));
    var target = row[c];
    if (!target) { return false; }
    target.focus();
    target.select();
    return true;
  }

  form.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === "s" || ev.key === "S")) {
      ev.preventDefault();
      save();
      return;
    }
    var input = ev.target;
    if (!input.classList || !input.classList.contains("grade-cell")) { return; }
    var r = +input.getAttribute("data-row"), c = +input.getAttribute("data-col");
    var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var atEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    var allSelected = input.selectionStart === 0 && input.selectionEnd === input.value.length;
    switch (ev.key) {
      case "Enter":
        ev.preventDefault();
        focusCell(ev.shiftKey ? r - 1 : r + 1, c);
        break;
      case "ArrowDown":
        ev.preventDefault();
        focusCell(r + 1, c);
        break;
      case "ArrowUp":
        ev.preventDefault();
        focusCell(r - 1, c);
        break;
      case "ArrowLeft":
        if (atStart || allSelected) { ev.preventDefault(); focusCell(r, c - 1); }
        break;
      case "ArrowRight":
        if (atEnd || allSelected) { ev.preventDefault(); focusCell(r, c + 1); }
        break;
      case "Escape":
        input.value = focusValue;
        refreshRow(r);
        input.select();
        break;
      default:
        break;
    }
  });

  form.addEventListener("focusin", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("grade-cell")) {
      focusValue = ev.target.value;
      ev.target.closest("tr").classList.add("row-active");
    }
  });
  form.addEventListener("focusout", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("grade-cell")) {
      ev.target.closest("tr").classList.remove("row-active");
    }
  });

  form.addEventListener("input", function (ev) {
    if (!ev.target.classList || !ev.target.classList.contains("grade-cell")) { return; }
    ev.target.removeAttribute("data-server-error");
    refreshRow(+ev.target.getAttribute("data-row"));
    markDirtyStatus();
    scheduleAutosave();
  });

  // --- paste a block (a column or a range) copied from Excel -------------------------------------
  form.addEventListener("paste", function (ev) {
    var input = ev.target;
    if (!input.classList || !input.classList.contains("grade-cell")) { return; }
    var text = (ev.clipboardData || window.clipboardData).getData("text");
    if (!text || (text.indexOf("\n") < 0 && text.indexOf("\t") < 0)) { return; }  // one value: normal paste
    ev.preventDefault();
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length && lines[lines.length - 1] === "") { lines.pop(); }
    var r0 = +input.getAttribute("data-row"), c0 = +input.getAttribute("data-col");
    var touched = {};
    lines.forEach(function (line, i) {
      var row = grid[r0 + i];
      if (!row) { return; }
      line.split("\t").forEach(function (value, j) {
        var target = row[c0 + j];
        if (!target) { return; }
        target.value = value.trim();
        target.removeAttribute("data-server-error");
        touched[r0 + i] = true;
      });
    });
    Object.keys(touched).forEach(function (r) { refreshRow(+r); });
    markDirtyStatus();
    scheduleAutosave();
  });

  // --- saving ------------------------------------------------------------------------------------
  function scheduleAutosave() {
    if (!autosave || !autosave.checked) { return; }
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  }

  function csrfToken() {
    var el = form.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function showErrors(message, errors) {
    if (!errorsBox) { return; }
    var list = errorsBox.querySelector("[data-errors-list]");
    list.innerHTML = "";
    (errors || []).forEach(function (e) {
      var li = document.createElement("li");
      li.setAttribute("data-student", e.student_number || "");
      li.setAttribute("data-component", e.component || "");
      var strong = document.createElement("strong");
      strong.textContent = e.student_number || "";
      li.appendChild(strong);
      li.appendChild(document.createTextNode((e.column ? " · " + e.column : "") + ": " + e.message));
      list.appendChild(li);
      var input = e.component && form.querySelector('input.grade-cell[data-student="' + cssEscape(e.student_number) +
        '"][data-component="' + cssEscape(e.component) + '"]');
      if (input) {
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("data-server-error", "1");
        input.title = e.message;
      }
    });
    var title = errorsBox.querySelector("[data-errors-title]");
    if (title && message) { title.textContent = message; }
    errorsBox.classList.remove("d-none");
  }

  function clearErrors() {
    if (errorsBox) { errorsBox.classList.add("d-none"); }
    cells.forEach(function (i) {
      if (i.hasAttribute("data-server-error")) {
        i.removeAttribute("data-server-error");
        i.removeAttribute("aria-invalid");
        i.title = "";
      }
    });
  }

  function save() {
    clearTimeout(timer);
    if (saving) { queued = true; return; }
    var rowsIdx = dirtyRows();
    if (!rowsIdx.length) { setStatus(msg.saved || ""); return; }
    var payload = {}, sent = [];
    rowsIdx.forEach(function (r) {
      var inputs = rowInputs(r);
      var number = inputs[0].getAttribute("data-student");
      payload[number] = {};
      inputs.forEach(function (i) {
        payload[number][i.getAttribute("data-component")] = i.value.trim();
        sent.push([i, i.value.trim()]);
      });
    });
    saving = true;
    setStatus(msg.saving || "");
    fetch(cfg.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({rows: payload})
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false, message: response.statusText}; });
    }).then(function (data) {
      if (data.ok) {
        clearErrors();
        sent.forEach(function (pair) { pair[0].setAttribute("data-saved", pair[1]); });
        Object.keys(data.rows || {}).forEach(function (number) {
          var td = form.querySelector('td[data-composite][data-student="' + cssEscape(number) + '"]');
          if (td) { td.setAttribute("data-server", data.rows[number].result); }
        });
        rowsIdx.forEach(refreshRow);
        setStatus(data.message || msg.saved || "", "text-success");
        var counter = document.getElementById("entered-count");
        if (counter) { updateCounter(counter); }
      } else {
        showErrors(data.message, data.errors);
        setStatus(msg.failed || "", "text-danger");
      }
    }).catch(function () {
      setStatus(msg.failed || "", "text-danger");
    }).then(function () {
      saving = false;
      if (queued) { queued = false; save(); }
    });
  }

  function updateCounter(counter) {
    var entered = 0;
    form.querySelectorAll("td[data-composite]").forEach(function (td) { if (td.textContent.trim()) { entered++; } });
    counter.firstChild.nodeValue = String(entered);
    counter.setAttribute("data-entered", String(entered));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    save();
  });

  window.addEventListener("beforeunload", function (ev) {
    if (dirtyRows().length) {
      ev.preventDefault();
      ev.returnValue = msg.leave || "";
      return msg.leave;
    }
    return undefined;
  });

  // Server-side errors from a form POST: the posted (unsaved) values are in the cells.
  cells.forEach(function (i) {
    if (i.classList.contains("is-invalid")) { i.setAttribute("data-server-error", "1"); }
  });
  for (var r = 0; r < grid.length; r++) { if (grid[r]) { refreshRow(r); } }
  window.gradeGrid = {parse: parse, compute: compute, save: save, dirtyRows: dirtyRows};
})();
