"""The HTML report of a backtest: assembles one self-contained page an analyst can send (works offline).

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

This module writes the page: its head, facts and language switch, the sections in order, the
script and style (``report_assets/``) and plotly.js inline. The pieces come from
:mod:`simulator.report_tables` (tables), :mod:`simulator.report_charts` (what the charts draw),
:mod:`simulator.report_members` (revenue by asset) and :mod:`simulator.report_html` (bilingual
texts, number formats).
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.report_charts import chart_labels, report_data
from simulator.report_html import MONEY, fixed, plain
from simulator.report_labels import LANGUAGES, strategy_name
from simulator.report_members import attribution_table
from simulator.report_tables import errors_table, full_table, headline_section, revenue_share_section
from vpp.io_utils import write_text_atomic
from vpp.portfolio_io import LoadedPortfolio

if TYPE_CHECKING:
    from simulator.backtest import BacktestResult


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
    """The page: head (style, plotly.js), facts and sections in order, then the charts' data and script."""
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
        headline_section(summary, lang),
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
        revenue_share_section(summary, lang),
        "<section><h2>" + fixed("forecast_errors", lang) + "</h2>",
        errors_table(summary, lang),
        "<div class='chart short' id='chart-errors'></div></section>",
        "<section><details id='all-figures'><summary>" + fixed("all_figures", lang) + "</summary>",
        full_table(summary, result.strategies, lang),
        "</details></section>",
        "</main>",
        f"<script>const REPORT = {json.dumps(data, separators=(',', ':'), allow_nan=False)};",
        f"const LABELS = {json.dumps(chart_labels(result.strategies), ensure_ascii=False)};</script>",
        f"<script>{_asset('report.js')}</script>",
        "</body></html>",
    ]
    return "\n".join(page)


def _header(summary: dict[str, Any], data: dict[str, Any], lang: str) -> str:
    """Title, the language switch (English / 中文) and the run's facts: portfolio, market, days,
    time zone (``data["zone"]``), forecast and units."""
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


# -- assets ------------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    """The text of ``report_assets/<name>`` (the page's script or style), from the installed package."""
    return resources.files("simulator").joinpath("report_assets", name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    """plotly.js (minified, from the plotly package), inline: the report needs no network."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")
