/* Draws the dashboard's charts with Chart.js (static/vendor/chart.js).

   A chart is a <canvas data-chart="ID"> whose data sits in the page as
   {{ chart|json_script:"ID" }}: JSON, never interpolated into script. The JSON is
   {type: "bar"|"line", labels: [...], datasets: [{label, data, eligible?}], percent: bool,
   stacked: bool}; `eligible`, on response rates, is each point's sample size (the tooltip says it).
   A chart over weeks or months has every week or month on its axis, `null` where nothing was
   sent, so its points are spaced as time; the line crosses such a gap dashed.
   The same numbers are always in a table next to the chart, for screen readers and for anyone
   who prefers reading numbers. */
(function () {
  "use strict";

  var palette = ["#0a66c2", "#1e6b45", "#b3261e", "#7a4b00", "#5b3a99", "#00707a", "#55606e"];

  // A segment that spans a missing point (a week or month without InMails) is drawn dashed.
  function acrossGap(context) {
    return context.p0.skip || context.p1.skip ? [6, 6] : undefined;
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var percent = Boolean(spec.percent);
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = palette[index % palette.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: spec.type === "line" ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: spec.type === "line" ? 2 : 0,
        spanGaps: true,
        segment: { borderDash: acrossGap },
        tension: 0.2,
        eligible: dataset.eligible
      };
    });
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y;
                if (value === null || value === undefined) return context.dataset.label + ": —";
                var text = context.dataset.label + ": " + (percent ? value.toFixed(1) + "%" : value);
                var eligible = context.dataset.eligible;
                // A response rate's sample size: the eligible InMails it is a share of.
                if (eligible) text += " of " + eligible[context.dataIndex] + " eligible";
                return text;
              }
            }
          }
        },
        scales: {
          x: { stacked: Boolean(spec.stacked) },
          y: {
            stacked: Boolean(spec.stacked),
            beginAtZero: true,
            suggestedMax: percent ? 100 : undefined,
            ticks: {
              callback: function (value) { return percent ? value + "%" : value; }
            }
          }
        }
      }
    });
  }

  function drawAll(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
})();
