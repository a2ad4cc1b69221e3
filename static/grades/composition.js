/* The composition page: the weights' running total (must reach 100 %). */
(function () {
  var inputs = document.querySelectorAll("#composition-table input.weight-input");
  var out = document.getElementById("weight-total");
  function total() {
    var t = 0;
    inputs.forEach(function (i) { t += parseInt(i.value || "0", 10) || 0; });
    out.textContent = t;
    out.className = t === 100 ? "text-success fw-semibold" : "text-danger fw-semibold";
  }
  inputs.forEach(function (i) { i.addEventListener("input", total); });
  total();
})();
