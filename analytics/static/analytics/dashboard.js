// Draws every chart of a dashboard page: each <div class="chart"> names the JSON figure beside it
// (embedded as data, not code, so the page runs scripts from this origin only).
(function () {
  "use strict";
  function draw() {
    var charts = document.querySelectorAll("div.chart[data-figure]");
    charts.forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(node, figure.data, figure.layout, { responsive: true, displaylogo: false }).then(function () {
        node.setAttribute("data-rendered", "true");
      });
    });
    document.body.setAttribute("data-charts", String(charts.length));
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
