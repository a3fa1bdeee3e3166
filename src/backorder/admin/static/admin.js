// The web app's one script (no build step, no inline script: the CSP forbids it).
// - the storefront preview follows the settings form as the merchant types;
// - colours named in data-color attributes are applied (no inline style attributes);
// - "select all" checkboxes and confirmations before destructive actions.
(function () {
  "use strict";

  function paint(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) {
      el.style.backgroundColor = el.getAttribute("data-color");
      el.style.borderColor = el.getAttribute("data-color");
    });
  }

  function previewer(form) {
    var url = form.getAttribute("data-preview");
    var target = document.getElementById("preview");
    if (!url || !target) return;
    var timer = null, seq = 0;
    function refresh() {
      var mine = ++seq;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine !== seq) return;  // a newer edit is on its way
          target.innerHTML = html;
          paint(target);
          target.setAttribute("data-version", String(mine));
        })
        .catch(function () { /* the next edit tries again */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.addEventListener("DOMContentLoaded", function () {
    paint(document);
    var settings = document.getElementById("settings-form");
    if (settings) previewer(settings);
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      var name = box.getAttribute("data-select-all");
      box.addEventListener("change", function () {
        box.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(
          function (el) { el.checked = box.checked; });
      });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
