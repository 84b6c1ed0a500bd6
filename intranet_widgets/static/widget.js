/* A Lotsen widget inside its iframe: talks to /api/v1 only, builds the page with textContent (never HTML from
   data), and tells the parent page its height (postMessage to the allowed parent origin only). */
(function () {
  "use strict";
  var root = document.getElementById("widget");
  var options = JSON.parse(root.getAttribute("data-options"));
  var texts = JSON.parse(root.getAttribute("data-texts"));
  var api = root.getAttribute("data-api");
  var loginUrl = root.getAttribute("data-login");
  root.style.setProperty("--accent", root.getAttribute("data-accent"));

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function link(href, text) {
    return el("a", { href: href, target: "_top", text: text });  // open Lotsen in the page, not in the frame
  }

  function resize() {
    if (!options.parent) { return; }
    var height = Math.ceil(document.documentElement.scrollHeight);
    window.parent.postMessage({ type: "lotsen:resize", id: options.id, height: height }, options.parent);
  }
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(document.body); }
  window.addEventListener("load", resize);

  function get(path, params) {
    var query = new URLSearchParams(params || {});
    return fetch(api + path + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return { status: response.status, body: body }; }); });
  }

  function message(text, isError) {
    return el("p", { "class": "message" + (isError ? " error" : ""), role: isError ? "alert" : "status", text: text });
  }

  function articleList(items, emptyText) {
    if (!items.length) { return el("p", { "class": "muted", text: emptyText }); }
    return el("ul", {}, items.map(function (a) { return el("li", {}, [link(a.url, a.title)]); }));
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { window.clearTimeout(timer); timer = window.setTimeout(fn, ms); };
  }

  function searchWidget() {
    var input = el("input", { type: "search", id: "q", name: "q", autocomplete: "off", placeholder: texts.placeholder });
    var results = el("div", { id: "results", "aria-live": "polite" });
    root.appendChild(el("form", { role: "search", action: api.replace("/api/v1", "") + "/search", target: "_top" }, [
      el("label", { "for": "q", text: texts.search }), input]));
    root.appendChild(results);
    var latest = 0;
    input.addEventListener("input", debounce(function () {
      var text = input.value.trim();
      var ticket = ++latest;
      if (text.length < 2) { results.textContent = ""; resize(); return; }
      get("/search", { q: text, lang: options.lang, "function": options["function"], limit: options.limit })
        .then(function (reply) {
          if (ticket !== latest) { return; }
          results.textContent = "";
          results.appendChild(articleList(reply.body.results || [], texts.none));
          resize();
        })
        .catch(function () { results.textContent = ""; results.appendChild(message(texts.error, true)); resize(); });
    }, 150));
  }

  function articlesWidget() {
    var sort = options.sort === "newest" ? "newest" : "popular";
    root.appendChild(el("h2", { text: texts[sort] }));
    get("/articles", { sort: sort, lang: options.lang, "function": options["function"], tag: options.tag, limit: options.limit })
      .then(function (reply) { root.appendChild(articleList(reply.body.articles || [], texts.none)); resize(); })
      .catch(function () { root.appendChild(message(texts.error, true)); resize(); });
  }

  function loginPrompt() {
    root.appendChild(el("p", {}, [document.createTextNode(texts.login_needed + " "), link(loginUrl, texts.login)]));
    resize();
  }

  function myCasesWidget() {
    root.appendChild(el("h2", { text: texts.cases }));
    get("/me/cases", { limit: options.limit }).then(function (reply) {
      if (reply.status === 401) { loginPrompt(); return; }
      var cases = reply.body.cases || [];
      if (!cases.length) { root.appendChild(el("p", { "class": "muted", text: texts.no_cases })); }
      root.appendChild(el("ul", {}, cases.map(function (c) {
        return el("li", {}, [link(c.url, c.number + ": " + c.subject), el("span", { "class": "muted", text: " – " + (texts[c.status] || c.status) + ", " + c.function_name })]);
      })));
      resize();
    }).catch(function () { root.appendChild(message(texts.error, true)); resize(); });
  }

  function noticesWidget() {
    root.appendChild(el("h2", { text: texts.notices }));
    get("/notices", { "function": options["function"] }).then(function (reply) {
      var notices = reply.body.notices || [];
      if (!notices.length) { root.appendChild(el("p", { "class": "muted", text: texts.no_notices })); }
      notices.forEach(function (n) {
        root.appendChild(el("div", { "class": "message", role: "status" }, [
          el("strong", { text: n.title }), n.body ? el("p", { text: n.body }) : null,
          el("span", { "class": "muted", text: n.function_name + ", " + texts.until + " " + new Date(n.until).toLocaleString(options.lang === "en" ? "en-GB" : "sv-SE", { timeZone: "Europe/Stockholm", dateStyle: "short", timeStyle: "short" }) })]));
      });
      resize();
    }).catch(function () { root.appendChild(message(texts.error, true)); resize(); });
  }

  function askWidget() {
    root.appendChild(el("h2", { text: texts.ask }));
    get("/me/cases", { limit: 1 }).then(function (reply) {
      if (reply.status === 401) { loginPrompt(); return; }
      var token = "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
      var subject = el("input", { type: "text", id: "subject", autocomplete: "off", maxlength: "200" });
      var description = el("textarea", { id: "description", rows: "4", maxlength: "20000" });
      var suggestions = el("div", { id: "suggestions", "aria-live": "polite" });
      var feedback = el("div", { id: "feedback" });
      var button = el("button", { type: "submit", text: texts.send });
      var form = el("form", {}, [el("label", { "for": "subject", text: texts.subject }), subject, suggestions,
        el("label", { "for": "description", text: texts.description }), description, button, feedback]);
      root.appendChild(form);
      subject.addEventListener("input", debounce(function () {
        var text = subject.value.trim();
        if (text.length < 3) { suggestions.textContent = ""; resize(); return; }
        get("/search", { q: text, lang: options.lang, limit: 3, ask: token }).then(function (r) {
          suggestions.textContent = "";
          if ((r.body.results || []).length) {
            suggestions.appendChild(el("p", { "class": "muted", text: texts.suggest }));
            suggestions.appendChild(articleList(r.body.results, ""));
          }
          resize();
        });
      }, 250));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        feedback.textContent = "";
        if (!subject.value.trim() || !description.value.trim()) {
          feedback.appendChild(message(texts.required, true)); resize(); return;
        }
        button.disabled = true;
        fetch(api + "/cases", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": options.csrf, Accept: "application/json" },
          body: JSON.stringify({ subject: subject.value, description: description.value, token: token }) })
          .then(function (response) { return response.json().then(function (body) { return { status: response.status, body: body }; }); })
          .then(function (reply) {
            if (reply.status === 201) {
              form.textContent = "";
              form.appendChild(el("p", { "class": "message", role: "status" }, [
                document.createTextNode(texts.sent + " "), link(reply.body.url, reply.body.number)]));
            } else {
              button.disabled = false;
              feedback.appendChild(message((reply.body.error && reply.body.error.message) || texts.error, true));
            }
            resize();
          })
          .catch(function () { button.disabled = false; feedback.appendChild(message(texts.error, true)); resize(); });
      });
      resize();
    }).catch(function () { root.appendChild(message(texts.error, true)); resize(); });
  }

  ({ search: searchWidget, articles: articlesWidget, ask: askWidget, "my-cases": myCasesWidget, notices: noticesWidget })[options.kind]();
  resize();
}());
