// wikiwatch hashtag pages: tag autocomplete and the time-series chart.
// Everything here is optional: the pages work without JavaScript.
(function () {
  "use strict";
  var input = document.querySelector('input[name="tags"]');
  var list = document.getElementById("tag-suggestions");
  if (input && list) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var parts = input.value.split(",");
        var last = parts[parts.length - 1].trim().replace(/^[#＃]/, "");
        if (!last) return;
        fetch("/api/hashtags/tags?limit=15&prefix=" + encodeURIComponent(last))
          .then(function (r) { return r.json(); })
          .then(function (d) {
            list.textContent = "";
            var head = parts.slice(0, -1).map(function (s) { return s.trim(); }).filter(Boolean);
            (d.rows || []).forEach(function (t) {
              var o = document.createElement("option");
              o.value = head.concat(["#" + t.tag]).join(", ");
              o.textContent = t.uses + " edits";
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  }
  var chart = document.getElementById("chart");
  if (chart && window.uPlot && chart.dataset.url) {
    fetch(chart.dataset.url)
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var b = d.buckets || [];
        if (!b.length) return;
        var xs = b.map(function (x) { return Date.parse(x.start + "T00:00:00Z") / 1000; });
        var ys = b.map(function (x) { return x.edits; });
        var width = Math.max(320, Math.min(chart.clientWidth || 900, 1100));
        var x = { time: true };
        if (xs.length === 1) x.range = [xs[0] - 86400, xs[0] + 86400];
        new uPlot({
          width: width,
          height: 260,
          scales: { x: x },
          series: [{}, { label: "edits", stroke: "#36c", fill: "rgba(51,102,204,0.15)", width: 2 }],
          axes: [{}, {}]
        }, [xs, ys], chart);
        chart.setAttribute("data-rendered", "1");
      })
      .catch(function () {});
  }
})();
