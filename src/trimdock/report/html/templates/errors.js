// Any script error is written into the page, so a headless browser's DOM dump shows it.
(function () {
  "use strict";
  function mark(message) {
    document.documentElement.setAttribute("data-js-error", String(message));
    var show = function () {
      var box = document.getElementById("js-error") || document.createElement("div");
      box.id = "js-error";
      box.textContent = "This report hit a script error: " + String(message);
      if (!box.parentNode) { document.body.insertBefore(box, document.body.firstChild); }
    };
    if (document.body) { show(); } else { document.addEventListener("DOMContentLoaded", show); }
  }
  window.addEventListener("error", function (event) { mark(event.message || "error"); });
  window.addEventListener("unhandledrejection", function (event) { mark(event.reason); });
})();
