"""Plots of schedules people look at: prices, the fleet's position and battery state of charge."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

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
    """Write a three-panel PNG: price (``price_unit``, the market's), net position by asset type (MW),
    battery SoC (MWh: the fleet's total and the :data:`SOC_LINES` largest batteries).

    The file is written to a temporary name and renamed, so a reader never sees a partial plot.
    """
    path = Path(path)
    refuse_special_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    index = result.index
    fig, axes = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True, constrained_layout=True)
    ax_price, ax_net, ax_soc = axes
    ax_price.step(index, result.price.to_numpy(), where="post", color="tab:red")
    ax_price.set_ylabel(f"price ({price_unit})")
    ax_price.set_title(title)
    by_type = result.asset_net_mw.T.groupby(pd.Series(result.asset_family)).sum().T
    positive = by_type.clip(lower=0)
    negative = by_type.clip(upper=0)
    width = (index[1] - index[0]) if len(index) > 1 else pd.Timedelta(minutes=15)
    colors = plt.get_cmap("tab10")
    bottom_pos = pd.Series(0.0, index=index)
    bottom_neg = pd.Series(0.0, index=index)
    for i, column in enumerate(by_type.columns):
        color = colors(i % 10)
        ax_net.bar(
            index, positive[column], width=width, bottom=bottom_pos, align="edge", color=color, label=column
        )
        ax_net.bar(index, negative[column], width=width, bottom=bottom_neg, align="edge", color=color)
        bottom_pos += positive[column]
        bottom_neg += negative[column]
    ax_net.step(index, result.net_mw.to_numpy(), where="post", color="black", lw=1.5, label="fleet net")
    ax_net.axhline(0, color="grey", lw=0.5)
    ax_net.set_ylabel("net export (MW)")
    # legends beside the axes, never over the data
    ax_net.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small")
    soc = stored_energy_frame(result.series)
    if soc is not None and not soc.empty:
        values = soc.to_numpy()
        shown = np.argsort(-values.max(axis=0), kind="stable")[:SOC_LINES]
        for k in sorted(shown):
            ax_soc.plot(index, values[:, k], lw=1, label=str(soc.columns[k]))
        total = f"total of {values.shape[1]:,}" if values.shape[1] > SOC_LINES else "total"
        ax_soc.plot(index, values.sum(axis=1), color="black", lw=1.5, label=total)
        ax_soc.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small")
    else:
        ax_soc.text(0.5, 0.5, "no batteries", ha="center", va="center", transform=ax_soc.transAxes)
    ax_soc.set_ylabel("state of charge (MWh)")
    offsets = "/".join(f"UTC{o[:3]}:{o[3:]}" for o in dict.fromkeys(index.strftime("%z")))
    ax_soc.set_xlabel(f"period start ({index.tz}, {offsets})")
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
