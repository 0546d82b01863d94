"""The HTML report of a backtest: one self-contained page an analyst can send (works offline).

Contents, in English or Chinese (``lang``; a switch on the page changes it):

- a headline table: revenue, value over passive, capture against each bound the summary holds,
  yuan/MWh, with the references (passive position, bounds) below and the definitions beside it;
- interactive plotly charts (plotly.js embedded in the page), time axes titled with the market's
  zone: cumulative revenue with the passive position, daily revenue, prices and schedule and the
  batteries' state of charge per strategy and trading day (selectable), revenue by asset (the
  figures of members.csv: :mod:`simulator.report_members`);
- forecast errors, and every figure of every strategy in a collapsed table.

Legends sit below the plots, never over the data. Money in the market's unit (yuan, EUR: the
``money_unit`` of its market), energy in MWh, power in MW.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.metrics import daily_revenue
from simulator.passive import passive_settlement
from simulator.report_html import MONEY, fixed, format_value, key_label, plain, strategy_label
from simulator.report_labels import LANGUAGES, STRATEGIES, TEXT, in_currency, strategy_name, text
from simulator.report_members import attribution_table, members_by_asset
from vpp.assets.registry import STORED_ENERGY_KEYS
from vpp.io_utils import write_text_atomic
from vpp.portfolio_io import LoadedPortfolio

if TYPE_CHECKING:
    from simulator.backtest import BacktestResult

BOUND_SUFFIX = "_revenue_yuan"
"""Top-level summary keys ending so are revenues of a reference (a bound or the passive position)."""

NOT_REFERENCES = frozenset(
    {"total_revenue_yuan", "da_revenue_yuan", "rt_revenue_yuan", "contract_revenue_yuan"}
)
"""Top-level ``*_revenue_yuan`` keys that are the headline strategy's totals, not references."""


def write_report(result: BacktestResult, path: Path, loaded: LoadedPortfolio, lang: str = "en") -> Path:
    """Write the report of ``result`` to ``path`` (atomically) and return the path.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        Output file (``report.html``).
    loaded : LoadedPortfolio
        The portfolio the backtest ran.
    lang : {"en", "zh"}
        Language the page opens in.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return write_text_atomic(render_report(result, loaded, lang), path)


def render_report(result: BacktestResult, loaded: LoadedPortfolio, lang: str = "en") -> str:
    """The report page of ``result`` as HTML text (money in the market's unit)."""
    token = MONEY.set(loaded.market.money_unit)
    try:
        return _page(result, loaded, lang)
    finally:
        MONEY.reset(token)


def _page(result: BacktestResult, loaded: LoadedPortfolio, lang: str) -> str:
    data = report_data(result, loaded)
    summary = result.summary
    page = [
        "<!doctype html>",
        f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}' data-lang='{lang}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{plain('title', lang)}: {html.escape(str(summary['portfolio']))}</title>",
        f"<style>{_asset('report.css')}</style>",
        f"<script>{_plotly_js()}</script>",
        "</head><body><main>",
        _header(summary, data, lang),
        _headline(summary, lang),
        "<section><h2>" + fixed("charts", lang) + "</h2>",
        "<div class='chart' id='chart-cumulative'></div>",
        "<div class='chart short' id='chart-daily'></div></section>",
        "<section><h2>" + fixed("schedule_title", lang) + "</h2>",
        "<div class='pickers'>",
        f"<label>{fixed('pick_strategy', lang)} <select id='pick-strategy'>"
        + "".join(
            f"<option value='{html.escape(n)}'>{html.escape(strategy_name(n, lang))}</option>"
            for n in result.strategies
        )
        + "</select></label>",
        f"<label>{fixed('pick_day', lang)} <select id='pick-day'>"
        + "".join(f"<option value='{d}'>{d}</option>" for d in data["days"])
        + "</select></label></div>",
        "<div class='chart tall' id='chart-schedule'></div><div class='chart short' id='chart-soc'></div>",
        "</section>",
        "<section><h2>" + fixed("attribution", lang) + "</h2>",
        f"<p class='note'>{fixed('attribution_note', lang)}</p>",
        "<div class='chart' id='chart-attribution'></div>",
        attribution_table(data["attribution"], result.strategies, lang),
        "</section>",
        _revenue_share_section(summary, lang),
        "<section><h2>" + fixed("forecast_errors", lang) + "</h2>",
        _errors_table(summary, lang),
        "<div class='chart short' id='chart-errors'></div></section>",
        "<section><details id='all-figures'><summary>" + fixed("all_figures", lang) + "</summary>",
        _full_table(summary, result.strategies, lang),
        "</details></section>",
        "</main>",
        f"<script>const REPORT = {json.dumps(data, separators=(',', ':'), allow_nan=False)};",
        f"const LABELS = {json.dumps(_chart_labels(result.strategies), ensure_ascii=False)};</script>",
        f"<script>{_asset('report.js')}</script>",
        "</body></html>",
    ]
    return "\n".join(page)


