/* Draws each seat card's burn-down chart with Chart.js (static/vendor/chart.js).

   A chart is a <canvas data-burndown="ID"> whose data sits in the card as
   {{ card.burndown|json_script:"ID" }}: JSON, never interpolated into script. The JSON is
   {labels: [...], actual: [credits or null], projected: [null or credits], today: index}:
   the available credits at the end of each of the last 90 days and today, then the forecast's
   projection (docs/analytics.md, "Run-out forecast"), drawn dashed, with a line at today.
   The card states the same in words (the canvas's aria-describedby) for screen readers.
   Cards swapped in by htmx are drawn when they arrive. */
(function () {
  "use strict";

  var actualColour = "#0a66c2";
  var projectedColour = "#55606e";
  var todayColour = "#7a4b00";

  // A vertical line and "Today" above the chart area at the `today` index.
  var todayMarker = {
    id: "burndownToday",
    afterDatasetsDraw: function (chart, args, options) {
      if (options.index === undefined || options.index === null) return;
      var x = chart.scales.x.getPixelForValue(options.index);
      var area = chart.chartArea;
      var context = chart.ctx;
      context.save();
      context.strokeStyle = todayColour;
      context.lineWidth = 1;
      context.beginPath();
      context.moveTo(x, area.top);
      context.lineTo(x, area.bottom);
      context.stroke();
      context.fillStyle = todayColour;
      context.font = "12px system-ui, sans-serif";
      context.textAlign = x > area.right - 40 ? "right" : "left";
      context.fillText("Today", x + (context.textAlign === "left" ? 4 : -4), area.top + 12);
      context.restore();
    }
  };

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.burndown);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: "line",
      data: {
        labels: spec.labels,
        datasets: [
          {
            label: "Available",
            data: spec.actual,
            borderColor: actualColour,
            backgroundColor: actualColour,
            borderWidth: 2,
            pointRadius: 0,
            stepped: true
          },
          {
            label: "Projected",
            data: spec.projected,
            borderColor: projectedColour,
            backgroundColor: projectedColour,
            borderWidth: 2,
            borderDash: [6, 4],
            pointRadius: 0,
            stepped: true
          }
        ]
      },
      plugins: [todayMarker],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxHeight: 2 } },
          burndownToday: { index: spec.today },
          tooltip: {
            filter: function (item) { return item.parsed.y !== null; },
            callbacks: {
              label: function (context) {
                return context.dataset.label + ": " + context.parsed.y + " credits";
              }
            }
          }
        },
        scales: {
          x: { ticks: { maxTicksLimit: 5, maxRotation: 0, autoSkip: true } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function drawAll(root) {
    if (root.matches && root.matches("canvas[data-burndown]")) draw(root);
    root.querySelectorAll("canvas[data-burndown]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
})();
