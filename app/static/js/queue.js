// The queue page: "N new cases" without a reload, choosing all cases for a bulk action, only the bulk fields that
// the chosen action needs, and "/" to search. Without JavaScript the page works as a form.
(function () {
  "use strict";
  var POLL_MS = 30000;

  var banner = document.querySelector("[data-new-cases]");
  if (banner) {
    var link = banner.querySelector("a");
    link.href = window.location.href;
    var poll = function () {
      if (document.hidden) { return; }
      fetch(banner.getAttribute("data-url"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (reply) {
          if (!reply || !reply.new) { return; }
          var text = reply.new === 1 ? banner.getAttribute("data-one")
            : banner.getAttribute("data-many").replace("{n}", reply.new);
          link.textContent = text;
          banner.hidden = false;
        })
        .catch(function () { /* try again at the next tick */ });
    };
    window.setInterval(poll, POLL_MS);
  }

  var form = document.querySelector("form[data-bulk-form]");
  if (form) {
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        form.querySelectorAll("input[name=case]").forEach(function (box) { box.checked = all.checked; });
      });
    }
    var action = form.querySelector("select[name=bulk_action]");
    var show = function () {
      form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
        field.hidden = field.getAttribute("data-bulk-for") !== action.value;
      });
    };
    if (action) { action.addEventListener("change", show); show(); }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey ||
        /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    var search = document.querySelector("[data-shortcut-search]");
    if (search) { event.preventDefault(); search.focus(); }
  });
}());