# -- data for the charts ----------------------------------------------------------------------------


def report_data(result: BacktestResult, loaded: LoadedPortfolio) -> dict[str, Any]:
    """The series the charts draw (JSON-ready): times in the market zone, money in the market's unit,
    MW, MWh.

    Keys: ``zone`` (axis label), ``days``, ``time`` (period starts ``YYYY-MM-DD HH:MM``, local),
    ``time_end`` (period ends, likewise; the cumulative revenue is drawn there, a period's money
    being earned by its end), ``clock`` (``HH:MM`` per period, unique within a day:
    :func:`clock_labels`), ``clock_end`` (its end, ``24:00`` for a day's last: :func:`end_labels`;
    the state of charge is drawn there),
    ``day_slices`` (day -> [first, end) index into ``time``), ``cumulative`` and ``passive_cumulative``
    (yuan), ``daily`` (strategy -> yuan per day, with ``passive``), ``schedule`` (strategy -> bid,
    actual, forecast MW/yuan), ``prices`` (DA, RT), ``soc`` (strategy -> battery -> MWh),
    ``attribution`` (strategy -> asset -> what it earns and its two parts, as ``members.csv``:
    :func:`simulator.report_members.members_by_asset`) and ``forecast_error``.
    """
    tz = loaded.market.timezone
    names = result.strategies
    first = result.run.records[names[0]].fleet_frame()
    local = first.index.tz_convert(tz)
    ends = period_ends(first).tz_convert(tz)
    days = sorted({str(d) for d in local.date})
    day_of = np.array([str(d) for d in local.date])
    slices = {d: [int(np.argmax(day_of == d)), int(len(day_of) - np.argmax(day_of[::-1] == d))] for d in days}
    prices = pd.DataFrame({"da_price": first["p_da"], "rt_price": first["p_rt"]}, index=first.index)
    passive = passive_settlement(loaded, prices, [pd.Timestamp(d).date() for d in days])
    data: dict[str, Any] = {
        "zone": zone_label(local),
        "days": days,
        "time": list(local.strftime("%Y-%m-%d %H:%M")),
        "time_end": list(ends.strftime("%Y-%m-%d %H:%M")),
        "clock": clock_labels(local),
        "clock_end": end_labels(local, ends),
        "day_slices": slices,
        "strategies": names,
        "cumulative": {n: _round(result.settlements[n]["revenue"].cumsum(), 2) for n in names},
        "passive_cumulative": _round(passive["revenue"].cumsum(), 2),
        "daily": {n: _round(daily_revenue(result.settlements[n], tz), 2) for n in names},
        "prices": {"da": _round(first["p_da"], 2), "rt": _round(first["p_rt"], 2)},
        "schedule": {},
        "soc": {},
        "attribution": {},
        "forecast_error": _round(first["forecast_da"] - first["p_da"], 2),
    }
    data["daily"]["passive"] = _round(daily_revenue(passive, tz), 2)
    for name in names:
        fleet = result.run.records[name].fleet_frame()
        assets = result.run.records[name].asset_frame()
        data["schedule"][name] = {
            "bid": _round(fleet["bid_mw"], 4),
            "actual": _round(fleet["actual_mw"], 4),
            "forecast": _round(fleet["forecast_da"], 2),
        }
        data["soc"][name] = _soc(assets, fleet.index)
        data["attribution"][name] = members_by_asset(result.settlements[name], fleet, assets)
    return data


