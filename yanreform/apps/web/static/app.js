// Light progressive enhancement: every page works without it.
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    // Submission form: character count, file size check, busy state (no double submit).
    var form = document.querySelector("form.submit-form");
    if (form) {
      var text = form.querySelector("textarea"), count = document.getElementById("count");
      var file = form.querySelector("input[type=file]"), note = document.getElementById("file-note");
      var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
      var maxChars = count ? parseInt(count.getAttribute("data-max"), 10) : 0;
      if (text && count) {
        text.addEventListener("input", function () {
          count.textContent = "(" + text.value.length.toLocaleString() + " / " + maxChars.toLocaleString() + ")";
        });
      }
      if (file && note) {
        file.addEventListener("change", function () {
          var f = file.files && file.files[0];
          if (!f) return;
          var mib = (f.size / 1048576).toFixed(1);
          if (maxBytes && f.size > maxBytes) {
            note.textContent = f.name + ": " + mib + " MiB — 超过上限 over the limit of " + (maxBytes / 1048576) + " MiB";
            note.className = "error-message";
          } else {
            note.textContent = f.name + " (" + mib + " MiB)";
            note.className = "muted";
          }
        });
      }
      form.addEventListener("submit", function () {
        var b = form.querySelector("button[type=submit]"), busy = form.querySelector(".busy");
        if (b) b.disabled = true;
        if (busy) busy.hidden = false;
      });
    }
    // Clicking a category chip in a case shows only that category's evidence; clicking again shows all.
    document.querySelectorAll(".case .summary .chip").forEach(function (chip) {
      chip.style.cursor = "pointer";
      chip.addEventListener("click", function () {
        var box = chip.closest(".case"), code = chip.getAttribute("data-code");
        var on = box.getAttribute("data-focus") !== code;
        box.setAttribute("data-focus", on ? code : "");
        box.classList.toggle("focus", on);
        box.querySelectorAll("mark").forEach(function (m) {
          m.classList.toggle("on", on && m.getAttribute("data-code") === code);
        });
      });
    });
    document.querySelectorAll(".print-link").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); window.print(); });
    });
  });
})();
