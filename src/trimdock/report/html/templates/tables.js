// Sortable tables: click (or Enter on) a header; numbers sort by their data-sort value.
(function () {
  "use strict";
  function value(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    var raw = cell.getAttribute("data-sort");
    if (numeric) { return raw === null ? Number(cell.textContent) : Number(raw); }
    return raw === null ? cell.textContent : raw;
  }
  function sortBy(table, header, index) {
    var numeric = header.classList.contains("num");
    var descending = header.getAttribute("aria-sort") !== "descending";
    if (!numeric && header.getAttribute("aria-sort") === null) { descending = false; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, index, numeric), y = value(b, index, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    var headers = table.tHead.rows[0].cells;
    for (var i = 0; i < headers.length; i++) { headers[i].removeAttribute("aria-sort"); }
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (header, index) {
      header.classList.add("sortable");
      header.tabIndex = 0;
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, header, index); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, header, index); }
      });
    });
  });
  document.documentElement.setAttribute("data-tables", "ready");
  // The laid-out width, for the tests that check no long line stretches the page.
  window.addEventListener("load", function () {
    document.documentElement.setAttribute("data-scroll-width", String(document.documentElement.scrollWidth));
  });
})();
