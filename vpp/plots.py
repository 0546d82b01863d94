"""Plots of schedules people look at: prices, the fleet's position and battery state of charge."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from market.calendar import period_ends, zone_label
from optimizer.result import ScheduleResult
from vpp.assets.registry import stored_energy_frame
from vpp.io_utils import refuse_special_file

SOC_LINES = 10
"""Most batteries drawn one by one (the largest); the total covers them all. A line and a legend
entry per battery of a 1,000-battery fleet took seconds to draw and could not be read."""


def plot_schedule(
    result: ScheduleResult,
    path: str | Path,
    title: str = "Day-ahead schedule",
    price_unit: str = "yuan/MWh",
) -> Path:
    """Write the schedule's PNG: price (``price_unit``, the market's), net position by asset type (MW)
    and battery state of charge (MWh).

    With more than one battery the state of charge takes two panels: the fleet's total, and the
    :data:`SOC_LINES` largest batteries on their own axis (beside a total a hundred times larger
    they were flat lines at the bottom). One battery, or none, takes one panel.

    The file is written to a temporary name and renamed, so a reader never sees a partial plot.
    """
    path = Path(path)
    refuse_special_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    soc = stored_energy_frame(result.series)
    panels = 4 if soc is not None and soc.shape[1] > 1 else 3
    fig, axes = plt.subplots(
        panels, 1, figsize=(11, 2.8 * panels + 0.1), sharex=True, constrained_layout=True
    )
    _price_panel(axes[0], result, title, price_unit)
    _net_panel(axes[1], result)
    _soc_panels(axes[2:], period_ends(result.index, result.dt_h), soc)
    # price and net position step from each period's start, stored energy is at its end: one axis
    # of time in the market zone, true for every panel (not "period start")
    axes[-1].set_xlabel(f"time ({zone_label(result.index)})")
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def _steps(ax: Axes, result: ScheduleResult, values: pd.Series, **style: object) -> None:
    """A value per period as steps, the last one drawn to the end of its period (not stopped at its start)."""
    x = result.index.append(period_ends(result.index, result.dt_h)[-1:])
    y = np.append(values.to_numpy(dtype=float), float(values.iloc[-1]))
    ax.step(x, y, where="post", **style)


def _price_panel(ax: Axes, result: ScheduleResult, title: str, price_unit: str) -> None:
    _steps(ax, result, result.price, color="tab:red")
    ax.set_ylabel(f"price ({price_unit})")
    ax.set_title(title)


def _net_panel(ax: Axes, result: ScheduleResult) -> None:
    """Net export stacked by asset type (MW), the fleet's net position on top."""
    index = result.index
    by_type = result.asset_net_mw.T.groupby(pd.Series(result.asset_family)).sum().T
    positive = by_type.clip(lower=0)
    negative = by_type.clip(upper=0)
    width = (index[1] - index[0]) if len(index) > 1 else pd.Timedelta(minutes=15)
    colors = plt.get_cmap("tab10")
    bottom_pos = pd.Series(0.0, index=index)
    bottom_neg = pd.Series(0.0, index=index)
    for i, column in enumerate(by_type.columns):
        color = colors(i % 10)
        bar = {"width": width, "align": "edge", "color": color}
        ax.bar(index, positive[column], bottom=bottom_pos, label=column, **bar)
        ax.bar(index, negative[column], bottom=bottom_neg, **bar)
        bottom_pos += positive[column]
        bottom_neg += negative[column]
    _steps(ax, result, result.net_mw, color="black", lw=1.5, label="fleet net")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("net export (MW)")
    _legend_beside(ax)


def _soc_panels(axes: list[Axes], ends: pd.DatetimeIndex, soc: pd.DataFrame | None) -> None:
    """One panel (no or one battery) or two: the fleet's total, then the largest batteries (MWh).

    Stored energy is that at each period's END, so it is drawn at ``ends``: beside the net
    position's bar of a period, the state of charge moves across that same period.
    """
    ax_batteries = axes[-1]
    ax_batteries.set_ylabel("state of charge\nat period end (MWh)")
    if soc is None or soc.empty:
        middle = {"ha": "center", "va": "center", "transform": ax_batteries.transAxes}
        ax_batteries.text(0.5, 0.5, "no batteries", **middle)
        return
    values = soc.to_numpy()
    if len(axes) == 2:
        total = f"total of {values.shape[1]:,}" if values.shape[1] > SOC_LINES else "total"
        axes[0].plot(ends, values.sum(axis=1), color="black", lw=1.5, label=total)
        axes[0].set_ylabel("fleet state of charge\nat period end (MWh)")
        _legend_beside(axes[0])
    shown = np.argsort(-values.max(axis=0), kind="stable")[:SOC_LINES]
    for k in sorted(shown):
        ax_batteries.plot(ends, values[:, k], lw=1, label=str(soc.columns[k]))
    _legend_beside(ax_batteries)


def _legend_beside(ax: Axes) -> None:
    """The legend right of the axes, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small")
