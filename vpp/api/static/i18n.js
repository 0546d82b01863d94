/* Labels of the dashboard in English and Chinese: elements carry data-i18n="key" (text) or
   data-i18n-placeholder="key"; scripts call t("key", {name: value}). The choice is kept in localStorage. */
"use strict";

const LANG_KEY = "vpp-lang";

const MESSAGES = {
  en: {
    title: "vpp operator dashboard",
    language: "Language",
    trading_day: "Trading day",
    logout: "Log out",
    login: "Log in",
    login_help_1: "Paste an API key made with",
    login_help_2: "It is sent in the X-API-Key header and kept for this browser tab only.",
    api_key: "API key",
    key_invalid: "That key is not valid.",
    key_expired: "Your key is no longer valid.",
    prices: "Prices",
    unit_price: "yuan/MWh",
    bid: "Day-ahead bid",
    unit_bid: "MW, + = to the grid",
    status: "Status",
    approve: "Approve bid",
    download_csv: "Download CSV",
    bid_table: "Bid per period",
    col_period: "Period start",
    col_net: "Net MW",
    col_forecast: "DA price used (yuan/MWh)",
    schedule: "Schedule against actual",
    unit_mw: "MW",
    soc: "State of charge",
    unit_soc: "MWh, fleet",
    revenue: "Revenue to date",
    unit_yuan: "yuan",
    rev_day: "Day",
    rev_month: "Month to date",
    rev_days: "Days settled",
    not_settled: "not settled",
    envelope: "Flexibility envelope",
    backtests: "Backtests",
    bt_from: "From",
    bt_to: "to",
    bt_strategies: "Strategies",
    bt_start: "Start backtest",
    bt_none: "No backtest yet.",
    col_strategy: "Strategy",
    col_revenue: "Revenue (yuan)",
    col_capture: "Capture",
    stage_none: "no bid",
    stage_awaiting_approval: "awaiting approval",
    stage_approved: "approved",
    stage_dispatching: "dispatching",
    stage_settled: "settled",
    approved_by: "approved by {who} at {when} UTC",
    not_approved: "not approved",
    gate: "gate closure {when}",
    energy: "{out} MWh out, {in} MWh in",
    expected: "expected {yuan} yuan at forecast prices",
    dispatched: "{n} of {total} periods dispatched",
    src_repaired: "{n} repaired after the solver's time limit: feasible, not proven optimal ({at})",
    src_feasible: "{n} stopped at the solver's time limit: feasible, not proven optimal ({at})",
    src_fallback: "{n} safe fallback ({at})",
    bid_repaired: "schedule repaired after the solver's time limit: feasible, not proven optimal",
    bid_not_optimal: "schedule not proven optimal ({termination})",
    settled_revenue: "settled revenue {yuan} yuan",
    approval_failed: "approval failed: {error}",
    export_failed: "export failed: {error}",
    backtest_failed: "backtest not started: {error}",
    job_running: "Job {id}: {message} ({percent} %)",
    job_done: "Job {id}: {portfolio}, {first} to {last}; perfect foresight {bound} yuan",
    job_other: "Job {id} {status}: {error}",
    axis_time: "period start ({tz})",
    axis_time_end: "period end ({tz})",
    envelope_detail: "adjustable {mw} MW, shiftable {mwh} MWh",
    role_operator: "operator",
    role_read: "read only",
    ds_da: "day-ahead",
    ds_rt: "real-time",
    ds_forecast: "forecast",
    ds_bid: "bid net MW",
    ds_bid_schedule: "bid (schedule)",
    ds_setpoint: "setpoint",
    ds_metered: "metered",
    ds_planned: "planned",
    ds_measured: "measured",
    ds_cumulative: "cumulative revenue (day)",
    ds_daily: "daily revenue",
    ds_max_export: "max export",
    ds_max_import: "max import (-)",
    ds_baseline: "baseline",
    ds_bt_revenue: "revenue (yuan)",
    axis_day: "trading day",
    axis_strategy: "strategy",
    strategy_perfect_foresight: "perfect foresight",
    strategy_da_rt: "day-ahead + real-time",
    strategy_da_only: "day-ahead only",
    strategy_rule_based: "rule-based",
    strategy_stochastic: "stochastic",
    strategy_stochastic_curve: "stochastic, price-quantity curve",
    strategy_stochastic_cvar: "stochastic with CVaR",
  },
  zh: {
    title: "虚拟电厂运行监控台",
    language: "语言",
    trading_day: "交易日",
    logout: "退出登录",
    login: "登录",
    login_help_1: "请粘贴由以下命令生成的 API 密钥：",
    login_help_2: "密钥通过 X-API-Key 请求头发送，仅保存在当前浏览器标签页中。",
    api_key: "API 密钥",
    key_invalid: "密钥无效。",
    key_expired: "密钥已失效，请重新登录。",
    prices: "电价",
    unit_price: "元/MWh",
    bid: "日前申报",
    unit_bid: "MW，正值为向电网送电",
    status: "状态",
    approve: "批准申报",
    download_csv: "下载 CSV",
    bid_table: "分时段申报",
    col_period: "时段起点",
    col_net: "净出力 (MW)",
    col_forecast: "申报所用日前电价（元/MWh）",
    schedule: "计划与实际",
    unit_mw: "MW",
    soc: "荷电状态",
    unit_soc: "MWh，全部储能",
    revenue: "累计收益",
    unit_yuan: "元",
    rev_day: "当日",
    rev_month: "本月累计",
    rev_days: "已结算天数",
    not_settled: "未结算",
    envelope: "灵活性包络",
    backtests: "回测",
    bt_from: "从",
    bt_to: "至",
    bt_strategies: "策略",
    bt_start: "开始回测",
    bt_none: "暂无回测。",
    col_strategy: "策略",
    col_revenue: "收益（元）",
    col_capture: "捕获率",
    stage_none: "无申报",
    stage_awaiting_approval: "待批准",
    stage_approved: "已批准",
    stage_dispatching: "执行中",
    stage_settled: "已结算",
    approved_by: "由 {who} 于 {when} UTC 批准",
    not_approved: "未批准",
    gate: "关闸时间 {when}",
    energy: "送出 {out} MWh，购入 {in} MWh",
    expected: "按预测电价预期收益 {yuan} 元",
    dispatched: "已调度 {n}/{total} 个时段",
    src_repaired: "{n} 个时段在求解时限后经修复：可行，未证明最优（{at}）",
    src_feasible: "{n} 个时段达到求解时限：可行，未证明最优（{at}）",
    src_fallback: "{n} 个时段为安全兜底调度（{at}）",
    bid_repaired: "计划在求解时限后经修复：可行，未证明最优",
    bid_not_optimal: "计划未证明最优（{termination}）",
    settled_revenue: "结算收益 {yuan} 元",
    approval_failed: "批准失败：{error}",
    export_failed: "导出失败：{error}",
    backtest_failed: "回测未启动：{error}",
    job_running: "任务 {id}：{message}（{percent}%）",
    job_done: "任务 {id}：{portfolio}，{first} 至 {last}；完全预见 {bound} 元",
    job_other: "任务 {id} {status}：{error}",
    axis_time: "时段起点（{tz}）",
    axis_time_end: "时段终点（{tz}）",
    envelope_detail: "可调容量 {mw} MW，可转移电量 {mwh} MWh",
    role_operator: "操作员",
    role_read: "只读",
    ds_da: "日前",
    ds_rt: "实时",
    ds_forecast: "预测",
    ds_bid: "申报净出力 MW",
    ds_bid_schedule: "申报（计划）",
    ds_setpoint: "调度指令",
    ds_metered: "计量",
    ds_planned: "计划",
    ds_measured: "实测",
    ds_cumulative: "当日累计收益",
    ds_daily: "每日收益",
    ds_max_export: "最大送出",
    ds_max_import: "最大购入（负）",
    ds_baseline: "基线",
    ds_bt_revenue: "收益（元）",
    axis_day: "交易日",
    axis_strategy: "策略",
    strategy_perfect_foresight: "完全预见",
    strategy_da_rt: "日前 + 实时",
    strategy_da_only: "仅日前",
    strategy_rule_based: "规则策略",
    strategy_stochastic: "随机规划",
    strategy_stochastic_curve: "随机规划（量价曲线）",
    strategy_stochastic_cvar: "随机规划（CVaR）",
  },
};

let language = localStorage.getItem(LANG_KEY) === "zh" ? "zh" : "en";
let moneyUnit = "yuan";  // the market's money: "yuan" for CNY, else its ISO code (EUR, USD)

/** The label ``key`` in the current language, with {name} placeholders filled from ``vars``. */
function t(key, vars = {}) {
  let text = (MESSAGES[language] && MESSAGES[language][key]) || MESSAGES.en[key] || key;
  if (moneyUnit !== "yuan") text = text.replace(/yuan/g, moneyUnit).replace(/元/g, moneyUnit);
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Name money in ``currency`` (ISO 4217, from the API) from now on. */
function setCurrency(currency) {
  moneyUnit = !currency || currency === "CNY" ? "yuan" : currency;
  translatePage();
}

/** A strategy's name in the current language (its own name when it has no label). */
function strategyName(name) {
  const key = `strategy_${name}`;
  return key in MESSAGES.en ? t(key) : name;
}

/** Put the current language's labels into every element marked data-i18n / data-i18n-placeholder. */
function translatePage() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

function setLanguage(next) {
  language = next === "zh" ? "zh" : "en";
  localStorage.setItem(LANG_KEY, language);
  translatePage();
}
