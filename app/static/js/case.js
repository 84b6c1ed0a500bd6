// The specialist's case page: ready answers and article links inserted where the cursor is, article suggestions
// that follow what is written, presence that ends when the page is left, and keyboard shortcuts.
// Without JavaScript everything still works by the form: the answers are shown to copy, the select adds a link.
(function () {
  "use strict";
  var form = document.querySelector("form[data-case-form]");
  if (!form) { return; }
  var script = document.currentScript || document.querySelector("script[data-next-url]");
  var body = form.querySelector("textarea[name=body]");
  var internal = form.querySelector("input[name=internal]");
  var csrf = form.querySelector("input[name=csrf_token]");
  var subject = (document.querySelector("h1") || {}).firstChild;
  subject = subject ? subject.textContent.trim() : "";

  function insert(text) {
    var start = body.selectionStart || 0, end = body.selectionEnd || 0, value = body.value;
    var before = value.slice(0, start), after = value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    body.value = before + glue + text + after;
    var caret = (before + glue + text).length;
    body.focus();
    body.setSelectionRange(caret, caret);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert], [data-insert-link]");
    if (!button) { return; }
    event.preventDefault();
    if (button.hasAttribute("data-insert")) { insert(button.getAttribute("data-insert")); }
    else { insert(button.getAttribute("data-title") + ": " + button.getAttribute("data-insert-link")); }
  });

  // suggestions: the case's subject and the last words written, asked of the search API after a pause
  var list = form.querySelector("[data-suggestion-list]");
  var searchUrl = form.getAttribute("data-search-url");
  var timer = null, latest = 0;
  function suggest() {
    var words = body.value.trim().split(/\s+/).slice(-20).join(" ");
    var query = (subject + " " + words).trim().slice(0, 200);
    if (!query || !list || !searchUrl) { return; }
    var ticket = ++latest;
    fetch(searchUrl + "?limit=3&q=" + encodeURIComponent(query), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (reply) {
        if (!reply || ticket !== latest || !reply.results.length) { return; }
        list.textContent = "";
        reply.results.forEach(function (article) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = article.url; link.textContent = article.title; link.target = "_blank"; link.rel = "noopener";
          var button = document.createElement("button");
          button.type = "button"; button.className = "button-link";
          button.setAttribute("data-insert-link", article.url); button.setAttribute("data-title", article.title);
          button.textContent = list.getAttribute("data-insert-label") || "Infoga länk";
          item.appendChild(link); item.appendChild(document.createTextNode(" ")); item.appendChild(button);
          list.appendChild(item);
        });
      })
      .catch(function () { /* the suggestions from the page stay */ });
  }
  if (body) {
    body.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 400); });
  }

  // presence: tell the server when the page is left, so colleagues stop seeing "also looking"
  var leaveUrl = form.getAttribute("data-leave-url");
  window.addEventListener("pagehide", function () {
    if (!leaveUrl || !navigator.sendBeacon || !csrf) { return; }
    var data = new FormData();
    data.append("csrf_token", csrf.value);
    navigator.sendBeacon(leaveUrl, data);
  });

  // one submit per press, and Ctrl+Enter sends from anywhere in the form
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    setTimeout(function () { sent = false; }, 5000);
  });

  // keyboard shortcuts, not while typing; "?" lists them
  var dialog = document.querySelector("[data-shortcuts-dialog]");
  var opener = null;
  function openHelp() {
    if (!dialog) { return; }
    opener = document.activeElement;
    dialog.hidden = false;
    dialog.focus();
  }
  function closeHelp() {
    if (!dialog || dialog.hidden) { return; }
    dialog.hidden = true;
    if (opener && opener.focus) { opener.focus(); }
  }
  document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
    button.addEventListener("click", openHelp);
  });
  if (dialog) {
    dialog.querySelector("[data-shortcuts-close]").addEventListener("click", closeHelp);
  }
  function typing(target) {
    return target && (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeHelp(); return; }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && form.contains(event.target)) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var assignee = form.querySelector("select[name=assignee]");
    switch (event.key) {
      case "?": event.preventDefault(); openHelp(); break;
      case "r": event.preventDefault(); if (internal) { internal.checked = false; } body.focus(); break;
      case "n": event.preventDefault(); if (internal) { internal.checked = true; } body.focus(); break;
      case "a":
        if (assignee && script) {
          event.preventDefault();
          assignee.value = script.getAttribute("data-me");
          if (!body.value.trim()) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
          else { assignee.focus(); }
        }
        break;
      case "j": if (script) { window.location.href = script.getAttribute("data-next-url"); } break;
      case "u":
        var back = document.querySelector("[data-shortcut-back]");
        if (back) { window.location.href = back.href; }
        break;
      default: break;
    }
  });
}());
