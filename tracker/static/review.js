// Small helpers for the review workspace; every page works without them.
(function () {
  "use strict";
  // Inbox: a "select every call on this page" box for the bulk dismissal.
  var bulk = document.querySelector("fieldset.bulk");
  var boxes = document.querySelectorAll("table.inbox input[name=call_ids]");
  if (bulk && boxes.length) {
    var label = document.createElement("label");
    var all = document.createElement("input");
    all.type = "checkbox";
    all.id = "select-all";
    label.htmlFor = "select-all";
    label.textContent = " " + bulk.getAttribute("data-select-all");
    var wrap = document.createElement("p");
    wrap.appendChild(all);
    wrap.appendChild(label);
    bulk.insertBefore(wrap, bulk.querySelector("p"));
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Call page: the reason only matters when dismissing.
  var state = document.getElementById("f-state");
  var reason = document.getElementById("f-reason");
  if (state && reason && state.form && state.form.id === "triage-form") {
    var sync = function () {
      var dismissing = state.value === "dismissed";
      reason.disabled = !dismissing;
      reason.required = dismissing;
    };
    state.addEventListener("change", sync);
    sync();
  }
})();
