// The live page: a WebSocket client of /live. Every piece of event data is
// inserted with textContent (never innerHTML), so page titles, user names and
// summaries cannot inject markup.
(function () {
  "use strict";
  var MAX_ROWS = 200;
  var form = document.getElementById("filters");
  var tbody = document.querySelector("#edits tbody");
  var rates = document.querySelector("#rates tbody");
  var state = document.getElementById("state");
  var errorBox = document.getElementById("error");
  var pauseButton = document.getElementById("pause");
  var countBox = document.getElementById("count");
  var paused = false;
  var received = 0;
  var socket = null;
  var lastId = null;

  function filterMessage() {
    var msg = { type: "subscribe" };
    var data = new FormData(form);
    data.forEach(function (value, key) {
      value = String(value).trim();
      if (value !== "") { msg[key] = value; }
    });
    return msg;
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function addEdit(m) {
    var tr = document.createElement("tr");
    cell(tr, (m.dt || "").replace("T", " ").replace(/\.\d+Z$/, "Z"));
    cell(tr, m.wiki);
    var page = cell(tr, "");
    if (m.url && /^https?:\/\//.test(m.url)) {
      var a = document.createElement("a");
      a.href = m.url;
      a.textContent = m.title;
      page.appendChild(a);
    } else {
      page.textContent = m.title;
    }
    cell(tr, (m.user || "") + (m.bot ? " (bot)" : "") + (m.editor === "named" ? "" : " [" + m.editor + "]"));
    cell(tr, m.size_change == null ? "" : (m.size_change > 0 ? "+" : "") + m.size_change, "num");
    cell(tr, m.summary);
    tr.className = "edit";
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > MAX_ROWS) { tbody.deleteRow(tbody.rows.length - 1); }
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + location.host + "/live" + (lastId ? "?since=" + lastId : "");
    socket = new WebSocket(url);
    socket.onopen = function () {
      state.textContent = "connected";
      socket.send(JSON.stringify(filterMessage()));
    };
    socket.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.kind === "change") {
        lastId = m.id;
        received += 1;
        countBox.textContent = "(" + received + " received)";
        if (!paused) { addEdit(m); }
      } else if (m.kind === "error") {
        errorBox.textContent = m.parameter + ": " + m.error;
      } else if (m.kind === "subscribed") {
        errorBox.textContent = "";
      } else if (m.kind === "heartbeat") {
        state.textContent = "connected; newest event " + (m.newest_event_time || "none yet") +
          (m.lag_seconds == null ? "" : ", " + Math.round(m.lag_seconds) + " s behind");
      } else if (m.kind === "lagged") {
        state.textContent = "this page fell behind and missed " + m.missed + " edits";
      }
    };
    socket.onclose = function () {
      state.textContent = "disconnected; reconnecting…";
      setTimeout(connect, 2000);
    };
  }

  function refreshRates() {
    fetch("/api/live/stats?limit=10").then(function (r) { return r.json(); }).then(function (s) {
      while (rates.rows.length) { rates.deleteRow(0); }
      (s.wikis || []).slice(0, 20).forEach(function (w) {
        var tr = document.createElement("tr");
        cell(tr, w.wiki);
        cell(tr, w.last_minute, "num");
        cell(tr, w.per_minute.toFixed(1), "num");
        rates.appendChild(tr);
      });
    }).catch(function () {});
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    while (tbody.rows.length) { tbody.deleteRow(0); }
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(filterMessage())); }
  });
  pauseButton.addEventListener("click", function () {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
  });
  connect();
  refreshRates();
  setInterval(refreshRates, 5000);
})();
