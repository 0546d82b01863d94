"""The schedule plot of `vpp bid`: the time axis names the zone and offset, legends stay off the data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.pyplot as plt

from market.prices import read_prices
from simulator.day_ahead import plan_day_ahead
from vpp import plots
from vpp.portfolio_io import load_portfolio

ROOT = Path(__file__).resolve().parents[2]


def test_schedule_plot_axis_and_legends(tmp_path: Path, monkeypatch) -> None:
    loaded = load_portfolio(ROOT / "vpp" / "examples" / "minimal.yaml")
    prices = read_prices(ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv", loaded.market)
    plan = plan_day_ahead(loaded, prices, dt.date(2024, 1, 2))
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)  # keep the figure to inspect it
    path = plots.plot_schedule(plan.result, tmp_path / "bid.png")
    assert path.stat().st_size > 10_000
    figure = figures[0]
    figure.canvas.draw()
    _, ax_net, ax_soc = figure.axes
    assert ax_soc.get_xlabel() == "period start (Asia/Shanghai, UTC+08:00)"
    ticks = [t.get_text() for t in ax_soc.get_xticklabels()]
    assert ticks[0] == "01-02 00" and ticks[-1] == "01-03 00"  # local times, not UTC (01-01 16)
    for ax in (ax_net, ax_soc):  # each legend lies right of its axes: no line or bar under it
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 >= ax.get_window_extent().x1, ax.get_ylabel()
    plt.close(figure)
