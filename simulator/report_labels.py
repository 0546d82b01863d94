"""Labels of the backtest report in English and Chinese, and readable names for ``summary.json`` keys.

:func:`label` names a summary key (``total_revenue_yuan`` -> "Revenue (yuan)" / "收益（元）"); keys
not listed here (fields added to the summary later) are spelled out word by word from :data:`WORDS`,
so every column has a label in both languages.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")
"""Languages of the report: English and Simplified Chinese."""

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Backtest report", "回测报告"),
    "portfolio": ("Portfolio", "资产组合"),
    "market": ("Market", "市场"),
    "period": ("Period", "回测区间"),
    "days_periods": ("{days} days, {periods} periods", "{days} 天，{periods} 个时段"),
    "time_zone": ("Time zone", "时区"),
    "forecast": ("DA price forecast", "日前电价预测"),
    "run": ("Run", "运行"),
    "units": ("Units", "单位"),
    "units_text": ("Money in yuan, energy in MWh, power in MW", "金额：元；电量：MWh；功率：MW"),
    "language": ("Language", "语言"),
    "headline": ("Headline", "核心指标"),
    "headline_note": (
        "Revenue is the two-settlement revenue over the whole period; "
        "the rows below the line are references.",
        "收益为整个区间的两部制结算收益；横线下方为参照基准。",
    ),
    "strategy": ("Strategy", "策略"),
    "references": ("References", "参照基准"),
    "definitions": ("Definitions", "定义"),
    "def_value": (
        "Value over passive = revenue - passive revenue (yuan): what using the flexibility earned.",
        "超出被动收益 = 收益 - 被动收益（元）：使用灵活性带来的价值。",
    ),
    "def_capture": (
        "Capture against a bound = (revenue - passive) / (bound revenue - passive): the share of the value "
        "that bound reaches which the strategy reached (100 % = as good as the bound).",
        "相对某上界的捕获率 = （收益 - 被动收益）/（上界收益 - 被动收益）：策略实现了该上界所能获得价值的比例"
        "（100% 即与上界相同）。",
    ),
    "def_yuan_mwh": (
        "yuan/MWh = revenue / (energy exported + energy imported): revenue per MWh that crossed the meter.",
        "元/MWh = 收益 /（送出电量 + 购入电量）：每兆瓦时过表电量的收益。",
    ),
    "def_passive": (
        "Passive position: no flexibility used; the envelope baseline bid day-ahead and delivered.",
        "被动头寸：不使用任何灵活性，按灵活性包络基线申报日前并如实交付。",
    ),
    "def_perfect_foresight": (
        "Perfect foresight: the schedule with the realised day-ahead and real-time prices known in advance.",
        "完全预见：事先已知实际日前与实时电价时的最优计划。",
    ),
    "def_da_optimum": (
        "Physical day-ahead optimum: each day's best schedule at the realised day-ahead prices, "
        "bid and delivered (no bet on the DA-RT spread).",
        "物理日前最优：按实际日前电价求得的每日最优计划，按计划申报并交付（不押注日前-实时价差）。",
    ),
    "def_rt_optimum": (
        "Physical real-time optimum: each day's best schedule at the realised real-time prices.",
        "物理实时最优：按实际实时电价求得的每日最优计划。",
    ),
    "def_energy_shifting_yuan": (
        "Energy shifting = delivered energy x DA price + contract - penalty - passive (yuan): "
        "the physical value.",
        "电量转移 = 实际电量 × 日前电价 + 合约 - 考核 - 被动收益（元）：物理调度的价值。",
    ),
    "def_spread_yuan": (
        "DA-RT spread = (delivered - bid) x (RT price - DA price) (yuan): the value of deviating from the DA "
        "position.",
        "日前-实时价差 =（实际 - 申报）×（实时电价 - 日前电价）（元）：偏离日前头寸的价值。",
    ),
    "passive_note": ("Passive baseline", "被动基线说明"),
    "charts": ("Revenue", "收益"),
    "cumulative": ("Cumulative revenue", "累计收益"),
    "daily": ("Daily revenue", "每日收益"),
    "schedule_title": ("Schedule and state of charge", "调度计划与荷电状态"),
    "pick_strategy": ("Strategy", "策略"),
    "pick_day": ("Trading day", "交易日"),
    "prices_schedule": ("Prices and schedule", "电价与计划"),
    "soc": ("State of charge", "荷电状态"),
    "no_batteries": ("No battery in this portfolio.", "该组合中没有储能。"),
    "attribution": ("Revenue by asset", "分资产收益"),
    "attribution_note": (
        "What each asset earns, to the fen, as members.csv: its own metered energy at the real-time price "
        "plus a share, pro rata to its |energy|, of the fleet's day-ahead-minus-real-time, contract and "
        "deviation-penalty legs (the day-ahead position is the fleet's, not any asset's). The assets add up "
        "to the fleet's revenue.",
        "各资产所得（精确到分，与 members.csv 一致）：其自身计量电量按实时电价结算，加上按其电量绝对值分摊的"
        "组合日前与实时差额、合约与偏差考核部分（日前头寸属于整个组合，而非单个资产）。各资产之和即组合收益。",
    ),
    "asset": ("Asset", "资产"),
    "revenue_share": (
        "Operator and users: time-of-use price + dividend",
        "运营商与用户：分时价格 + 红利分享",
    ),
    "revenue_share_note": (
        "The headline strategy's result shared as the portfolio's revenue_share sets: users pay the retail "
        "price for the fleet's metered import, and the dividend (their payments + the wholesale revenue - "
        "operating fees) is split between them and the operator.",
        "按资产组合 revenue_share 的设定分配主策略的结果：用户按零售分时电价为组合的实际购电量付费，"
        "红利（用户付费 + 批发市场收益 - 运营费用）在用户与运营商之间分享。",
    ),
    "rs_consumption_mwh": ("Users' consumption (MWh)", "用户用电量（MWh）"),
    "rs_user_payments": ("Users' retail payments (yuan)", "用户零售电费（元）"),
    "rs_wholesale_revenue": ("Wholesale revenue (yuan)", "批发市场收益（元）"),
    "rs_operating_fees": ("Operating fees (yuan)", "运营费用（元）"),
    "rs_dividend": ("Dividend (yuan)", "红利（元）"),
    "rs_user_dividend": ("Users' dividend (yuan)", "用户分享红利（元）"),
    "rs_operator_dividend": ("Operator's dividend (yuan)", "运营商红利（元）"),
    "rs_user_net_payment": ("Users' net payment (yuan)", "用户净支付（元）"),
    "total": ("Total", "合计"),
    "forecast_errors": ("DA price forecast errors", "日前电价预测误差"),
    "forecast_error_chart": ("DA forecast - realised DA price", "日前预测 - 实际日前电价"),
    "all_figures": ("All figures per strategy", "各策略全部指标"),
    "run_figures": ("Run", "运行信息"),
    "axis_time": ("period start ({tz})", "时段起点（{tz}）"),
    "axis_time_end": ("period end ({tz})", "时段终点（{tz}）"),
    "axis_day": ("trading day", "交易日"),
    "axis_yuan": ("yuan", "元"),
    "axis_mw": ("MW, + = to the grid", "MW，正值为向电网送电"),
    "axis_price": ("yuan/MWh", "元/MWh"),
    "axis_mwh": ("MWh", "MWh"),
    "trace_da": ("DA price", "日前电价"),
    "trace_rt": ("RT price", "实时电价"),
    "trace_forecast": ("DA forecast", "日前预测"),
    "trace_bid": ("bid (DA position)", "日前申报"),
    "trace_actual": ("delivered", "实际交付"),
    "trace_total": ("total", "合计"),
    "trace_own_energy": ("own energy at RT price", "自身电量按实时电价"),
    "trace_fleet_share": ("share of the fleet's DA-RT, contract, penalty", "分摊的组合日前-实时、合约、考核"),
    "trace_member_revenue": ("revenue (members.csv)", "收益（members.csv）"),
    "passive": ("passive position", "被动头寸"),
    "mae": ("MAE (yuan/MWh)", "平均绝对误差（元/MWh）"),
    "rmse": ("RMSE (yuan/MWh)", "均方根误差（元/MWh）"),
    "bias": ("Bias (yuan/MWh)", "偏差（元/MWh）"),
    "forecaster": ("Forecast", "预测方法"),
    "in_use": ("used", "本次使用"),
}
"""Fixed texts of the page: key -> (English, Chinese); ``{name}`` fields are filled by the caller."""

KEYS: dict[str, tuple[str, str]] = {
    "total_revenue_yuan": ("Revenue (yuan)", "收益（元）"),
    "da_revenue_yuan": ("Day-ahead revenue (yuan)", "日前收益（元）"),
    "rt_revenue_yuan": ("Real-time revenue (yuan)", "实时收益（元）"),
    "contract_revenue_yuan": ("Contract revenue (yuan)", "合约收益（元）"),
    "penalty_yuan": ("Deviation penalty (yuan)", "偏差考核（元）"),
    "energy_export_mwh": ("Energy exported (MWh)", "送出电量（MWh）"),
    "energy_import_mwh": ("Energy imported (MWh)", "购入电量（MWh）"),
    "capture_ratio": ("Capture vs full perfect foresight", "相对完全预见的捕获率"),
    "value_over_passive_yuan": ("Value over passive (yuan)", "超出被动收益（元）"),
    "yuan_per_mwh": ("yuan/MWh", "元/MWh"),
    "realtime_solves": ("Real-time solves", "实时求解次数"),
    "solves_not_proven_optimal": ("Solves not proven optimal", "未证明最优的求解次数"),
    "solves_repaired": ("Solves repaired after the time limit", "求解时限后经修复的求解次数"),
    "daily_revenue_mean_yuan": ("Daily revenue, mean (yuan)", "日均收益（元）"),
    "daily_revenue_std_yuan": ("Daily revenue, std. dev. (yuan)", "日收益标准差（元）"),
    "daily_revenue_min_yuan": ("Worst day (yuan)", "最差单日收益（元）"),
    "daily_revenue_cvar90_yuan": ("Daily revenue, CVaR 90 % (yuan)", "日收益 CVaR 90%（元）"),
    "value_of_stochastic_solution_yuan": ("Value of the stochastic solution (yuan)", "随机解价值（元）"),
    "perfect_foresight_revenue_yuan": ("Perfect foresight (yuan)", "完全预见（元）"),
    "da_optimum_revenue_yuan": ("Physical DA optimum (yuan)", "物理日前最优（元）"),
    "rt_optimum_revenue_yuan": ("Physical RT optimum (yuan)", "物理实时最优（元）"),
    "capture_ratio_at_proven_bound": (
        "Capture vs perfect foresight's proven bound",
        "相对完全预见已证明上界的捕获率",
    ),
    "perfect_foresight_gap_yuan": ("Perfect foresight's proven gap (yuan)", "完全预见的已证明间隙（元）"),
    "capture_da_optimum": ("Capture vs physical DA optimum", "相对物理日前最优的捕获率"),
    "capture_rt_optimum": ("Capture vs physical RT optimum", "相对物理实时最优的捕获率"),
    "energy_shifting_yuan": ("Value from energy shifting (yuan)", "电量转移价值（元）"),
    "spread_yuan": ("Value from the DA-RT spread (yuan)", "日前-实时价差价值（元）"),
    "passive_revenue_yuan": ("Passive position (yuan)", "被动头寸（元）"),
    "days": ("Days", "天数"),
    "periods": ("Periods", "时段数"),
    "seconds": ("Run time (s)", "运行时间（秒）"),
    "run.seconds": ("Run time (s)", "运行时间（秒）"),
    "model_builds": ("Model builds", "模型构建次数"),
    "solves": ("Solves", "求解次数"),
}
"""Known ``summary.json`` keys -> (English, Chinese)."""

STRATEGIES: dict[str, tuple[str, str]] = {
    "perfect_foresight": ("Perfect foresight", "完全预见"),
    "da_rt": ("Day-ahead + real-time", "日前 + 实时"),
    "da_only": ("Day-ahead only", "仅日前"),
    "rule_based": ("Rule-based", "规则策略"),
    "stochastic": ("Stochastic", "随机规划"),
    "stochastic_curve": ("Stochastic, price-quantity curve", "随机规划（量价曲线）"),
    "stochastic_cvar": ("Stochastic with CVaR", "随机规划（CVaR）"),
    "passive": ("Passive position", "被动头寸"),
    "da_optimum": ("Physical DA optimum", "物理日前最优"),
    "rt_optimum": ("Physical RT optimum", "物理实时最优"),
}
"""Strategy names -> (English, Chinese); unknown names are shown as they are."""

WORDS: dict[str, tuple[str, str]] = {
    "capture": ("capture", "捕获率"),
    "ratio": ("", ""),
    "vs": ("vs", "相对"),
    "of": ("of", "的"),
    "physical": ("physical", "物理"),
    "da": ("day-ahead", "日前"),
    "rt": ("real-time", "实时"),
    "optimum": ("optimum", "最优"),
    "perfect": ("perfect", "完全"),
    "foresight": ("foresight", "预见"),
    "full": ("full", "完整"),
    "bound": ("bound", "上界"),
    "revenue": ("revenue", "收益"),
    "value": ("value", "价值"),
    "over": ("over", "超出"),
    "passive": ("passive", "被动"),
    "gap": ("gap", "间隙"),
    "proven": ("proven", "已证明"),
    "mip": ("MIP", "MIP"),
    "energy": ("energy", "电量"),
    "shifting": ("shifting", "转移"),
    "spread": ("spread", "价差"),
    "split": ("split", "分解"),
    "daily": ("daily", "每日"),
    "mean": ("mean", "均值"),
    "std": ("std. dev.", "标准差"),
    "min": ("min", "最小"),
    "max": ("max", "最大"),
    "forecast": ("forecast", "预测"),
    "error": ("error", "误差"),
    "export": ("export", "送出"),
    "import": ("import", "购入"),
    "solves": ("solves", "求解次数"),
    "realtime": ("real-time", "实时"),
    "penalty": ("penalty", "考核"),
    "contract": ("contract", "合约"),
    "total": ("total", "合计"),
    "relative": ("relative", "相对"),
    "and": ("and", "与"),
    "profit": ("profit", "利润"),
    "stochastic": ("stochastic", "随机"),
    "solution": ("solution", "解"),
    "cvar90": ("CVaR 90 %", "CVaR 90%"),
    "status": ("status", "状态"),
    "seconds": ("seconds", "秒"),
    "time": ("time", "时间"),
    "bounds": ("bounds", "上界"),
    "run": ("run", "运行"),
}
"""Words of ``snake_case`` keys -> (English, Chinese), for keys without their own label."""

UNITS: dict[str, tuple[str, str]] = {
    "yuan": ("yuan", "元"),
    "mwh": ("MWh", "MWh"),
    "mw": ("MW", "MW"),
    "pct": ("%", "%"),
    "s": ("s", "秒"),
}
"""Unit suffixes of keys -> (English, Chinese)."""


def in_currency(words: str, money: str) -> str:
    """``words`` with yuan (元) replaced by ``money`` (the market's unit of money, ``'EUR'``)."""
    if money == "yuan":
        return words
    return words.replace("yuan", money).replace("元", money)


def text(key: str, lang: str, **fields: object) -> str:
    """The fixed text ``key`` in ``lang`` ("en" or "zh"), with ``{name}`` fields filled."""
    pair = TEXT[key]
    return pair[LANGUAGES.index(lang)].format(**fields)


def strategy_name(name: str, lang: str) -> str:
    """A strategy's readable name in ``lang``."""
    pair = STRATEGIES.get(name)
    return pair[LANGUAGES.index(lang)] if pair else name


def label(key: str, lang: str) -> str:
    """A readable label of the summary key ``key`` (dotted for nested keys) in ``lang``.

    Known keys have their own label; others are spelled out from their words, the unit in
    parentheses: ``capture_ratio_physical_da`` -> "Capture vs physical day-ahead".
    """
    i = LANGUAGES.index(lang)
    if key in KEYS:
        return KEYS[key][i]
    *parents, last = key.split(".")
    words = last.split("_")
    unit = ""
    if len(words) > 1 and words[-1] in UNITS:
        unit = UNITS[words.pop()][i]
    if words[:2] == ["capture", "ratio"] and len(words) > 2:  # capture_ratio_<bound>: against that bound
        words = ["capture", "vs", *words[2:]]
    elif words[:1] == ["capture"] and len(words) > 1 and words[1] != "vs":
        words = ["capture", "vs", *words[1:]]
    parts = [WORDS[w][i] if w in WORDS else (STRATEGIES[w][i] if w in STRATEGIES else w) for w in words]
    joiner = "" if lang == "zh" else " "
    body = joiner.join(p for p in parts if p)
    if lang == "en":
        body = body[:1].upper() + body[1:]
    prefix = "".join(f"{label(p, lang)}: " for p in parents[-1:])
    if unit:
        body += f"（{unit}）" if lang == "zh" else f" ({unit})"
    return prefix + body
