// The timeline's Print button (no inline script: the Content-Security-Policy is "self" only).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
