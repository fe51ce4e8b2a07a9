/* simdock dashboard: the little the pages do in the browser beyond htmx.
 * - Draws each [data-metrics-url] element's series with uPlot, and redraws them every
 *   two seconds until the run's series are complete.
 * - Follows a run's log live (#log-follow) from its server-sent events, lets a reader
 *   pause it (#log-pause), and keeps it scrolled to its end unless the reader scrolled up.
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

  function fillChoices(form, body) {
    form.querySelectorAll("select[data-choices]").forEach(function (select) {
      var names = body[select.dataset.choices] || [];
      var chosen = select.dataset.chosen || body[select.name];
      select.textContent = "";
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        option.selected = name === chosen;
        select.appendChild(option);
      });
      select.disabled = names.length === 0;
    });
  }

  function drawParallel(canvas, body) {
    var axes = body.axes;
    if (!canvas || axes.length < 3) { return; }
    canvas.closest(".parallel-wrap").classList.add("shown");
    var context = canvas.getContext("2d");
    var width = canvas.width, height = canvas.height, top = 24, bottom = height - 24;
    var step = (width - 80) / (axes.length - 1);
    var ranges = axes.map(function (_, i) {
      var column = body.lines.map(function (line) { return line[i]; });
      var low = Math.min.apply(null, column), high = Math.max.apply(null, column);
      return [low, high === low ? low + 1 : high];
    });
    function at(i, value) {
      return bottom - (value - ranges[i][0]) / (ranges[i][1] - ranges[i][0]) * (bottom - top);
    }
    context.clearRect(0, 0, width, height);
    context.strokeStyle = "rgba(31, 95, 191, 0.25)";
    body.lines.forEach(function (line) {
      context.beginPath();
      line.forEach(function (value, i) {
        var x = 40 + i * step, y = at(i, value);
        if (i === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
      });
      context.stroke();
    });
    context.strokeStyle = "#1d2430";
    context.fillStyle = "#1d2430";
    context.font = "12px sans-serif";
    context.textAlign = "center";
    axes.forEach(function (name, i) {
      var x = 40 + i * step;
      context.beginPath();
      context.moveTo(x, top);
      context.lineTo(x, bottom);
      context.stroke();
      context.fillText(name, x, top - 8);
      context.fillText(String(+ranges[i][0].toPrecision(4)), x, bottom + 16);
    });
  }

  function drawResults(element) {
    var section = element.closest("section");
    var note = section.querySelector(".plot-note");
    fetch(element.dataset.resultsUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body.error || {}).message || response.status); }
          return body;
        });
      })
      .then(function (body) {
        fillChoices(section.querySelector("form.plot-choice"), body);
        if (!body.xs.length) {
          note.textContent = body.results.length ? "No run has this result yet." :
            "No numeric results yet: a run's result is plotted once it has succeeded.";
          return;
        }
        var labels = body.numeric ? null : body.xs;
        var xs = body.numeric ? body.xs : body.xs.map(function (_, i) { return i; });
        var width = Math.max(element.clientWidth, 280);
        new window.uPlot({
          width: width,
          height: Math.round(Math.min(360, Math.max(200, width * 0.45))),
          scales: { x: { time: false } },
          axes: [{ label: body.x, values: labels ? function (_, ticks) {
            return ticks.map(function (t) { return labels[t] === undefined ? "" : labels[t]; });
          } : undefined }, { label: body.y }],
          series: [{ label: body.x },
            { label: "mean " + body.y, stroke: COLOURS[0], width: 2,
              points: { show: true } },
            { label: "least", stroke: COLOURS[0], dash: [4, 4], width: 1 },
            { label: "most", stroke: COLOURS[0], dash: [4, 4], width: 1 }]
        }, [xs, body.mean, body.low, body.high], element);
        element.dataset.points = String(xs.length);
        note.textContent = body.read + " runs" + (body.every > 1 ?
          " (every " + body.every + "th run of the sweep)" : "") + ", " + xs.length +
          " points.";
        drawParallel(section.querySelector("canvas.parallel"), body);
      })
      .catch(function (error) { note.textContent = "Cannot plot: " + error.message; });
  }

  function followLog() {
    // The lines come as server-sent events (JSON, added as text: never as markup); pausing
    // closes the stream, resuming opens it again after the last line shown.
    var lines = document.getElementById("log-lines");
    var follow = document.getElementById("log-follow");
    if (!lines || !follow || !window.EventSource) { return; }
    var pause = document.getElementById("log-pause");
    var shown = document.getElementById("log-last");
    var after = Number(follow.dataset.after) || 0;
    var source = null;
    var ended = false;
    var stuck = true;  // at the end: new lines keep it there
    lines.scrollTop = lines.scrollHeight;
    lines.addEventListener("scroll", function () {
      stuck = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
    });

    function add(line) {
      var row = document.createElement("div");
      var seq = document.createElement("span");
      row.className = line.stream === "stderr" ? "line stderr" : "line";
      seq.className = "seq";
      seq.textContent = String(line.seq);
      row.appendChild(seq);
      row.appendChild(document.createTextNode(" " + line.message));
      lines.appendChild(row);
      after = line.seq;
      if (shown) { shown.textContent = after.toLocaleString("en-US"); }
      if (stuck) { lines.scrollTop = lines.scrollHeight; }
    }

    function close() {
      if (source) { source.close(); source = null; }
    }

    function open() {
      source = new EventSource(follow.dataset.eventsUrl + "?after=" + after);
      source.addEventListener("log", function (event) { add(JSON.parse(event.data)); });
      source.addEventListener("end", function (event) {
        ended = true;
        close();
        follow.textContent = "End of the log: the run has " + JSON.parse(event.data).status + ".";
        if (pause) { pause.disabled = true; }
      });
      source.addEventListener("error", function () {
        if (source && source.readyState === EventSource.CLOSED) {
          follow.textContent = "The live log stopped (the server refused or ended the " +
            "stream): reload the page to follow it again.";
        }
      });
    }

    if (pause) {
      pause.addEventListener("change", function () {
        if (pause.checked) { close(); } else if (!ended) { open(); }
      });
    }
    open();
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
    document.querySelectorAll("[data-results-url]").forEach(drawResults);
    followLog();
  });
})();
