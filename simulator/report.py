"""The HTML report of a backtest: one self-contained page, PNG plots embedded as base64, no JS.

Plots (matplotlib, Agg): cumulative revenue of each strategy, daily revenue, one day's prices
against the first strategy's bid and dispatch, battery state of charge, DA forecast error.
Tables: the summary per strategy and the forecast errors.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from simulator.metrics import daily_revenue
from vpp.io_utils import write_text_atomic
from vpp.portfolio_io import LoadedPortfolio

if TYPE_CHECKING:
    from simulator.backtest import BacktestResult


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(result: BacktestResult, tz: str, money: str, price_unit: str) -> list[tuple[str, str]]:
    plots = []
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name, settlement in result.settlements.items():
        cumulative = settlement["revenue"].cumsum()
        ax.plot(cumulative.index.tz_convert(tz), cumulative.to_numpy(), label=name)
    ax.set_ylabel(money)
    ax.legend()
    ax.set_title("Cumulative revenue")
    plots.append(("Cumulative revenue of each strategy", _png(fig)))

    daily = pd.DataFrame({name: daily_revenue(s, tz) for name, s in result.settlements.items()})
    fig, ax = plt.subplots(figsize=(9, 3.5))
    daily.plot.bar(ax=ax, width=0.8)
    ax.set_ylabel(money)
    ax.set_title("Daily revenue")
    plots.append(("Daily revenue", _png(fig)))

    first = result.strategies[0]
    fleet = result.run.records[first].fleet_frame()
    day = result.run.days[len(result.run.days) // 2]
    one = fleet[fleet.index.tz_convert(tz).date == day]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    times = one.index.tz_convert(tz)
    ax.plot(times, one["p_da"], label="DA price")
    ax.plot(times, one["p_rt"], label="RT price")
    ax.plot(times, one["forecast_da"], "--", label="DA forecast")
    ax.set_ylabel(price_unit)
    ax2 = ax.twinx()
    ax2.step(times, one["bid_mw"], where="post", color="black", label="bid q_da")
    ax2.step(times, one["actual_mw"], where="post", color="grey", alpha=0.7, label="actual")
    ax2.set_ylabel("MW (export +)")
    ax.legend(loc="upper left")
    ax2.legend(loc="upper right")
    ax.set_title(f"{first} on {day}: prices and schedule")
    plots.append((f"Prices against the schedule ({first}, {day})", _png(fig)))

    assets = result.run.records[first].asset_frame()
    if "soc_mwh" in assets.columns:
        soc = assets.dropna(subset=["soc_mwh"]).pivot(index="timestamp", columns="asset_id", values="soc_mwh")
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.plot(pd.DatetimeIndex(soc.index).tz_convert(tz), soc.to_numpy())
        ax.legend(list(soc.columns), fontsize="small")
        ax.set_ylabel("MWh")
        ax.set_title(f"Battery state of charge ({first})")
        plots.append(("State of charge", _png(fig)))

    error = fleet["forecast_da"] - fleet["p_da"]
    fig, ax = plt.subplots(figsize=(9, 3.0))
    ax.plot(error.index.tz_convert(tz), error.to_numpy(), lw=0.8)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel(price_unit)
    ax.set_title(f"DA forecast error ({result.run.forecast}): forecast - realised")
    plots.append(("Forecast error", _png(fig)))
    return plots


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(border=0, float_format=lambda v: f"{v:,.2f}", na_rep="-")


def write_report(result: BacktestResult, path: Path, loaded: LoadedPortfolio) -> Path:
    """Write ``report.html`` for ``result`` and return its path."""
    tz = loaded.market.timezone
    money, price_unit = loaded.market.money_unit, loaded.market.price_unit
    summary = result.summary
    blocks = pd.DataFrame(summary["strategies"]).T
    errors = pd.DataFrame(summary["forecast_errors"]).T
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>VPP backtest</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}</style></head><body>",
        f"<h1>Backtest: {html.escape(summary['portfolio'])}</h1>",
        f"<p>Market {html.escape(summary['market'])}, {summary['first_day']} to {summary['last_day']} "
        f"({summary['days']} days, {summary['periods']} periods), DA forecast "
        f"<code>{html.escape(summary['forecast'])}</code>. Perfect-foresight bound "
        f"{summary['perfect_foresight_revenue_yuan']:,.2f} {money}; passive position (no flexibility used: "
        f"the envelope baseline bid and delivered) {summary['passive_revenue_yuan']:,.2f} {money}. "
        "Capture ratio = (revenue - passive) / (perfect foresight - passive); value over passive = "
        f"revenue - passive. Money in {money} (columns named _yuan hold {money}), energy in MWh.</p>",
        *[f"<p><b>Passive baseline:</b> {html.escape(n)}</p>" for n in summary.get("passive_notes", [])],
        "<h2>Strategies</h2>",
        _table(blocks),
        f"<h2>DA forecast errors ({price_unit})</h2>",
        _table(errors),
    ]
    for title, png in _plots(result, tz, money, price_unit):
        label = html.escape(title)
        parts.append(f"<h2>{label}</h2><img alt='{label}' src='data:image/png;base64,{png}'>")
    parts.append("</body></html>")
    return write_text_atomic("\n".join(parts), path)
