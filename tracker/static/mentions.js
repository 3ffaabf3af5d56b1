// The comment box suggests colleagues' names after "@"; the list it reads is on the page
// (under "Who can be mentioned"), so the page works without this script.
(function () {
  "use strict";
  var list = document.getElementById("mention-names");
  if (!list) { return; }
  var box = document.getElementById(list.getAttribute("data-for"));
  if (!box) { return; }
  var people = Array.prototype.map.call(list.querySelectorAll("li[data-handle]"), function (li) {
    return { handle: li.getAttribute("data-handle"), text: li.textContent.trim() };
  });
  var menu = document.createElement("ul");
  menu.className = "mention-menu";
  menu.id = "mention-menu";
  menu.setAttribute("role", "listbox");
  menu.setAttribute("aria-label", list.getAttribute("data-label") || "");
  menu.hidden = true;
  box.parentNode.insertBefore(menu, box.nextSibling);
  box.setAttribute("aria-controls", "mention-menu");
  box.setAttribute("aria-autocomplete", "list");

  function typedHandle() {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[^\w.@])@([\w.+-]*)$/.exec(before);
    return match ? match[2].toLowerCase() : null;
  }
  function choose(handle) {
    var end = box.selectionStart;
    var before = box.value.slice(0, end).replace(/@[\w.+-]*$/, "@" + handle + " ");
    box.value = before + box.value.slice(end);
    box.selectionStart = box.selectionEnd = before.length;
    menu.hidden = true;
    box.focus();
  }
  function update() {
    var typed = typedHandle();
    menu.innerHTML = "";
    if (typed === null) { menu.hidden = true; return; }
    var shown = people.filter(function (p) {
      return p.text.toLowerCase().indexOf(typed) !== -1 || p.handle.indexOf(typed) === 0;
    }).slice(0, 8);
    shown.forEach(function (p) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = p.text;
      button.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(p.handle);
      });
      item.setAttribute("role", "option");
      item.appendChild(button);
      menu.appendChild(item);
    });
    menu.hidden = shown.length === 0;
  }
  box.addEventListener("input", update);
  box.addEventListener("keydown", function (event) {
    if (menu.hidden) { return; }
    if (event.key === "Escape") { menu.hidden = true; return; }
    if (event.key === "Enter" || event.key === "Tab") {
      var first = menu.querySelector("button");
      if (first && typedHandle() !== null) {
        event.preventDefault();
        first.dispatchEvent(new MouseEvent("mousedown"));
      }
    }
  });
  box.addEventListener("blur", function () { menu.hidden = true; });
})();
