"""Which period an instant falls in (:func:`vpp.service.planning.slot_at`), on days that change clocks."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from market.calendar import trading_day_index
from market.presets import get_market
from vpp.service import planning


@pytest.mark.parametrize(("day", "periods"), [("2024-10-27", 25), ("2024-03-31", 23), ("2024-06-03", 24)])
def test_every_instant_of_a_clock_change_day_falls_in_its_period(day: str, periods: int) -> None:
    # Europe/Berlin, hourly: 02:00-03:00 happens twice on 10-27; the local floor of an instant in
    # it was ambiguous and raised, so every service job in that hour (dispatch, gateway) failed.
    market = get_market("generic")
    index = trading_day_index(market, dt.date.fromisoformat(day))
    assert len(index) == periods
    for k, start in enumerate(index):
        for offset in (pd.Timedelta(0), pd.Timedelta(minutes=30), pd.Timedelta(hours=1) - pd.Timedelta(1)):
            slot = planning.slot_at(market, start + offset)
            assert (slot.day, slot.k, slot.start) == (index[0].date(), k, start)
        assert planning.dispatch_slot(market, start - pd.Timedelta(seconds=30), 60.0).k == k