def clock_labels(local: pd.DatetimeIndex) -> list[str]:
    """Wall-clock ``HH:MM`` of each period start, with its UTC offset on a day whose offset changes.

    On the day clocks go back the hour repeats (02:00 +02:00, then 02:00 +01:00): the offset keeps
    the labels of a day unique, so a day's chart runs forward.
    """
    dates = np.array([str(d) for d in local.date])
    offsets = np.array([f"{o[:3]}:{o[3:]}" for o in local.strftime("%z")])
    changing = {d for d in np.unique(dates) if len(set(offsets[dates == d])) > 1}
    clock = local.strftime("%H:%M")
    return [f"{c} {o}" if d in changing else c for c, o, d in zip(clock, offsets, dates, strict=True)]


def end_labels(starts: pd.DatetimeIndex, ends: pd.DatetimeIndex) -> list[str]:
    """Wall-clock ``HH:MM`` of each period's end (``24:00`` for a day's last), in the market zone.

    Stored energy is recorded at each period's end, so the state-of-charge chart is drawn at these.
    As in :func:`clock_labels`, a day whose UTC offset changes gets the offset on each label.
    """
    dates = np.array([str(d) for d in starts.date])
    offsets = np.array([f"{o[:3]}:{o[3:]}" for o in ends.strftime("%z")])
    start_offsets = np.array(list(starts.strftime("%z")))
    changing = {d for d in np.unique(dates) if len(set(start_offsets[dates == d])) > 1}
    next_day = np.array([str(d) for d in ends.date]) != dates
    clock = np.where(next_day, "24:00", np.array(list(ends.strftime("%H:%M"))))
    return [f"{c} {o}" if d in changing else str(c) for c, o, d in zip(clock, offsets, dates, strict=True)]


def period_ends(fleet: pd.DataFrame) -> pd.DatetimeIndex:
    """When each period of a fleet record ends: its start plus ``dt_h`` (h)."""
    return fleet.index + pd.to_timedelta(fleet["dt_h"].to_numpy(dtype=float), unit="h")


def zone_label(local: pd.DatetimeIndex) -> str:
    """``Asia/Shanghai, UTC+08:00`` (every offset the times have, ``/``-joined across DST)."""
    offsets = dict.fromkeys(t.strftime("%z") for t in local)
    text_offsets = "/".join(f"UTC{o[:3]}:{o[3:]}" for o in offsets)
    return f"{local.tz}, {text_offsets}"


def _soc(assets: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, list[float | None]]:
    """Stored energy per asset (MWh): each family's ``stored_energy`` column (battery ``soc_mwh``)."""
    columns = [key.name for key in STORED_ENERGY_KEYS if key.name in assets.columns]
    if assets.empty or not columns:
        return {}
    rows = assets.assign(stored_mwh_=assets[columns].bfill(axis=1).iloc[:, 0]).dropna(subset=["stored_mwh_"])
    if rows.empty:
        return {}
    table = rows.pivot(index="timestamp", columns="asset_id", values="stored_mwh_").reindex(index)
    return {str(c): _round(table[c], 4) for c in table.columns}


def _round(series: pd.Series, digits: int) -> list[float | None]:
    values = pd.to_numeric(pd.Series(series), errors="coerce").to_numpy(dtype=float)
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]


def _chart_labels(strategies: list[str]) -> dict[str, dict[str, str]]:
    keys = [k for k in TEXT if k.startswith(("axis_", "trace_"))] + [
        "cumulative",
        "daily",
        "prices_schedule",
        "soc",
        "attribution",
        "forecast_error_chart",
        "passive",
        "no_batteries",
    ]
    out = {}
    for lang in LANGUAGES:
        labels = {k: in_currency(text(k, lang, tz="{tz}"), MONEY.get()) for k in keys}
        labels.update({f"strategy:{n}": strategy_name(n, lang) for n in [*strategies, *STRATEGIES]})
        out[lang] = labels
    return out


# -- tables ------------------------------------------------------------------------------------------


def _reference(key: str, lang: str) -> str:
    """A reference row's name: the bound or position itself (its column names the unit)."""
    stem = key.removesuffix(BOUND_SUFFIX)
    return strategy_label(stem, lang) if stem in STRATEGIES else key_label(key, lang)


