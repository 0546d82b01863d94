/* vpp operator dashboard: plain JavaScript over the REST API, charts by the bundled Chart.js, labels from
   i18n.js (English or Chinese). */
"use strict";

const KEY_NAME = "vpp-api-key";
const charts = {};
let principal = null;
let zoneName = "";  // the market's time zone (from the day's bid), shown on every time axis

const $ = (id) => document.getElementById(id);
const hhmm = (iso) => iso.slice(11, 16);
const locale = () => (language === "zh" ? "zh-CN" : "en-US");
const money = (v) => (v === null || v === undefined ? "-" :
  v.toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const offsetOf = (iso) => (/([+-]\d\d:\d\d|Z)$/.exec(iso) || ["", "+00:00"])[1].replace("Z", "+00:00");

/** "period start (Asia/Shanghai, UTC+08:00)": the zone and the offsets of ``periods``' starts (or,
    with ``atEnd``, "period end (...)" and their ends'). */
function timeAxis(periods, atEnd = false) {
  const offsets = [...new Set(periods.map((r) => `UTC${offsetOf(atEnd ? r.period_end : r.period_start)}`))].join("/");
  return t(atEnd ? "axis_time_end" : "axis_time", { tz: [zoneName, offsets].filter(Boolean).join(", ") });
}

/** "HH:MM" of a period's end, "24:00" for the day's last: where a state at the period's end is drawn
    (stored energy, money earned by then), as the backtest report draws them. */
const endClock = (r) => (r.period_end.slice(0, 10) === r.period_start.slice(0, 10) ? hhmm(r.period_end) : "24:00");

class ApiError extends Error {
  constructor(status, detail) { super(typeof detail === "string" ? detail : JSON.stringify(detail)); this.status = status; }
}

async function request(path, options = {}) {
  const headers = Object.assign({ "X-API-Key": sessionStorage.getItem(KEY_NAME) || "" }, options.headers || {});
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401 && principal) logout(t("key_expired"));
  return response;
}

async function api(path, options = {}) {
  const response = await request(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data && data.detail ? data.detail : response.statusText);
  return data;
}

