/* vpp operator dashboard: plain JavaScript over the REST API, charts by the bundled Chart.js. */
"use strict";

const KEY_NAME = "vpp-api-key";
const charts = {};
let principal = null;

const $ = (id) => document.getElementById(id);
const hhmm = (iso) => iso.slice(11, 16);
const money = (v) => (v === null || v === undefined ? "-" :
  v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

class ApiError extends Error {
  constructor(status, detail) { super(typeof detail === "string" ? detail : JSON.stringify(detail)); this.status = status; }
}

async function api(path, options = {}) {
  const headers = Object.assign({ "X-API-Key": sessionStorage.getItem(KEY_NAME) || "" }, options.headers || {});
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 && principal) logout("Your key is no longer valid.");
  if (!response.ok) throw new ApiError(response.status, data && data.detail ? data.detail : response.statusText);
  return data;
}

function draw(id, type, labels, datasets, extra = {}) {
  const canvas = $(id);
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: Object.assign({
      animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true,
      interaction: { mode: "index", intersect: false },
      elements: { point: { radius: 0 }, line: { borderWidth: 1.6 } },
      scales: { x: { ticks: { maxTicksLimit: 12 } } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    }, extra),
  });
  const points = datasets.reduce((n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0);
  canvas.dataset.points = String(points);
  return charts[id];
}

function line(label, data, color, dash) {
  return { label, data, borderColor: color, backgroundColor: color, borderDash: dash || [], fill: false };
}

function say(text) { $("message").textContent = text || ""; }

async function loadPrices(day) {
  const data = await api(`/api/prices?day=${day}`);
  const p = data.periods;
  draw("chart-prices", "line", p.map((r) => hhmm(r.period_start)), [
    line("day-ahead", p.map((r) => r.da_price), "#1f6feb"),
    line("real-time", p.map((r) => r.rt_price), "#d97706"),
    line("forecast", p.map((r) => r.forecast_da), "#6b7280", [4, 3]),
  ]);
}

