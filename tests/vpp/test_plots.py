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


def test_a_large_fleet_draws_its_total_and_the_largest_batteries_only(tmp_path: Path, monkeypatch) -> None:
    # 1,000 batteries: one line and one legend entry each took seconds and could not be read.
    import numpy as np
    import pandas as pd

    from optimizer.result import ScheduleResult, SolveStats

    index = pd.date_range("2024-01-02", periods=96, freq="15min", tz="Asia/Shanghai", name="timestamp")
    ids = [f"b{i}" for i in range(40)]
    soc = pd.DataFrame(np.outer(np.ones(96), np.arange(1.0, 41.0)), index=index, columns=ids)
    net = pd.DataFrame(0.0, index=index, columns=ids)
    stats = SolveStats("optimal", "Optimal", None, 0.0, 0.0, 0.0, "compiled", 1, 1, 0)
    total = pd.Series(0.0, index=index, name="net_mw")
    total.attrs["dt_h"] = np.full(96, 0.25)
    result = ScheduleResult(
        net_mw=total, asset_net_mw=net, series={"battery.soc_mwh": soc},
        price=pd.Series(300.0, index=index), objective_yuan=0.0, terms_yuan={"revenue": 0.0}, stats=stats,
        asset_family=dict.fromkeys(ids, "battery"),
    )
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)
    plots.plot_schedule(result, tmp_path / "bid.png")
    ax_soc = figures[0].axes[2]
    labels = [line.get_label() for line in ax_soc.get_lines()]
    assert labels == [f"b{i}" for i in range(30, 40)] + ["total of 40"]
    np.testing.assert_allclose(ax_soc.get_lines()[-1].get_ydata(), np.full(96, 820.0))
    plt.close(figures[0])
