// A spreadsheet import running in the background: ask how far it is, show the rows done out
// of all, and load the page again when it is over so that it shows the result.
(function () {
  "use strict";
  var element = document.querySelector("[data-progress-url]");
  if (!element) { return; }
  var url = element.getAttribute("data-progress-url");
  var bar = element.querySelector("progress");
  var text = element.querySelector(".import-progress-text");
  function show(progress) {
    var label = element.getAttribute("data-label-" + progress.phase);
    if (label && text) {
      text.textContent = label.replace("{done}", progress.done).replace("{total}", progress.total);
    }
    if (bar && progress.total) {
      bar.max = progress.total;
      bar.value = progress.done;
    }
  }
  var timer = window.setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { running: false }; })
      .then(function (progress) {
        if (progress.running) { show(progress); return; }
        window.clearInterval(timer);
        window.location.reload();
      })
      .catch(function () { /* a missed poll is tried again on the next tick */ });
  }, 700);
})();
