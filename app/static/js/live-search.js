// Search as you type: fetches the results fragment for the search box and shows it under the box.
// Without JavaScript the form still submits to the search page.
(function () {
  "use strict";
  var DELAY_MS = 150;

  function setUp(form) {
    var mirror = form.getAttribute("data-mirror") && document.querySelector(form.getAttribute("data-mirror"));
    var input = form.querySelector("input[type=search]") || form.querySelector("input[name=q]");
    var target = document.querySelector(form.getAttribute("data-results"));
    var url = form.getAttribute("data-live-search");
    if (!input || !target || !url) { return; }
    var timer = null;
    var latest = 0;

    function run() {
      var params = new URLSearchParams(new FormData(form));
      var text = (input.value || "").trim();
      if (text.length < 2) { target.innerHTML = ""; return; }
      var ticket = ++latest;
      fetch(url + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (ticket !== latest) { return; }  // an older answer arriving late must not win
          target.innerHTML = html;
          if (window.history && form.getAttribute("action") === window.location.pathname) {
            window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
          }
        })
        .catch(function () { /* the button still works */ });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, DELAY_MS);
    }
    if (mirror) {  // suggestions for another field, e.g. the subject of a question
      mirror.addEventListener("input", function () { input.value = mirror.value; later(); });
      if (mirror.value) { input.value = mirror.value; later(); }
      return;
    }
    input.addEventListener("input", later);
    form.querySelectorAll("select").forEach(function (select) { select.addEventListener("change", run); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { input.value = ""; target.innerHTML = ""; }
      if (event.key === "ArrowDown") {
        var first = target.querySelector(".result-title a") || target.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  }

  document.querySelectorAll("form[data-live-search]").forEach(setUp);

  // A form sent twice (double click) would do its work twice: disable its buttons once it is on its way.
  document.querySelectorAll("form[data-prevent-double-submit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
}());
