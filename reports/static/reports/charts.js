// Draws the report charts from the JSON that the report page embeds as #chart-data.
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  // Each canvas sits in a .chart box of fixed height; the chart fills it.
  Chart.defaults.maintainAspectRatio = false;

  const outcomes = Object.entries(data.outcomes.series).map(([name, values]) => ({
    label: name.replaceAll("_", " "),
    data: values,
  }));
  new Chart(document.getElementById("outcomes-chart"), {
    type: "bar",
    data: { labels: data.outcomes.labels, datasets: outcomes },
    options: { plugins: { title: { display: true, text: "Outcomes per campaign" } },
               scales: { x: { stacked: true }, y: { stacked: true } } },
  });

  new Chart(document.getElementById("fallback-rate-chart"), {
    type: "line",
    data: { labels: data.fallback_rate.labels,
            datasets: [{ label: "fallback rate", data: data.fallback_rate.values }] },
    options: { plugins: { title: { display: true, text: "Fallback rate over time" } },
               scales: { y: { min: 0, max: 1 } } },
  });

  new Chart(document.getElementById("failures-chart"), {
    type: "bar",
    data: { labels: data.failures.labels,
            datasets: [{ label: "recipients", data: data.failures.values }] },
    options: { indexAxis: "y",
               plugins: { title: { display: true, text: "Failures by reason" } } },
  });
})();
