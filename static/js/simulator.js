// Phone simulator: empty a handset's reply box once its message has gone.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.target;
  if (form.classList && form.classList.contains("reply") && event.detail.successful) {
    form.reset();
  }
});
