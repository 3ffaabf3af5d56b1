// Layout helpers for every page; each page works without them.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 64rem)");
  // The inbox's filter panel: open beside the list on a wide screen, folded on a tablet.
  var panel = document.getElementById("filter-panel");
  if (panel && wide.matches) {
    panel.open = true;
  }
  // Tables wider than their box say that they scroll sideways.
  var boxes = document.querySelectorAll(".table-scroll");
  var mark = function () {
    boxes.forEach(function (box) {
      box.classList.toggle("is-scrollable", box.scrollWidth > box.clientWidth + 1);
    });
  };
  mark();
  window.addEventListener("resize", mark);
  // A menu opened with "More" or "Admin" closes when another opens or on a click elsewhere.
  var menus = document.querySelectorAll("details.menu");
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
})();