async function loadBid(day) {
  const button = $("approve");
  button.hidden = true;
  let bid;
  try {
    bid = await api(`/api/bids/${day}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    $("bid-status").textContent = "no bid";
    $("bid-status").className = "";
    $("bid-detail").textContent = "";
    draw("chart-bid", "bar", [], []);
    return;
  }
  const status = $("bid-status");
  status.textContent = bid.status === "approved" ? "approved" : "awaiting approval";
  status.className = bid.status === "approved" ? "approved" : "awaiting";
  $("bid-detail").textContent = bid.status === "approved"
    ? `by ${bid.approved_by} at ${bid.approved_at.slice(0, 16).replace("T", " ")} UTC`
    : `gate closure ${bid.gate_closure.slice(0, 16).replace("T", " ")}; ` +
      `${bid.export_mwh.toFixed(2)} MWh out, ${bid.import_mwh.toFixed(2)} MWh in` +
      (bid.expected_revenue_yuan !== null ? `; expected ${money(bid.expected_revenue_yuan)} yuan` : "");
  button.hidden = !(bid.status !== "approved" && principal && principal.role === "operator");
  const p = bid.bid_periods;
  draw("chart-bid", "bar", p.map((r) => hhmm(r.period_start)), [
    { label: "bid net MW", data: p.map((r) => r.net_mw),
      backgroundColor: p.map((r) => (r.net_mw >= 0 ? "#16a34a" : "#dc2626")) },
  ]);
}

async function loadDispatch(day) {
  const data = await api(`/api/dispatch/history?day=${day}`);
  const p = data.periods;
  const labels = p.map((r) => hhmm(r.period_start));
  draw("chart-dispatch", "line", labels, [
    line("bid (schedule)", p.map((r) => r.bid_mw), "#1f6feb", [5, 3]),
    line("setpoint", p.map((r) => r.setpoint_mw), "#7c3aed"),
    line("metered", p.map((r) => r.metered_mw), "#16a34a"),
  ]);
  draw("chart-soc", "line", labels, [
    line("planned", p.map((r) => r.soc_planned_mwh), "#0891b2", [5, 3]),
    line("measured", p.map((r) => r.soc_measured_mwh), "#0f766e"),
  ]);
}

async function loadRevenue(day) {
  const month = await api(`/api/settlement/monthly/${day.slice(0, 7)}`);
  $("rev-month").textContent = money(month.revenue);
  $("rev-days").textContent = String(month.days);
  try {
    const daily = await api(`/api/settlement/daily/${day}`);
    $("rev-day").textContent = money(daily.revenue);
    let total = 0;
    const cumulative = daily.settlement_periods.map((r) => (total += r.revenue));
    draw("chart-revenue", "line", daily.settlement_periods.map((r) => hhmm(r.period_start)), [
      Object.assign(line("cumulative revenue (day)", cumulative, "#16a34a"), { fill: "origin", backgroundColor: "rgba(22,163,74,.15)" }),
    ]);
  } catch (err) {
    if (err.status !== 404) throw err;
    $("rev-day").textContent = "not settled";
    draw("chart-revenue", "line", month.daily.map((r) => r.trading_day),
      [line("daily revenue", month.daily.map((r) => r.revenue), "#16a34a")]);
  }
}

async function loadEnvelope(day) {
  const env = await api(`/api/portfolio/envelope?day=${day}`);
  const p = env.periods;
  $("envelope-detail").textContent =
    `adjustable ${env.adjustable_mw.toFixed(2)} MW, shiftable ${env.shiftable_energy_mwh.toFixed(2)} MWh`;
  draw("chart-envelope", "line", p.map((r) => hhmm(r.period_start)), [
    Object.assign(line("max export", p.map((r) => r.max_export_mw), "#16a34a"), { fill: "+1", backgroundColor: "rgba(31,111,235,.12)" }),
    line("max import (-)", p.map((r) => -r.max_import_mw), "#dc2626"),
    line("baseline", p.map((r) => r.baseline_mw), "#374151", [4, 3]),
  ]);
}

async function loadBacktests() {
  const jobs = await api("/api/backtests");
  const status = $("backtest-status");
  const running = jobs.find((j) => j.status === "queued" || j.status === "running");
  if (running) {
    status.textContent = `Job ${running.id}: ${running.message} (${Math.round(running.progress * 100)} %)`;
    setTimeout(() => loadBacktests().catch((e) => say(e.message)), 1000);
  }
  const done = jobs.find((j) => j.status === "done");
  if (!done) {
    if (!running) status.textContent = jobs.length ? `Job ${jobs[0].id} ${jobs[0].status}: ${jobs[0].error || ""}` : "No backtest yet.";
    draw("chart-backtest", "bar", [], []);
    return;
  }
  const results = await api(`/api/backtests/${done.id}/results`);
  const blocks = results.summary.strategies;
  const names = Object.keys(blocks);
  if (!running) {
    status.textContent = `Job ${done.id}: ${results.summary.portfolio}, ${results.summary.first_day} to ` +
      `${results.summary.last_day}; perfect foresight ${money(results.summary.perfect_foresight_revenue_yuan)} yuan`;
  }
  draw("chart-backtest", "bar", names, [
    { label: "revenue (yuan)", data: names.map((n) => blocks[n].total_revenue_yuan), backgroundColor: "#1f6feb" },
  ]);
  const body = $("backtest-table").querySelector("tbody");
  body.replaceChildren(...names.map((n) => {
    const row = document.createElement("tr");
    const ratio = blocks[n].capture_ratio;
    for (const text of [n, money(blocks[n].total_revenue_yuan), ratio === null ? "-" : ratio.toFixed(3)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    return row;
  }));
}

async function loadDay() {
  const day = $("day").value;
  say("");
  const loaders = [loadPrices, loadBid, loadDispatch, loadRevenue, loadEnvelope].map((f) => f(day));
  loaders.push(loadBacktests());
  const results = await Promise.allSettled(loaders);
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  say(failed.join("; "));
  document.body.dataset.loaded = "true";
}

async function pickDay() {
  const fromUrl = new URLSearchParams(location.search).get("day");
  if (fromUrl) return fromUrl;
  const bids = await api("/api/bids?limit=1");
  return bids.length ? bids[0].day : new Date().toISOString().slice(0, 10);
}

async function start() {
  try {
    principal = await api("/api/me");
  } catch (err) {
    sessionStorage.removeItem(KEY_NAME);
    $("login-error").textContent = err.status === 401 ? "That key is not valid." : err.message;
    return;
  }
  $("login").hidden = true;
  $("dashboard").hidden = false;
  $("session").hidden = false;
  $("whoami").textContent = `${principal.name} (${principal.role})`;
  $("backtest-form").hidden = principal.role !== "operator";
  $("day").value = await pickDay();
  await loadDay();
}

function logout(text) {
  sessionStorage.removeItem(KEY_NAME);
  principal = null;
  $("dashboard").hidden = true;
  $("session").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = text || "";
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_NAME, $("api-key").value.trim());
  $("api-key").value = "";
  start();
});
$("logout").addEventListener("click", () => logout());
$("day").addEventListener("change", () => loadDay());
$("approve").addEventListener("click", async () => {
  const button = $("approve");
  button.disabled = true;
  try {
    await api(`/api/bids/${$("day").value}/approve`, { method: "POST" });
    await loadBid($("day").value);
  } catch (err) {
    say(`approval failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
});
$("backtest-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { start: $("bt-start").value, end: $("bt-end").value,
    strategies: $("bt-strategies").value.split(",").map((s) => s.trim()).filter(Boolean) };
  try {
    await api("/api/backtests", { method: "POST", body: JSON.stringify(body) });
    await loadBacktests();
  } catch (err) {
    say(`backtest not started: ${err.message}`);
  }
});

if (sessionStorage.getItem(KEY_NAME)) start();
