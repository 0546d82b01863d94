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
    _, ax_net, ax_soc = figure.axes  # one battery: its state of charge is the fleet's, one panel
    assert [line.get_label() for line in ax_soc.get_lines()] == ["bess-1"]
    # a time axis, not "period start": price and net position are drawn from period starts, the
    # state of charge at period ends, on the one shared axis
    assert ax_soc.get_xlabel() == "time (Asia/Shanghai, UTC+08:00)"
    ticks = [t.get_text() for t in ax_soc.get_xticklabels()]
    assert ticks[0] == "01-02 00" and ticks[-1] == "01-03 00"  # local times, not UTC (01-01 16)
    for ax in (ax_net, ax_soc):  # each legend lies right of its axes: no line or bar under it
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 >= ax.get_window_extent().x1, ax.get_ylabel()
    plt.close(figure)


def _fleet_of_batteries(sizes_mwh: list[float]):
    """A schedule of batteries holding ``sizes_mwh`` (MWh) all day (one column per battery)."""
    import numpy as np
    import pandas as pd

    from optimizer.result import ScheduleResult, SolveStats

    index = pd.date_range("2024-01-02", periods=96, freq="15min", tz="Asia/Shanghai", name="timestamp")
    ids = [f"b{i}" for i in range(len(sizes_mwh))]
    ramp = np.linspace(0.2, 1.0, 96)  # every battery charges over the day
    soc = pd.DataFrame(np.outer(ramp, sizes_mwh), index=index, columns=ids)
    net = pd.DataFrame(0.0, index=index, columns=ids)
    stats = SolveStats("optimal", "Optimal", None, 0.0, 0.0, 0.0, "compiled", 1, 1, 0)
    total = pd.Series(0.0, index=index, name="net_mw")
    total.attrs["dt_h"] = np.full(96, 0.25)
    return ScheduleResult(
        net_mw=total, asset_net_mw=net, series={"battery.soc_mwh": soc},
        price=pd.Series(300.0, index=index), objective_yuan=0.0, terms_yuan={"revenue": 0.0}, stats=stats,
        asset_family=dict.fromkeys(ids, "battery"),
    )


def _figure(result, tmp_path: Path, monkeypatch):
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)  # keep the figure to inspect it
    plots.plot_schedule(result, tmp_path / "bid.png")
    return figures[0]


def test_a_large_fleet_draws_its_total_and_the_largest_batteries_only(tmp_path: Path, monkeypatch) -> None:
    # 1,000 batteries: one line and one legend entry each took seconds and could not be read.
    import numpy as np

    figure = _figure(_fleet_of_batteries([float(i) for i in range(1, 41)]), tmp_path, monkeypatch)
    ax_total, ax_batteries = figure.axes[2:]
    assert [line.get_label() for line in ax_total.get_lines()] == ["total of 40"]
    np.testing.assert_allclose(ax_total.get_lines()[0].get_ydata()[-1], 820.0)
    labels = [line.get_label() for line in ax_batteries.get_lines()]
    assert labels == [f"b{i}" for i in range(30, 40)]
    plt.close(figure)


def test_batteries_have_their_own_panel_so_each_is_readable(tmp_path: Path, monkeypatch) -> None:
    """The fleet total (1,000 MWh) and the 10 largest batteries (up to 10 MWh) on one axis drew the
    batteries as flat lines at the bottom: they get their own panel, scaled to them."""
    figure = _figure(_fleet_of_batteries([10.0] * 50 + [9.0] * 50), tmp_path, monkeypatch)
    figure.canvas.draw()
    assert len(figure.axes) == 4  # price, net position, fleet total, the largest batteries
    ax_total, ax_batteries = figure.axes[2:]
    assert ax_total.get_ylabel() == "fleet state of charge\nat period end (MWh)"
    assert ax_batteries.get_ylabel() == "state of charge\nat period end (MWh)"
    assert ax_total.get_ylim()[1] >= 950.0  # the total, 955 MWh at the end, fits its panel
    low, high = ax_batteries.get_ylim()
    assert high <= 11.0  # scaled to the batteries, not to the total
    for line in ax_batteries.get_lines():  # each battery spans most of its panel's height
        y = line.get_ydata()
        assert (y.max() - y.min()) / (high - low) > 0.6, line.get_label()
    assert ax_batteries.get_xlabel() == "time (Asia/Shanghai, UTC+08:00)"
    for ax in (ax_total, ax_batteries):  # legends beside the axes, never over the data
        assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    plt.close(figure)


def test_state_of_charge_is_drawn_at_period_ends_and_steps_cover_the_last_period(
    tmp_path: Path, monkeypatch
) -> None:
    """soc_mwh is the energy stored at the END of its period: drawn at the period's start it rose one
    period before the charging bar under it (an hour early on an hourly market). The price and
    fleet-net steps stopped at the last period's start, leaving its bar without a line."""
    import pandas as pd

    result = _fleet_of_batteries([10.0, 5.0])
    end_of_day = result.index[-1] + pd.Timedelta(minutes=15)
    figure = _figure(result, tmp_path, monkeypatch)
    ax_price, ax_net, ax_total, ax_batteries = figure.axes
    for ax in (ax_total, ax_batteries):
        for line in ax.get_lines():
            x = pd.DatetimeIndex(line.get_xdata())
            first = result.index[0] + pd.Timedelta(minutes=15)
            assert x[0] == first and x[-1] == end_of_day, line.get_label()
        assert ax.get_ylabel().endswith("at period end (MWh)")
    fleet_net = [line for line in ax_net.get_lines() if line.get_label() == "fleet net"]
    assert len(fleet_net) == 1
    for line in (ax_price.get_lines()[0], *fleet_net):
        assert pd.DatetimeIndex(line.get_xdata())[-1] == end_of_day, line.get_label()
    plt.close(figure)
