// provision dashboard: a Console panel (a system's on its host page, a
// discovered machine's on its page) follows the console live (the
// dashboard's relay of the API's stream at the panel's data-base +
// "/stream", one line per event) and appends each line as text, never as
// HTML.
(function () {
  "use strict";
  var pre = document.getElementById("console-lines");
  var live = document.getElementById("console-live");
  if (!pre || !window.EventSource) {
    return;
  }
  var base = pre.dataset.base || ""; // the panel's path: /ui/systems/NAME/console
  if (!base) {
    return;
  }
  var keep = 2000; // lines kept in the page
  var seq = 0; // each line's number, in the order they were shown
  var since = pre.dataset.since || "";
  var es = null;
  var wait = 1000; // before reconnecting, doubling to 15 s

  function now() {
    return performance.timeOrigin + performance.now();
  }

  // The lines the server rendered: numbered as the live ones are.
  Array.prototype.forEach.call(pre.children, function (el) {
    el.dataset.n = String(++seq);
    el.dataset.shown = String(now());
  });
  pre.scrollTop = pre.scrollHeight;

  function say(state, text) {
    if (live) {
      live.dataset.state = state;
      live.textContent = text;
    }
    pre.dataset.state = state;
  }

  // atBottom: the user has not scrolled up, so new lines keep the
  // newest in view.
  function atBottom() {
    return pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  }

  // replayed reports whether line is one the page shows already: after
  // a (re)connect the stream sends the recorded lines since the last one
  // shown, itself included. Lines of one burst share a time, so those
  // at that time are told apart by their text, counted (skip).
  var skip = null;
  function replayed(line) {
    if (skip === null) {
      return false;
    }
    if (line.at !== since && Date.parse(line.at) >= Date.parse(since)) {
      skip = null; // past the seam
      return false;
    }
    if (line.at !== since) {
      return true; // before it
    }
    if (skip[line.text] > 0) {
      skip[line.text]--;
      return true;
    }
    return false;
  }

  function show(line) {
    if (replayed(line)) {
      return;
    }
    var last = pre.lastElementChild;
    var stick = atBottom();
    if (last && last.dataset.partial === "1") {
      // The rest of a line the machine had not ended.
      last.textContent = last.textContent + line.text + (line.partial ? "" : "\n");
      last.dataset.partial = line.partial ? "1" : "";
      last.dataset.shown = String(now());
    } else {
      var el = document.createElement("span");
      el.dataset.at = line.at;
      el.dataset.n = String(++seq);
      el.dataset.partial = line.partial ? "1" : "";
      el.dataset.shown = String(now());
      el.textContent = line.text + (line.partial ? "" : "\n");
      pre.appendChild(el);
      while (pre.children.length > keep) {
        pre.removeChild(pre.firstElementChild);
      }
    }
    if (stick) {
      pre.scrollTop = pre.scrollHeight;
    }
  }

  // The capture's status and buttons, as the server renders them (so
  // escaped there): on every (re)connect and every 10 s.
  var box = document.getElementById("console-status");
  var statusHTML = box ? box.innerHTML : "";
  function refreshStatus() {
    if (!box) {
      return;
    }
    fetch(base + "/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) {
        if (html !== statusHTML) {
          box.innerHTML = html;
          statusHTML = html;
        }
      })
      .catch(function () {});
  }
  setInterval(refreshStatus, 10000);

  function connect() {
    // A line not yet ended comes again whole from the recorded ones.
    var last = pre.lastElementChild;
    if (last && last.dataset.partial === "1") {
      pre.removeChild(last);
      last = pre.lastElementChild;
    }
    if (last && last.dataset.at) {
      since = last.dataset.at;
    }
    skip = since ? {} : null;
    Array.prototype.forEach.call(pre.children, function (el) {
      if (skip && el.dataset.at === since) {
        var text = el.textContent.replace(/\n$/, "");
        skip[text] = (skip[text] || 0) + 1;
      }
    });
    es = new EventSource(base + "/stream" + (since ? "?since=" + encodeURIComponent(since) : ""));
    es.onopen = function () {
      wait = 1000;
      say("live", "live");
      refreshStatus();
    };
    es.onmessage = function (ev) {
      var line;
      try {
        line = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (line && typeof line.text === "string" && typeof line.at === "string") {
        show(line);
      }
    };
    es.onerror = function () {
      es.close();
      say("reconnecting", "reconnecting…");
      setTimeout(connect, wait);
      wait = Math.min(wait * 2, 15000);
    };
  }

  say("connecting", "connecting…");
  connect();
})();
