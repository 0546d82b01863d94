"""Service time: the wall clock, or an accelerated clock that maps wall time onto simulated time.

An :class:`AcceleratedClock` is a list of segments ``(wall_s, sim_s)`` (UNIX seconds) sharing one
speed-up factor: from ``wall_s`` on, simulated time is ``sim_s + (wall - wall_s) * speed``, until the
next segment starts (which may jump over simulated hours nothing happens in). Jobs compute the
simulated ``now`` from it; :class:`SimulatedTrigger` turns a trigger in simulated time into wall
fire times for APScheduler.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from apscheduler.triggers.base import BaseTrigger


class WallClock:
    """Real time."""

    speed = 1.0

    def now(self) -> pd.Timestamp:
        """The current instant (UTC)."""
        return pd.Timestamp.now(tz="UTC")

    def to_wall(self, sim: pd.Timestamp) -> dt.datetime:
        """Identity: wall time of a simulated instant."""
        return pd.Timestamp(sim).tz_convert("UTC").to_pydatetime()


@dataclass(frozen=True)
class AcceleratedClock:
    """Simulated time running ``speed`` times faster than wall time, in segments.

    Attributes
    ----------
    segments : tuple of (float, float)
        ``(wall_s, sim_s)`` pairs (UNIX seconds), increasing in both.
    speed : float
        Simulated seconds per wall second.
    """

    segments: tuple[tuple[float, float], ...]
    speed: float

    def to_sim(self, wall_s: float) -> float:
        """Simulated UNIX seconds at wall UNIX seconds ``wall_s``."""
        wall0, sim0 = self.segments[0]
        for w, s in self.segments:
            if w <= wall_s:
                wall0, sim0 = w, s
        return sim0 + (wall_s - wall0) * self.speed

    def now(self) -> pd.Timestamp:
        """The current simulated instant (UTC)."""
        return pd.Timestamp(round(self.to_sim(time.time()) * 1e6), unit="us", tz="UTC")

    def to_wall(self, sim: pd.Timestamp) -> dt.datetime:
        """Wall time at which simulated instant ``sim`` happens (a skipped instant: its segment's end)."""
        sim_s = pd.Timestamp(sim).timestamp()
        wall = self.segments[0][0] + (sim_s - self.segments[0][1]) / self.speed
        for i, (w, s) in enumerate(self.segments):
            if s <= sim_s:
                wall = w + (sim_s - s) / self.speed
                if i + 1 < len(self.segments):
                    wall = min(wall, self.segments[i + 1][0])
        return dt.datetime.fromtimestamp(wall, tz=dt.UTC)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for :class:`vpp.service.config.ServiceConfig`."""
        return {"segments": [list(s) for s in self.segments], "speed": self.speed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AcceleratedClock:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple((float(w), float(s)) for w, s in data["segments"]), float(data["speed"]))


Clock = WallClock | AcceleratedClock


def make_clock(data: dict[str, Any] | None) -> Clock:
    """The clock described by ``ServiceConfig.clock`` (None: wall time)."""
    return WallClock() if data is None else AcceleratedClock.from_dict(data)


class SimulatedTrigger(BaseTrigger):
    """Fire a trigger defined in simulated time at the matching wall times.

    Parameters
    ----------
    base : BaseTrigger
        Any APScheduler trigger whose dates are simulated instants.
    clock : AcceleratedClock
        The mapping between simulated and wall time.
    """

    def __init__(self, base: BaseTrigger, clock: AcceleratedClock) -> None:
        self.base = base
        self.clock = clock

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        """Next wall fire time after ``previous_fire_time`` (wall) given the wall ``now``."""
        sim_now = _utc(self.clock.to_sim(now.timestamp()))
        previous = None
        if previous_fire_time is not None:  # rounded to the ms: wall-sim round trips drift in float
            previous = _utc(round(self.clock.to_sim(previous_fire_time.timestamp()), 3))
        fire = self.base.get_next_fire_time(previous, sim_now)
        for _ in range(1000):  # never the same wall time again: APScheduler would loop on it
            if fire is None:
                return None
            wall = self.clock.to_wall(pd.Timestamp(fire))
            if previous_fire_time is None or wall > previous_fire_time:
                return wall
            fire = self.base.get_next_fire_time(fire, sim_now)
        return None

    def __str__(self) -> str:
        return f"simulated[{self.base}] x{self.clock.speed:g}"


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
