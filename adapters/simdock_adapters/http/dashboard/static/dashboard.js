/* simdock dashboard: the little the pages do in the browser beyond htmx.
 * - Draws each [data-metrics-url] element's series with uPlot, and redraws them every
 *   two seconds until the run's series are complete.
 * - Lets a reader pause following a log (#log-pause), and keeps a followed log scrolled
 *   to its end unless the reader scrolled up.
 */
(function () {
  "use strict";

  var COLOURS = ["#1f5fbf", "#b42318", "#1b7f3b", "#9a6700", "#6b3fa0", "#0e7c86"];

  function plotData(body) {
    return [body.steps].concat(body.values);
  }

  function plotOptions(element, body) {
    var width = Math.max(element.clientWidth, 280);
    return {
      width: width,
      height: Math.round(Math.min(360, Math.max(200, width * 0.45))),
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      series: [{ label: "step" }].concat(body.names.map(function (name, i) {
        return { label: name, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true };
      }))
    };
  }

  function drawMetrics(element) {
    var plot = null;
    var names = "";
    function refresh() {
      fetch(element.dataset.metricsUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("metrics: HTTP " + response.status); }
          return response.json();
        })
        .then(function (body) {
          var section = element.closest("section");
          if (section) { section.classList.toggle("has-metrics", body.names.length > 0); }
          if (body.names.length > 0 && window.uPlot) {
            if (plot && names === body.names.join("\n")) {
              plot.setData(plotData(body));
            } else {
              if (plot) { plot.destroy(); }
              plot = new window.uPlot(plotOptions(element, body), plotData(body), element);
              names = body.names.join("\n");
            }
            element.dataset.points = String(body.points);
          }
          if (!body.complete) { window.setTimeout(refresh, 2000); }
        })
        .catch(function () { window.setTimeout(refresh, 5000); });
    }
    refresh();
  }

  function followLog() {
    var lines = document.getElementById("log-lines");
    var pause = document.getElementById("log-pause");
    if (!lines) { return; }
    var stuck = true;  // at the end: new lines keep it there
    lines.scrollTop = lines.scrollHeight;
    lines.addEventListener("scroll", function () {
      stuck = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
    });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (pause && pause.checked && event.detail.elt.id === "log-follow") {
        event.preventDefault();
      }
    });
    document.body.addEventListener("htmx:oobAfterSwap", function () {
      if (stuck) { lines.scrollTop = lines.scrollHeight; }
    });
  }

  function keepSelections() {
    // A live table swapped in would drop the boxes ticked in it: wait while any is.
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt.id === "jobs" &&
          document.querySelector("input[form=bulk]:checked")) {
        event.preventDefault();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    keepSelections();
    document.querySelectorAll("[data-metrics-url]").forEach(drawMetrics);
    followLog();
  });
})();
