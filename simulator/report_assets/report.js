/* Charts of the backtest report (plotly.js, inline above). REPORT holds the series, LABELS the chart texts
   in English and Chinese; the page's switch redraws everything in the other language. */
"use strict";

const COLORS = ["#1f6feb", "#d97706", "#16a34a", "#7c3aed", "#dc2626", "#0891b2", "#a16207", "#db2777"];
const PASSIVE = "#6b7280";
const CONFIG = { responsive: true, displaylogo: false };
let lang = document.documentElement.dataset.lang || "en";

const L = (key) => (LABELS[lang][key] || LABELS.en[key] || key).replace("{tz}", REPORT.zone);
const sname = (name) => LABELS[lang][`strategy:${name}`] || name;
const color = (name) => COLORS[REPORT.strategies.indexOf(name) % COLORS.length];


/** Layout shared by every chart: the legend in a band between the title and the plot (never over the
    data, nor over the x axis title), axis titles with units and the time zone. */
function layout(title, xTitle, yTitle, extra = {}) {
  return Object.assign({
    title: { text: title, x: 0, xanchor: "left", xref: "paper", y: 1, yref: "container", yanchor: "top",
      pad: { t: 8 }, font: { size: 14 } },
    margin: { l: 72, r: 24, t: 70, b: 40 },
    legend: { orientation: "h", x: 0, xanchor: "left", y: 1.01, yanchor: "bottom" },
    hovermode: "x unified",
    xaxis: { title: { text: xTitle }, automargin: true, tickformat: "%H:%M<br>%Y-%m-%d" },  // no month names
    yaxis: { title: { text: yTitle }, automargin: true, zeroline: true },
    font: { family: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif", size: 12 },
  }, extra);
}

function plot(id, traces, lay) {
  const div = document.getElementById(id);
  Plotly.purge(div);  // a fresh plot: react() kept the old language's axis ranges
  Plotly.newPlot(div, traces, lay, CONFIG);
  div.dataset.traces = String(traces.length);
}

function drawCumulative() {
  const x = REPORT.time_end;  // a period's revenue is earned by its end
  const traces = REPORT.strategies.map((n) => ({
    x, y: REPORT.cumulative[n], name: sname(n), type: "scatter", mode: "lines",
    line: { color: color(n), width: 1.8 },
  }));
  traces.push({ x, y: REPORT.passive_cumulative, name: L("passive"), type: "scatter", mode: "lines",
    line: { color: PASSIVE, width: 1.6, dash: "dash" } });
  plot("chart-cumulative", traces, layout(L("cumulative"), L("axis_time_end"), L("axis_yuan")));
}

function drawDaily() {
  const traces = REPORT.strategies.map((n) => ({
    x: REPORT.days, y: REPORT.daily[n], name: sname(n), type: "bar", marker: { color: color(n) },
  }));
  traces.push({ x: REPORT.days, y: REPORT.daily.passive, name: L("passive"), type: "scatter",
    mode: "markers+lines", line: { color: PASSIVE, dash: "dash" }, marker: { size: 7 } });
  plot("chart-daily", traces, layout(L("daily"), L("axis_day"), L("axis_yuan"),
    { barmode: "group", xaxis: { title: { text: L("axis_day") }, type: "category", automargin: true } }));
}

function picked() {
  return [document.getElementById("pick-strategy").value, document.getElementById("pick-day").value];
}

/** One day's x axis: wall-clock labels as categories, so a day whose clocks go back still runs forward. */
function dayAxis(day, extra = {}, title = "axis_time") {
  return Object.assign({ title: { text: `${L(title)}, ${day}` }, type: "category", nticks: 13,
    automargin: true }, extra);
}

function drawSchedule() {
  const [name, day] = picked();
  const [a, b] = REPORT.day_slices[day];
  const x = REPORT.clock.slice(a, b);
  const s = REPORT.schedule[name];
  const step = (y, label, c, dash, axis) => ({ x, y: y.slice(a, b), name: label, type: "scatter", mode: "lines",
    line: { shape: "hv", color: c, dash: dash || "solid", width: 1.6 }, yaxis: axis });
  const traces = [
    step(REPORT.prices.da, L("trace_da"), "#1f6feb", null, "y"),
    step(REPORT.prices.rt, L("trace_rt"), "#d97706", null, "y"),
    step(s.forecast, L("trace_forecast"), "#6b7280", "dot", "y"),
    step(s.bid, L("trace_bid"), "#111827", null, "y2"),
    step(s.actual, L("trace_actual"), "#16a34a", "dash", "y2"),
  ];
  plot("chart-schedule", traces, layout(`${L("prices_schedule")}: ${sname(name)}, ${day}`, L("axis_time"),
    L("axis_price"), {
      xaxis: dayAxis(day, { anchor: "y2" }),
      yaxis: { title: { text: L("axis_price") }, domain: [0.56, 1], automargin: true },
      yaxis2: { title: { text: L("axis_mw") }, domain: [0, 0.46], automargin: true, zeroline: true },
    }));
}

function drawSoc() {
  const [name, day] = picked();
  const [a, b] = REPORT.day_slices[day];
  const x = REPORT.clock_end.slice(a, b);  // stored energy is that at each period's end
  const soc = REPORT.soc[name] || {};
  const assets = Object.keys(soc);
  const traces = assets.map((asset, i) => ({ x, y: soc[asset].slice(a, b), name: asset, type: "scatter",
    mode: "lines", line: { color: COLORS[(i + 2) % COLORS.length], width: 1.4 } }));
  if (assets.length > 1) {
    const total = x.map((_, k) => assets.reduce((sum, asset) => sum + (soc[asset][a + k] || 0), 0));
    traces.push({ x, y: total, name: L("trace_total"), type: "scatter", mode: "lines",
      line: { color: "#111827", width: 2 } });
  }
  const lay = layout(`${L("soc")}: ${sname(name)}, ${day}`, L("axis_time_end"), L("axis_mwh"),
    { xaxis: dayAxis(day, {}, "axis_time_end") });
  if (!assets.length) {
    lay.annotations = [{ text: L("no_batteries"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }];
  }
  plot("chart-soc", traces, lay);
}

function drawAttribution() {
  const [name] = picked();
  const parts = REPORT.attribution[name];
  const y = Object.keys(parts.assets);
  const own = y.map((a) => parts.assets[a].own_energy);
  const share = y.map((a) => parts.assets[a].fleet_share);
  const total = y.map((a) => parts.assets[a].revenue);
  const traces = [
    { y, x: own, name: L("trace_own_energy"), type: "bar", orientation: "h", marker: { color: "#1f6feb" } },
    { y, x: share, name: L("trace_fleet_share"), type: "bar", orientation: "h", marker: { color: "#d97706" } },
    { y, x: total, name: L("trace_member_revenue"), type: "scatter", mode: "markers",
      marker: { color: "#111827", symbol: "diamond", size: 9 } },
  ];
  const div = document.getElementById("chart-attribution");
  div.style.height = `${Math.max(300, 70 + 30 * y.length)}px`;
  plot("chart-attribution", traces, layout(`${L("attribution")}: ${sname(name)}`, L("axis_yuan"), "", {
    barmode: "relative", hovermode: "y unified",
    yaxis: { autorange: "reversed", automargin: true },
  }));
}

function drawErrors() {
  const traces = [{ x: REPORT.time, y: REPORT.forecast_error, name: L("forecast_error_chart"), type: "scatter",
    mode: "lines", line: { color: "#7c3aed", width: 1 } }];
  plot("chart-errors", traces, layout(L("forecast_error_chart"), L("axis_time"), L("axis_price"),
    { showlegend: false }));
}

function drawAll() {
  drawCumulative();
  drawDaily();
  drawSchedule();
  drawSoc();
  drawAttribution();
  drawErrors();
  document.body.dataset.rendered = "true";
}

/** Every text of the page and the charts in ``next`` ("en" or "zh"). */
function setLanguage(next) {
  lang = next === "zh" ? "zh" : "en";
  document.documentElement.dataset.lang = lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-en]")) el.textContent = el.dataset[lang];
  for (const option of document.getElementById("pick-strategy").options) option.textContent = sname(option.value);
  for (const button of document.querySelectorAll("[data-set-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.setLang === lang));
  }
  drawAll();
}

for (const button of document.querySelectorAll("[data-set-lang]")) {
  button.addEventListener("click", () => setLanguage(button.dataset.setLang));
}
document.getElementById("pick-strategy").addEventListener("change", () => { drawSchedule(); drawSoc(); drawAttribution(); });
document.getElementById("pick-day").addEventListener("change", () => { drawSchedule(); drawSoc(); });
drawAll();
