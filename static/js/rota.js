// The rota board is edited in place (htmx): keep the keyboard's focus where the edit happened.
// Opening a panel moves focus into it; when the board comes back, focus returns to the button
// that opened the panel (if it is still there), else to what the board says happened.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  var opener = null;
  var boardSwap = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var elt = event.detail.elt;
    if (target && target.id === "editor" && elt && elt.id) opener = elt.id;
    boardSwap = !!(target && target.id === "board");
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "editor") {
      var heading = target.querySelector("h2");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
      return;
    }
    if (!boardSwap) return;
    boardSwap = false;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var problem = document.querySelector("#editor [role=alert], #editor .errorlist");
    var back = opener && document.getElementById(opener);
    var done = document.querySelector("#board .done");
    var where = problem ? problem.closest(".editor") : back || done;
    if (where) {
      if (!where.hasAttribute("tabindex") && where === problem) where.setAttribute("tabindex", "-1");
      if (where.classList && where.classList.contains("editor")) where.setAttribute("tabindex", "-1");
      where.focus();
    }
  });
})();
