"""EV session stays are expanded once (issue 16 item 4): the optimizer's placement and the
flexibility envelope read the same :func:`vpp.assets.ev_hub.session_stays`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from optimizer.families.ev_sessions import place_sessions
from vpp.assets import EvHubSpec
from vpp.assets.ev_hub import _session_arrays, session_stays

HUB = EvHubSpec.model_validate(
    {
        "id": "hub",
        "sessions": [
            {"arrival": "02:30", "departure": "06:00", "max_power_mw": 0.1, "energy_mwh": 0.2},
            {"arrival": "2023-03-26T20:00:00+02:00", "departure": "2023-03-26T22:00:00+02:00",
             "max_power_mw": 0.2, "energy_mwh": 0.3},
        ],
    }
)


def test_daily_sessions_repeat_per_day_and_a_nonexistent_time_shifts_forward():
    days = [dt.date(2023, 3, 26), dt.date(2023, 3, 27)]  # Berlin springs forward at 02:00 on the 26th
    stays = session_stays(HUB, days, "Europe/Berlin")
    assert [(s.session, s.name) for s in stays] == [(0, "s0"), (0, "s0+1d"), (1, "s1")]
    assert stays[0].arrival == pd.Timestamp("2023-03-26 03:00", tz="Europe/Berlin")  # 02:30 does not exist
    assert stays[1].arrival == pd.Timestamp("2023-03-27 02:30", tz="Europe/Berlin")
    assert stays[2].departure == pd.Timestamp("2023-03-26 20:00", tz="UTC")


def test_the_optimizer_and_the_envelope_place_the_same_stays():
    index = trading_day_index("generic", "2023-03-26")
    end = index[-1] + pd.Timedelta(hours=1)
    placed = place_sessions([HUB], index, end)
    arrival, departure, power, energy = _session_arrays(HUB, [dt.date(2023, 3, 26)], index.tz)
    np.testing.assert_array_equal(arrival, [p.arrival.value for p in placed])
    np.testing.assert_array_equal(departure, [p.departure.value for p in placed])
    np.testing.assert_array_equal(power, [0.1, 0.2])
    np.testing.assert_array_equal(energy, [0.2, 0.3])
    assert [p.vehicle_id for p in placed] == ["hub/s0", "hub/s1"]
