"""A problem's period lengths come from the one calendar function (issue 16 item 4).

``optimizer.problem.periods_hours`` and ``market.calendar.period_hours`` computed the same with
different edge cases; the calendar's rules now hold everywhere. Edges: a daylight-saving day, an
index without frequency, one period, irregular starts, no periods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import period_hours, trading_day_index
from optimizer.problem import prepare_problem
from vpp.errors import InputError
from vpp.portfolio_io import load_portfolio

MINIMAL = Path(__file__).resolve().parents[2] / "vpp" / "examples" / "minimal.yaml"
PORTFOLIO = load_portfolio(MINIMAL).portfolio


def _dt_h(index: pd.DatetimeIndex) -> np.ndarray:
    return prepare_problem(PORTFOLIO, index, np.full(len(index), 300.0)).dt_h


def test_a_trading_day_and_a_dst_day_as_the_calendar_says() -> None:
    shanxi = trading_day_index("shanxi", "2024-01-02")
    np.testing.assert_array_equal(_dt_h(shanxi), np.full(96, 0.25))
    spring = trading_day_index("generic", "2023-03-26")  # Europe/Berlin: 23 hours
    np.testing.assert_array_equal(_dt_h(spring), period_hours(spring))
    assert _dt_h(spring).sum() == 23.0


def test_without_frequency_the_last_period_repeats_a_regular_spacing() -> None:
    bare = pd.DatetimeIndex(trading_day_index("shanxi", "2024-01-02")[:4], freq=None)
    np.testing.assert_array_equal(_dt_h(bare), [0.25, 0.25, 0.25, 0.25])
    hourly = pd.date_range("2024-01-02", periods=3, freq="1h", tz="Asia/Shanghai")
    np.testing.assert_array_equal(_dt_h(pd.DatetimeIndex(hourly, freq=None)), [1.0, 1.0, 1.0])


def test_one_period_needs_a_frequency() -> None:
    one = pd.date_range("2024-01-02", periods=1, freq="15min", tz="Asia/Shanghai")
    np.testing.assert_array_equal(_dt_h(one), [0.25])
    with pytest.raises(InputError, match="last period's length") as err:
        _dt_h(pd.DatetimeIndex(one, freq=None))
    assert err.value.field == "index"


def test_irregular_starts_without_frequency_are_refused_not_guessed() -> None:
    """The old problem-side function repeated the last spacing (1 h here); the calendar refuses."""
    starts = ["2024-01-02 00:00", "2024-01-02 00:15", "2024-01-02 01:15"]
    irregular = pd.DatetimeIndex(starts, tz="Asia/Shanghai")
    with pytest.raises(InputError, match="irregular") as err:
        _dt_h(irregular)
    assert err.value.field == "index"
    given = prepare_problem(PORTFOLIO, irregular, np.full(3, 300.0), dt_h=np.array([0.25, 1.0, 0.25])).dt_h
    np.testing.assert_array_equal(given, [0.25, 1.0, 0.25])


def test_no_periods() -> None:
    with pytest.raises(InputError, match="no periods"):
        _dt_h(pd.DatetimeIndex([], tz="Asia/Shanghai"))
