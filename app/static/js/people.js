// Finding people as you type: an input with data-people-search gets suggestions (name, department) from Lotsen's
// users and the directory in its datalist; choosing one puts the user name in the field. Without JavaScript the
// field takes a user name, a name or an e-mail address and the form finds the person.
(function () {
  "use strict";
  document.querySelectorAll("input[data-people-search]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-people-search");
    var timer = null, latest = 0;
    if (!list || !url) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 2) { return; }
        var ticket = ++latest;
        fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (reply) {
            if (!reply || ticket !== latest) { return; }
            list.textContent = "";
            reply.people.forEach(function (person) {
              var option = document.createElement("option");
              option.value = person.username;
              option.label = person.name + (person.department ? " – " + person.department : "");
              option.textContent = option.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* typing a user name still works */ });
      }, 200);
    });
  });
}());