def capture_keys(blocks: dict[str, dict[str, Any]]) -> list[str]:
    """Keys of the strategy blocks that are captures against a bound (``capture_ratio``, ``capture_*``)."""
    keys: dict[str, None] = {}
    for block in blocks.values():
        for key, value in _flat(block).items():
            if "capture" in key.rsplit(".", 1)[-1] and (value is None or isinstance(value, int | float)):
                keys[key] = None
    return list(keys)


def references(summary: dict[str, Any]) -> dict[str, float]:
    """Revenues of the references: the passive position and every bound (``*_revenue_yuan``).

    Read from the top level of the summary and from its ``bounds`` block, when it has one (the
    bounds block wins for a key in both).
    """
    out: dict[str, float] = {}
    for source in (summary, summary.get("bounds") or {}):
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if key.endswith(BOUND_SUFFIX) and key not in NOT_REFERENCES and _number(value):
                out[key] = float(value)
    return out


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _flat(block: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        elif not isinstance(value, list):
            out[name] = value
    return out


def _header(summary: dict[str, Any], data: dict[str, Any], lang: str) -> str:
    facts = [
        ("portfolio", html.escape(str(summary["portfolio"]))),
        ("market", html.escape(str(summary["market"]))),
        (
            "period",
            f"{summary['first_day']} – {summary['last_day']} ("
            + fixed("days_periods", lang, days=summary["days"], periods=summary["periods"])
            + ")",
        ),
        ("time_zone", html.escape(data["zone"])),
        ("forecast", f"<code>{html.escape(str(summary['forecast']))}</code>"),
        ("units", fixed("units_text", lang)),
    ]
    items = "".join(f"<div><dt>{fixed(k, lang)}</dt><dd>{v}</dd></div>" for k, v in facts)
    switch = "".join(
        f"<button type='button' data-set-lang='{code}' aria-pressed='{str(code == lang).lower()}'>"
        f"{name}</button>"
        for code, name in (("en", "English"), ("zh", "中文"))
    )
    return (
        f"<header><h1>{fixed('title', lang)}: {html.escape(str(summary['portfolio']))}</h1>"
        f"<div class='lang' role='group' aria-label='language'>{switch}</div></header>"
        f"<dl class='facts'>{items}</dl>"
    )


def _headline(summary: dict[str, Any], lang: str) -> str:
    blocks = summary["strategies"]
    captures = capture_keys(blocks)
    columns = ["total_revenue_yuan", "value_over_passive_yuan", *captures, "yuan_per_mwh"]
    head = "".join(f"<th>{key_label(c, lang)}</th>" for c in columns)
    rows = []
    for name, block in blocks.items():
        flat = _flat(block)
        cells = "".join(f"<td>{format_value(c, flat.get(c))}</td>" for c in columns)
        rows.append(f"<tr><th scope='row'>{strategy_label(name, lang)}</th>{cells}</tr>")
    refs = references(summary)
    passive = refs.get("passive_revenue_yuan")
    gap_sources = {**summary, **(summary.get("bounds") if isinstance(summary.get("bounds"), dict) else {})}
    reference_rows = []
    for key, value in refs.items():
        over = "-" if passive is None else format_value("value_over_passive_yuan", value - passive)
        stem = key.removesuffix(BOUND_SUFFIX)
        gaps = [  # a bound's proven optimality gap, where the summary has one (stem_..._gap...)
            f"{key_label(g, lang)} {format_value(g, v)}"
            for g, v in gap_sources.items()
            if g.startswith(stem) and "gap" in g and _number(v)
        ]
        note = f" <small>({'; '.join(gaps)})</small>" if gaps else ""
        blank = "".join("<td></td>" for _ in columns[2:])
        reference_rows.append(
            f"<tr class='reference'><th scope='row'>{_reference(key, lang)}{note}</th>"
            f"<td>{format_value(key, value)}</td><td>{over}</td>{blank}</tr>"
        )
    defined = [
        k for k in ("def_value", "def_capture", "def_yuan_mwh", "def_passive", "def_perfect_foresight")
    ]
    defined += [f"def_{stem}" for stem in ("da_optimum", "rt_optimum") if f"{stem}{BOUND_SUFFIX}" in refs]
    defined += [
        f"def_{k}" for k in ("energy_shifting_yuan", "spread_yuan") if any(k in b for b in blocks.values())
    ]
    notes = "".join(f"<li>{fixed(k, lang)}</li>" for k in defined)
    passive_notes = "".join(
        f"<li><b>{fixed('passive_note', lang)}:</b> {html.escape(n)}</li>"
        for n in summary.get("passive_notes", [])
    )
    return (
        f"<section><h2>{fixed('headline', lang)}</h2><div class='headline'><div class='table-box'>"
        f"<table id='headline'><thead><tr><th>{fixed('strategy', lang)}</th>{head}</tr>"
        f"</thead><tbody>{''.join(rows)}</tbody><tbody class='references'>{''.join(reference_rows)}</tbody>"
        f"</table><p class='note'>{fixed('headline_note', lang)}</p></div>"
        f"<div class='definitions'><h3>{fixed('definitions', lang)}</h3><ul>{notes}{passive_notes}</ul></div>"
        "</div></section>"
    )


REVENUE_SHARE_ROWS = (
    "consumption_mwh",
    "user_payments",
    "wholesale_revenue",
    "operating_fees",
    "dividend",
    "user_dividend",
    "operator_dividend",
    "user_net_payment",
)
"""The rows of the operator/users table (:class:`market.revenue_share.RevenueSplit` fields)."""


def _revenue_share_section(summary: dict[str, Any], lang: str) -> str:
    """The operator/users split of the headline strategy; empty without a ``revenue_share``."""
    split = summary.get("revenue_share")
    if not split:
        return ""
    rows = "".join(
        f"<tr><th scope='row'>{fixed('rs_' + key, lang)}</th>"
        f"<td>{format_value(key if key.endswith('_mwh') else key + '_yuan', split[key])}</td></tr>"
        for key in REVENUE_SHARE_ROWS
    )
    return (
        f"<section><h2>{fixed('revenue_share', lang)}</h2>"
        f"<p class='note'>{fixed('revenue_share_note', lang)}</p>"
        f"<div class='table-box'><table id='revenue-share'><tbody>{rows}</tbody></table></div></section>"
    )


def _errors_table(summary: dict[str, Any], lang: str) -> str:
    errors = summary.get("forecast_errors", {})
    if not errors:
        return ""
    metrics = list(dict.fromkeys(m for e in errors.values() for m in e))
    head = "".join(f"<th>{fixed(m, lang) if m in TEXT else key_label(m, lang)}</th>" for m in metrics)
    rows = []
    for name, values in errors.items():
        used = f" <small>({fixed('in_use', lang)})</small>" if name == summary.get("forecast") else ""
        cells = "".join(f"<td>{format_value(m, values.get(m))}</td>" for m in metrics)
        rows.append(f"<tr><th scope='row'><code>{html.escape(name)}</code>{used}</th>{cells}</tr>")
    return (
        "<div class='table-box'><table id='forecast-errors'><thead><tr>"
        f"<th>{fixed('forecaster', lang)}</th>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _full_table(summary: dict[str, Any], strategies: list[str], lang: str) -> str:
    blocks = {n: _flat(summary["strategies"][n]) for n in strategies}
    keys = list(dict.fromkeys(k for b in blocks.values() for k in b))
    head = "".join(f"<th>{strategy_label(n, lang)}</th>" for n in strategies)
    rows = "".join(
        f"<tr><th scope='row'>{key_label(k, lang)}</th>"
        + "".join(f"<td>{format_value(k, blocks[n].get(k))}</td>" for n in strategies)
        + "</tr>"
        for k in keys
    )
    run = {
        k: v
        for k, v in _flat(
            {k: v for k, v in summary.items() if k not in ("strategies", "forecast_errors", "revenue_share")}
        ).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    run_rows = "".join(
        f"<tr><th scope='row'>{key_label(k, lang)}</th><td>{format_value(k, v)}</td></tr>"
        for k, v in run.items()
        if k not in blocks.get(strategies[0], {})
    )
    return (
        f"<div class='table-box'><table id='full-table'><thead><tr><th></th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
        f"<h3>{fixed('run_figures', lang)}</h3><div class='table-box'><table id='run-table'><tbody>{run_rows}"
        "</tbody></table></div>"
    )


# -- assets ------------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("simulator").joinpath("report_assets", name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    """plotly.js (minified, from the plotly package), inline: the report needs no network."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")
