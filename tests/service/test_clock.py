"""The accelerated clock and the triggers that run on it: APScheduler's loop over past run times
(``Job._get_run_times``) must always end, whatever float error the wall/sim round trip has."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vpp.service.clock import AcceleratedClock, SimulatedTrigger
from vpp.service.scheduler import InstantsTrigger

SIM0 = pd.Timestamp("2024-01-02 06:30", tz="Asia/Shanghai")


def _run_times(trigger, first: dt.datetime | None, now: dt.datetime) -> list[dt.datetime]:
    """APScheduler 3's ``Job._get_run_times``, bounded so a looping trigger fails the test."""
    out, fire = [], first
    while fire is not None and fire <= now:
        out.append(fire)
        assert len(out) < 100, "the trigger returned the same run time again"
        fire = trigger.get_next_fire_time(fire, now)
    return out


@settings(max_examples=200, deadline=None)
@given(
    wall0=st.floats(1.6e9, 1.9e9),
    speed=st.sampled_from([1800.0, 2880.0, 86400.0 / 7.0]),
    offsets_min=st.lists(st.integers(-3000, 3000), min_size=1, max_size=8, unique=True),
)
def test_instants_fire_once_each_in_order_on_the_accelerated_clock(wall0, speed, offsets_min):
    clock = AcceleratedClock(((wall0, SIM0.timestamp()),), speed)
    instants = [SIM0 + pd.Timedelta(minutes=m) for m in offsets_min]
    trigger = SimulatedTrigger(InstantsTrigger(instants), clock)
    end = clock.to_wall(max(instants)) + dt.timedelta(seconds=1)
    fires = _run_times(trigger, clock.to_wall(min(instants)), end)
    assert len(fires) == len(instants)
    assert all(a < b for a, b in itertools.pairwise(fires))
    sims = [round(clock.to_sim(f.timestamp())) for f in fires]
    assert sims == sorted(int(t.timestamp()) for t in instants)


def test_instants_already_past_when_added_are_not_fired():
    trigger = InstantsTrigger([SIM0, SIM0 + pd.Timedelta(hours=1), SIM0 + pd.Timedelta(hours=2)])
    now = (SIM0 + pd.Timedelta(minutes=30)).to_pydatetime()
    assert trigger.get_next_fire_time(None, now) == (SIM0 + pd.Timedelta(hours=1)).to_pydatetime()
    last = (SIM0 + pd.Timedelta(hours=2)).to_pydatetime()
    assert trigger.get_next_fire_time(last, now) is None
