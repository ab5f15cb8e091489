// Draw every report chart on the page with plotly.js. Each chart element
// names the json_script element that holds its figure.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source || typeof Plotly === "undefined") {
        return;
      }
      var figure = JSON.parse(source.textContent);
      Plotly.newPlot(element, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
