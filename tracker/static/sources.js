// Sources page: while a "fetch now" runs, ask for its progress and show it; when it is
// over, load the page again so the row shows the result, the last success and any error.
(function () {
  "use strict";
  var pending = document.querySelectorAll("[data-progress-url]");
  pending.forEach(function (element) {
    var url = element.getAttribute("data-progress-url");
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (progress) {
          if (progress.running) {
            var label = element.getAttribute("data-label-" + progress.phase);
            if (label) { element.textContent = label; }
            return;
          }
          window.clearInterval(timer);
          window.location.reload();
        })
        .catch(function () { /* a missed poll is tried again on the next tick */ });
    }, 1500);
  });
})();
