// "Compare templates" (R22): each template's response rate as a bar, with its 95% Wilson
// interval drawn as a whisker by a small Chart.js plugin (no error-bar dependency).
(function () {
  "use strict";

  function whiskers(data) {
    return {
      id: "whiskers",
      afterDatasetsDraw: function (chart) {
        var ctx = chart.ctx;
        var y = chart.scales.y;
        ctx.save();
        ctx.strokeStyle = "#1f2937";
        ctx.lineWidth = 1.5;
        chart.getDatasetMeta(0).data.forEach(function (bar, i) {
          var low = data.lows[i];
          var high = data.highs[i];
          if (low === null || high === null) {
            return;
          }
          var top = y.getPixelForValue(high);
          var bottom = y.getPixelForValue(low);
          var half = Math.min(8, bar.width / 4);
          ctx.beginPath();
          ctx.moveTo(bar.x, top);
          ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - half, top);
          ctx.lineTo(bar.x + half, top);
          ctx.moveTo(bar.x - half, bottom);
          ctx.lineTo(bar.x + half, bottom);
          ctx.stroke();
        });
        ctx.restore();
      },
    };
  }

  function draw() {
    var canvas = document.querySelector("canvas[data-compare-chart]");
    if (!canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(document.getElementById(canvas.dataset.compareChart).textContent);
    canvas.dataset.whiskers = String(data.lows.length);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: "Response rate (%)",
            data: data.rates,
            backgroundColor: "rgba(37, 99, 235, 0.55)",
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              afterLabel: function (item) {
                var i = item.dataIndex;
                return "95% interval: " + data.lows[i] + "–" + data.highs[i] + "%";
              },
            },
          },
        },
      },
      plugins: [whiskers(data)],
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
