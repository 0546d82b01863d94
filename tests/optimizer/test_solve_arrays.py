"""The numpy result path (``ModelSolver.solve_arrays``) carries exactly what ``solve`` reports."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from market.prices import read_prices
from optimizer.result import as_arrays
from optimizer.solver import ModelSolver
from simulator.day_ahead import day_problem
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio


def test_solve_arrays_matches_solve():
    loaded = load_portfolio(DEFAULT_PORTFOLIO)
    day = dt.date(2024, 3, 4)
    index = trading_day_index(loaded.market, day)
    price = read_prices(DEFAULT_PRICES, loaded.market).loc[index, "da_price"].to_numpy()
    solver = ModelSolver(day_problem(loaded, day, price))
    result = solver.solve()
    arrays = solver.solve_arrays()  # the same model again: same solution (no warm start)
    again = arrays.to_result()
    pd.testing.assert_series_equal(result.net_mw, again.net_mw)
    pd.testing.assert_frame_equal(result.asset_net_mw, again.asset_net_mw)
    assert result.series.keys() == again.series.keys()
    for key, frame in result.series.items():
        pd.testing.assert_frame_equal(frame, again.series[key])
    assert result.terms_yuan == again.terms_yuan and result.objective_yuan == again.objective_yuan
    back = as_arrays(result)
    assert np.array_equal(back.asset_net_mw, arrays.asset_net_mw)
    soc = result.series["battery.soc_mwh"]
    assert back.value("battery.soc_mwh", soc.columns[1], 7) == soc.iloc[7, 1]
    assert arrays.value("battery.soc_mwh", "no-such-asset", 0) is None
