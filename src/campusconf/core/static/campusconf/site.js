// Progressive enhancements every page shares; the pages work without them.
// Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // The result of what the person just did (data-announce: a confirmation or an error)
  // takes the focus, so a screen reader reads it and the page shows it, rather than
  // the top of the page or the card the form came from.
  // Once the page has loaded: a link's #fragment (the card the form came from) scrolls
  // after DOMContentLoaded and would take the view away again.
  function announce() {
    var result = document.querySelector("[data-announce]");
    if (result && document.activeElement === document.body) {
      result.focus();
    }
  }

  // On a phone, staff tables stack their cells (site.css); each cell then carries its
  // column's name, and the table keeps its roles for screen readers, which drop them
  // once a table is no longer displayed as one.
  function labelCells() {
    document.querySelectorAll("table.results").forEach(function (table) {
      var names = Array.prototype.map.call(
        table.querySelectorAll("thead th"),
        function (th) { return th.textContent.trim(); }
      );
      table.setAttribute("role", "table");
      table.querySelectorAll("tr").forEach(function (row) {
        row.setAttribute("role", "row");
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (cell.tagName === "TH") {
            cell.setAttribute("role", cell.closest("thead") ? "columnheader" : "rowheader");
          } else {
            cell.setAttribute("role", "cell");
            if (names[index] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", names[index]);
            }
          }
        });
      });
    });
  }

  function ready() {
    labelCells();
  }

  if (document.readyState === "complete") {
    announce();
  } else {
    window.addEventListener("load", announce);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
