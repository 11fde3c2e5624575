// provision dashboard: follow the appliance's events and refresh the part
// of the page that they change (server-rendered, so escaped there).
(function () {
  "use strict";
  var body = document.body;
  var mode = body.dataset.live;
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!mode || !live || !window.EventSource) {
    return;
  }
  var host = body.dataset.host || "";
  var url = mode === "fleet" ? "/ui/rows" + location.search : "/ui/systems/" + encodeURIComponent(host) + "/live";
  if (mode === "discovered") {
    url = "/ui/discovered/rows" + location.search;
  }
  var stream = "/ui/stream" + (mode === "host" ? "?system=" + encodeURIComponent(host) : "");
  var timer = null;
  var running = false;
  var again = false;

  function refresh() {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) {
          location.assign("/ui/login?next=" + encodeURIComponent(location.pathname + location.search));
        }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) {
        live.innerHTML = html;
        live.dataset.updated = String(Date.now());
        if (status) {
          status.textContent = "Live: updated " + new Date().toLocaleTimeString();
        }
      })
      .catch(function () {})
      .then(function () {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  // The first event of a quiet spell redraws at once; a burst after it
  // is one more redraw, at most every gap ms.
  var gap = 250;
  var last = 0;
  function schedule() {
    if (timer) {
      return;
    }
    var wait = Math.max(0, last + gap - Date.now());
    timer = setTimeout(function () {
      last = Date.now();
      refresh();
    }, wait);
  }

  var es = new EventSource(stream);
  es.onopen = function () {
    if (status) {
      status.textContent = "Live";
    }
    body.dataset.stream = "open";
  };
  es.onmessage = schedule;
  es.onerror = function () {
    if (status) {
      status.textContent = "Reconnecting to the appliance…";
    }
  };
})();
