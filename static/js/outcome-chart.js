// Bar chart of recipients per final state. The data comes from the progress fragment,
// which htmx replaces while the campaign runs, so the chart is updated after every swap.
(() => {
  let chart = null;

  function outcomes() {
    const element = document.getElementById("outcome-data");
    return element ? JSON.parse(element.textContent) : [];
  }

  function draw() {
    const canvas = document.getElementById("outcome-chart");
    if (!canvas || typeof Chart === "undefined") return;
    const data = outcomes();
    if (chart) {
      chart.data.datasets[0].data = data.map((item) => item.count);
      chart.update("none");
      return;
    }
    chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.map((item) => item.label),
        datasets: [{
          label: "Recipients",
          data: data.map((item) => item.count),
          backgroundColor: data.map((item) => item.colour),
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSwap", draw);
})();
