/* Lotsen widgets loader: <div data-lotsen-widget="search|articles|ask|my-cases|notices"> becomes an iframe
   that sizes itself to its content. Options: data-lotsen-lang (default: the page's lang), -function, -tag,
   -sort (popular|newest), -limit, -accent (#rrggbb), -title. No library needed. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='/widgets/embed.js']");
  if (!script) { return; }
  var base = new URL(script.src, document.baseURI);
  var lotsen = base.origin;
  var counter = 0;
  var frames = {};

  function mount(node) {
    if (node.getAttribute("data-lotsen-mounted")) { return; }
    node.setAttribute("data-lotsen-mounted", "1");
    var kind = node.getAttribute("data-lotsen-widget");
    var id = "lotsen-" + (++counter);
    var lang = node.getAttribute("data-lotsen-lang") || (document.documentElement.lang || "sv").slice(0, 2);
    var params = new URLSearchParams({ id: id, lang: lang, parent: window.location.origin });
    ["function", "tag", "sort", "limit", "accent"].forEach(function (name) {
      var value = node.getAttribute("data-lotsen-" + name);
      if (value) { params.set(name, value); }
    });
    var frame = document.createElement("iframe");
    frame.src = lotsen + "/widgets/frame/" + encodeURIComponent(kind) + "?" + params.toString();
    frame.title = node.getAttribute("data-lotsen-title") || ("Lotsen: " + kind);
    frame.setAttribute("loading", "lazy");
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = "120px";
    frame.style.display = "block";
    frames[id] = frame;
    node.appendChild(frame);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== lotsen || !event.data || event.data.type !== "lotsen:resize") { return; }
    var frame = frames[event.data.id];
    if (frame && event.source === frame.contentWindow) {
      frame.style.height = Math.max(40, Math.min(4000, Number(event.data.height) || 0)) + "px";
    }
  });

  function mountAll() {
    document.querySelectorAll("[data-lotsen-widget]").forEach(mount);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
}());