/** A chart on canvas ``id`` whose x axis is titled ``xTitle`` (the time zone, or what the axis counts). */
function draw(id, type, labels, datasets, xTitle, extra = {}) {
  const canvas = $(id);
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: Object.assign({
      animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true,
      interaction: { mode: "index", intersect: false },
      elements: { point: { radius: 0 }, line: { borderWidth: 1.6 } },
      scales: { x: { ticks: { maxTicksLimit: 12 }, title: { display: Boolean(xTitle), text: xTitle } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    }, extra),
  });
  const points = datasets.reduce((n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0);
  canvas.dataset.points = String(points);
  canvas.dataset.xTitle = xTitle || "";
  return charts[id];
}

function line(label, data, color, dash) {
  return { label, data, borderColor: color, backgroundColor: color, borderDash: dash || [], fill: false };
}

function say(text) { $("message").textContent = text || ""; }

async function fetchBid(day) {
  try {
    return await api(`/api/bids/${day}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    return null;
  }
}

async function loadPrices(day) {
  const data = await api(`/api/prices?day=${day}`);
  if (data.currency) setCurrency(data.currency);
  const p = data.periods;
  draw("chart-prices", "line", p.map((r) => hhmm(r.period_start)), [
    line(t("ds_da"), p.map((r) => r.da_price), "#1f6feb"),
    line(t("ds_rt"), p.map((r) => r.rt_price), "#d97706"),
    line(t("ds_forecast"), p.map((r) => r.forecast_da), "#6b7280", [4, 3]),
  ], timeAxis(p));
}

/** The bid's state in words: approval, dispatch progress and settlement, as far as it got. */
function bidDetail(bid) {
  const parts = [];
  if (bid.stage === "awaiting_approval") parts.push(t("gate", { when: bid.gate_closure.slice(0, 16).replace("T", " ") }));
  parts.push(bid.approved_by
    ? t("approved_by", { who: bid.approved_by, when: bid.approved_at.slice(0, 16).replace("T", " ") })
    : t("not_approved"));
  if (bid.dispatched_periods > 0) parts.push(t("dispatched", { n: bid.dispatched_periods, total: bid.periods }));
  if (bid.settled_revenue_yuan !== null && bid.settled_revenue_yuan !== undefined) {
    parts.push(t("settled_revenue", { yuan: money(bid.settled_revenue_yuan) }));
  }
  if (bid.solve && !bid.solve.proven_optimal) {
    parts.push(bid.solve.repaired ? t("bid_repaired") : t("bid_not_optimal", { termination: bid.solve.termination }));
  }
  parts.push(t("energy", { out: bid.export_mwh.toFixed(2), in: bid.import_mwh.toFixed(2) }));
  if (bid.expected_revenue_yuan !== null && bid.expected_revenue_yuan !== undefined && bid.stage !== "settled") {
    parts.push(t("expected", { yuan: money(bid.expected_revenue_yuan) }));
  }
  return "· " + parts.join(language === "zh" ? "；" : "; ");
}

function showBid(bid) {
  const status = $("bid-status");
  const body = $("bid-table").querySelector("tbody");
  $("approve").hidden = true;
  $("bid-csv").hidden = bid === null;
  $("bid-table-box").hidden = bid === null;
  if (bid === null) {
    status.textContent = t("stage_none");
    status.className = "";
    status.dataset.stage = "none";
    $("bid-detail").textContent = "";
    body.replaceChildren();
    draw("chart-bid", "bar", [], [], "");
    return;
  }
  status.textContent = t(`stage_${bid.stage}`);
  status.className = bid.stage === "awaiting_approval" ? "awaiting" : bid.stage;
  status.dataset.stage = bid.stage;
  $("bid-detail").textContent = bidDetail(bid);
  $("approve").hidden = !(bid.stage === "awaiting_approval" && principal && principal.role === "operator");
  const p = bid.bid_periods;
  draw("chart-bid", "bar", p.map((r) => hhmm(r.period_start)), [
    { label: t("ds_bid"), data: p.map((r) => r.net_mw),
      backgroundColor: p.map((r) => (r.net_mw >= 0 ? "#16a34a" : "#dc2626")) },
  ], timeAxis(p));
  body.replaceChildren(...p.map((r) => {
    const row = document.createElement("tr");
    const price = r.forecast_da === null || r.forecast_da === undefined ? "-" : r.forecast_da.toFixed(2);
    for (const text of [r.period_start.slice(0, 16).replace("T", " ") + offsetOf(r.period_start),
      r.net_mw.toFixed(3), price]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    return row;
  }));
}

/** Save the bid file of the day (the API's CSV export, as the service writes it) through a download. */
async function downloadBid() {
  const day = $("day").value;
  const response = await request(`/api/bids/${day}/export?format=csv`);
  if (!response.ok) throw new ApiError(response.status, await response.text());
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `bid_${day}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The day's dispatch in words: periods sent, and those whose setpoints are not a proven optimum
    (repaired, or stopped at the time limit) or a safe fallback, named by their start. */
function dispatchDetail(p) {
  const sent = p.filter((r) => r.source);
  if (!sent.length) return "";
  const parts = [t("dispatched", { n: sent.length, total: p.length })];
  for (const kind of ["repaired", "feasible", "fallback"]) {
    const at = sent.filter((r) => r.source.split(",").includes(kind)).map((r) => hhmm(r.period_start));
    if (at.length) parts.push(t(`src_${kind}`, { n: at.length, at: at.slice(0, 8).join(", ") + (at.length > 8 ? ", ..." : "") }));
  }
  return "· " + parts.join(language === "zh" ? "；" : "; ");
}

async function loadDispatch(day) {
  const data = await api(`/api/dispatch/history?day=${day}`);
  const p = data.periods;
  const detail = $("dispatch-detail");
  detail.textContent = dispatchDetail(p);
  detail.dataset.notOptimal = String(p.filter((r) => r.source && /repaired|feasible/.test(r.source)).length);
  const labels = p.map((r) => hhmm(r.period_start));
  draw("chart-dispatch", "line", labels, [
    line(t("ds_bid_schedule"), p.map((r) => r.bid_mw), "#1f6feb", [5, 3]),
    line(t("ds_setpoint"), p.map((r) => r.setpoint_mw), "#7c3aed"),
    line(t("ds_metered"), p.map((r) => r.metered_mw), "#16a34a"),
  ], timeAxis(p));
  draw("chart-soc", "line", p.map(endClock), [  // stored energy at each period's end
    line(t("ds_planned"), p.map((r) => r.soc_planned_mwh), "#0891b2", [5, 3]),
    line(t("ds_measured"), p.map((r) => r.soc_measured_mwh), "#0f766e"),
  ], timeAxis(p, true));
}

async function loadRevenue(day) {
  const month = await api(`/api/settlement/monthly/${day.slice(0, 7)}`);
  $("rev-month").textContent = money(month.revenue);
  $("rev-days").textContent = String(month.days);
  try {
    const daily = await api(`/api/settlement/daily/${day}`);
    $("rev-day").textContent = money(daily.revenue);
    let total = 0;
    const p = daily.settlement_periods;
    const cumulative = p.map((r) => (total += r.revenue));
    draw("chart-revenue", "line", p.map(endClock), [  // a period's money is earned by its end
      Object.assign(line(t("ds_cumulative"), cumulative, "#16a34a"), { fill: "origin", backgroundColor: "rgba(22,163,74,.15)" }),
    ], timeAxis(p, true));
  } catch (err) {
    if (err.status !== 404) throw err;
    $("rev-day").textContent = t("not_settled");
    draw("chart-revenue", "line", month.daily.map((r) => r.trading_day),
      [line(t("ds_daily"), month.daily.map((r) => r.revenue), "#16a34a")], t("axis_day"));
  }
}

async function loadEnvelope(day) {
  const env = await api(`/api/portfolio/envelope?day=${day}`);
  const p = env.periods;
  $("envelope-detail").textContent =
    t("envelope_detail", { mw: env.adjustable_mw.toFixed(2), mwh: env.shiftable_energy_mwh.toFixed(2) });
  draw("chart-envelope", "line", p.map((r) => hhmm(r.period_start)), [
    Object.assign(line(t("ds_max_export"), p.map((r) => r.max_export_mw), "#16a34a"), { fill: "+1", backgroundColor: "rgba(31,111,235,.12)" }),
    line(t("ds_max_import"), p.map((r) => -r.max_import_mw), "#dc2626"),
    line(t("ds_baseline"), p.map((r) => r.baseline_mw), "#374151", [4, 3]),
  ], timeAxis(p));
}

async function loadBacktests() {
  const jobs = await api("/api/backtests");
  const status = $("backtest-status");
  const running = jobs.find((j) => j.status === "queued" || j.status === "running");
  if (running) {
    status.textContent = t("job_running", { id: running.id, message: running.message,
      percent: Math.round(running.progress * 100) });
    setTimeout(() => loadBacktests().catch((e) => say(e.message)), 1000);
  }
  const done = jobs.find((j) => j.status === "done");
  if (!done) {
    if (!running) {
      status.textContent = jobs.length
        ? t("job_other", { id: jobs[0].id, status: jobs[0].status, error: jobs[0].error || "" }) : t("bt_none");
    }
    draw("chart-backtest", "bar", [], [], "");
    return;
  }
  const results = await api(`/api/backtests/${done.id}/results`);
  const summary = results.summary;
  const blocks = summary.strategies;
  const names = Object.keys(blocks);
  if (!running) {
    status.textContent = t("job_done", { id: done.id, portfolio: summary.portfolio, first: summary.first_day,
      last: summary.last_day, bound: money(summary.perfect_foresight_revenue_yuan) });
  }
  draw("chart-backtest", "bar", names.map(strategyName), [
    { label: t("ds_bt_revenue"), data: names.map((n) => blocks[n].total_revenue_yuan), backgroundColor: "#1f6feb" },
  ], t("axis_strategy"));
  const body = $("backtest-table").querySelector("tbody");
  body.replaceChildren(...names.map((n) => {
    const row = document.createElement("tr");
    const ratio = blocks[n].capture_ratio;
    const capture = ratio === null || ratio === undefined ? "-" : `${(ratio * 100).toFixed(1)} %`;
    for (const text of [strategyName(n), money(blocks[n].total_revenue_yuan), capture]) {
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
  document.body.dataset.loaded = "false";
  const failed = [];
  let bid = null;
  try {  // first: its market zone labels every time axis, its currency every amount
    bid = await fetchBid(day);
    if (bid) {
      zoneName = bid.timezone;
      setCurrency(bid.currency);
    }
  } catch (err) {
    failed.push(err.message);
  }
  showBid(bid);
  const loaders = [loadPrices, loadDispatch, loadRevenue, loadEnvelope].map((f) => f(day));
  loaders.push(loadBacktests());
  const results = await Promise.allSettled(loaders);
  failed.push(...results.filter((r) => r.status === "rejected").map((r) => r.reason.message));
  say(failed.join("; "));
  document.body.dataset.loaded = "true";
}

async function pickDay() {
  const fromUrl = new URLSearchParams(location.search).get("day");
  if (fromUrl) return fromUrl;
  const bids = await api("/api/bids?limit=1");
  return bids.length ? bids[0].day : new Date().toISOString().slice(0, 10);
}

function showWho() {
  if (principal) $("whoami").textContent = `${principal.name} (${t(`role_${principal.role}`)})`;
}

async function start() {
  try {
    principal = await api("/api/me");
  } catch (err) {
    sessionStorage.removeItem(KEY_NAME);
    $("login-error").textContent = err.status === 401 ? t("key_invalid") : err.message;
    return;
  }
  $("login").hidden = true;
  $("dashboard").hidden = false;
  $("session").hidden = false;
  showWho();
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
$("lang").value = language;
$("lang").addEventListener("change", () => {
  setLanguage($("lang").value);
  showWho();
  if (principal) loadDay();  // charts and status lines in the new language
});
$("approve").addEventListener("click", async () => {
  const button = $("approve");
  button.disabled = true;
  try {
    await api(`/api/bids/${$("day").value}/approve`, { method: "POST" });
    showBid(await fetchBid($("day").value));
  } catch (err) {
    say(t("approval_failed", { error: err.message }));
  } finally {
    button.disabled = false;
  }
});
$("bid-csv").addEventListener("click", () => downloadBid().catch((err) => say(t("export_failed", { error: err.message }))));
$("backtest-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { start: $("bt-start").value, end: $("bt-end").value,
    strategies: $("bt-strategies").value.split(",").map((s) => s.trim()).filter(Boolean) };
  try {
    await api("/api/backtests", { method: "POST", body: JSON.stringify(body) });
    await loadBacktests();
  } catch (err) {
    say(t("backtest_failed", { error: err.message }));
  }
});

translatePage();
if (sessionStorage.getItem(KEY_NAME)) start();
