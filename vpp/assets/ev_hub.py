"""EV charging hubs: individual sessions or an aggregate fleet, optionally vehicle-to-grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, Strict, model_validator

from vpp.assets.base import (
    AssetSpec,
    Efficiency,
    Fraction,
    NonNegativeFloat,
    PositiveFloat,
    ProfileRef,
    StrictNumbers,
)
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, Summary, TelemetryRange

Moment = Annotated[dt.datetime, Strict(False)] | Annotated[dt.time, Strict(False)]
"""A timestamp or a time of day, parsed from text (``"07:30"``) although the model is strict."""


class EvSession(StrictNumbers):
    """One vehicle's stay at the hub.

    ``arrival`` and ``departure`` are either full timestamps (one-off session) or times of day
    (``"07:30"``), which repeat every trading day. A time of day must have arrival before departure.
    The vehicle charges at most ``max_power_mw`` while connected and must have received
    ``energy_mwh`` (net, at the battery) by departure.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    arrival: Moment = Field(description="Plug-in time (timestamp or daily time).")
    departure: Moment = Field(description="Plug-out time (timestamp or daily time).")
    energy_mwh: NonNegativeFloat = Field(description="Energy to deliver by departure (MWh).")
    max_power_mw: PositiveFloat = Field(description="Charger power limit (MW).")

    @model_validator(mode="after")
    def _check_times(self) -> EvSession:
        if type(self.arrival) is not type(self.departure):
            raise ValueError("arrival and departure must both be timestamps or both times of day")
        if isinstance(self.arrival, dt.datetime) and (self.arrival.tzinfo is None) != (
            self.departure.tzinfo is None
        ):
            raise ValueError("arrival and departure must both carry a UTC offset, or neither")
        if self.departure <= self.arrival:
            raise ValueError(f"departure {self.departure} is not after arrival {self.arrival}")
        return self


class EvFleet(StrictNumbers):
    """An aggregate fleet: a charging-power envelope and a daily energy need.

    ``available_mw[t] = max_power_mw * availability[t]``; the fleet must draw ``daily_energy_mwh``
    over the day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    max_power_mw: PositiveFloat = Field(description="Total charger power (MW).")
    availability: ProfileRef = Field(
        default=1.0, description="Share of chargers with a connected vehicle, per period (0..1)."
    )
    daily_energy_mwh: NonNegativeFloat = Field(description="Energy the fleet needs each day (MWh).")


class EvHubSpec(AssetSpec):
    """A charging hub. Give ``sessions`` or ``fleet`` (or both).

    With ``v2g`` a connected vehicle may also discharge to the grid at ``v2g_efficiency``, keeping at
    least ``min_departure_frac`` of its required energy at departure.
    """

    type: Literal["ev_hub"] = "ev_hub"
    sessions: list[EvSession] = Field(default_factory=list, description="Charging sessions.")
    fleet: EvFleet | None = Field(default=None, description="Aggregate fleet model.")
    charge_efficiency: Efficiency = Field(default=1.0, description="Grid-to-vehicle efficiency.")
    v2g: bool = Field(default=False, description="May vehicles discharge to the grid?")
    v2g_efficiency: Efficiency = Field(default=0.9, description="Vehicle-to-grid efficiency.")
    min_departure_frac: Fraction = Field(
        default=1.0,
        description="Share of each session's energy_mwh it must hold at departure.",
    )
    v2g_degradation_cost: NonNegativeFloat = Field(
        default=0.0, description="Wear cost per MWh discharged to the grid (yuan/MWh)."
    )

    @model_validator(mode="after")
    def _check_sessions_or_fleet(self) -> EvHubSpec:
        if not self.sessions and self.fleet is None:
            raise ValueError("an ev_hub needs sessions or a fleet")
        return self

    def profile_refs(self) -> dict[str, object]:
        return {"fleet.availability": self.fleet.availability} if self.fleet else {}


@dataclass(frozen=True)
class SessionStay:
    """One stay of a hub's session on the calendar: ``session`` is its position in ``sessions``,
    ``name`` ``s<k>`` (``s<k>+<n>d`` on the n-th day after the first), times tz-aware."""

    session: int
    name: str
    arrival: pd.Timestamp
    departure: pd.Timestamp


def session_stays(hub: EvHubSpec, days: Sequence[dt.date], tz: dt.tzinfo | None) -> list[SessionStay]:
    """Every stay of ``hub``'s sessions over ``days`` (sorted): a one-off session once, a
    time-of-day session once per day. Naive times are wall-clock time in ``tz`` (an ambiguous
    one is the first, a nonexistent one shifted forward)."""
    stays = []
    for k, session in enumerate(hub.sessions):
        if isinstance(session.arrival, dt.datetime):
            times = [(f"s{k}", session.arrival, session.departure)]
        else:
            times = [
                (
                    f"s{k}+{(day - days[0]).days}d" if day != days[0] else f"s{k}",
                    dt.datetime.combine(day, session.arrival),
                    dt.datetime.combine(day, session.departure),
                )
                for day in days
            ]
        stays.extend(SessionStay(k, name, _aware(a, tz), _aware(d, tz)) for name, a, d in times)
    return stays


def _aware(moment: dt.datetime, tz: dt.tzinfo | None) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    if stamp.tz is None:
        return stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert(tz)


# ---------------------------------------------------------------------------------------------
# Domain rules


def ev_hub_range(specs: Sequence[EvHubSpec], horizon: Horizon) -> FamilyRange:
    """EV hub: connected charger power ``c[t]`` (MW, a period's average)::

        c[t] = sum_sessions max_power_mw * connected_share[t] + fleet.max_power_mw * availability[t]
        -c[t] <= net[t] <= (c[t] if v2g else 0)

    ``connected_share[t]`` is the share of period t the vehicle is plugged in; a time-of-day
    session repeats on every day of the horizon. Baseline: each session draws
    ``energy_mwh / charge_efficiency`` evenly over its stay, the fleet draws
    ``daily_energy_mwh / charge_efficiency`` per day in proportion to its available power (both at
    most their power limit). Shiftable energy per session and per fleet-day:
    ``min(E, P * hours_connected - E)`` with ``E`` the grid energy needed (the energy whose timing
    is free; V2G cycling is not counted).
    """
    T = len(horizon.index)
    capacity = np.zeros((len(specs), T))
    baseline = np.zeros((len(specs), T))
    shiftable = 0.0
    starts, ends = _period_bounds_ns(horizon)
    days = sorted(set(horizon.index.date))
    for row, hub in enumerate(specs):
        if hub.sessions:
            arrival, departure, power, energy = _session_arrays(hub, days, horizon.index.tz)
            overlap = np.clip(
                np.minimum(departure[:, None], ends) - np.maximum(arrival[:, None], starts), 0, None
            )
            share = overlap / (ends - starts)
            stay_h = (departure - arrival) / 3.6e12
            grid_mwh = energy / hub.charge_efficiency
            on_day = share.any(axis=1)
            capacity[row] += power @ share
            baseline[row] += np.minimum(grid_mwh / stay_h, power) @ share
            shiftable += float(np.clip(np.minimum(grid_mwh, power * stay_h - grid_mwh), 0, None)
                               @ on_day)
        if hub.fleet is not None:
            available = hub.fleet.max_power_mw * horizon.resolve(
                hub, "fleet.availability", hub.fleet.availability
            )
            capacity[row] += available
            need = hub.fleet.daily_energy_mwh / hub.charge_efficiency
            for day in days:
                mask = horizon.index.date == day
                reachable = float(available[mask] @ horizon.dt_h[mask])
                if reachable > 0:
                    baseline[row, mask] += np.minimum(available[mask] * need / reachable,
                                                      available[mask])
                shiftable += max(min(need, reachable - need), 0.0)
    v2g = np.array([hub.v2g for hub in specs])[:, None]
    return FamilyRange(-capacity, np.where(v2g, capacity, 0.0), -baseline, shiftable)


def ev_hub_summary(specs: Sequence[EvHubSpec], peak: Peak) -> Summary:
    """Charger power, energy per day, sessions, fleets and V2G hubs."""
    sessions = sum(len(h.sessions) for h in specs)
    fleets = sum(h.fleet is not None for h in specs)
    power = sum(sum(s.max_power_mw for s in h.sessions)
                + (h.fleet.max_power_mw if h.fleet else 0.0) for h in specs)
    energy = sum(sum(s.energy_mwh for s in h.sessions)
                 + (h.fleet.daily_energy_mwh if h.fleet else 0.0) for h in specs)
    v2g = sum(h.v2g for h in specs)
    return Summary(power, energy, f"chargers; MWh/day; {sessions} sessions, {fleets} fleets, {v2g} V2G")


def ev_hub_telemetry(spec: EvHubSpec) -> TelemetryRange:
    """``[-chargers, chargers if v2g else 0]`` MW."""
    chargers = sum(s.max_power_mw for s in spec.sessions) + (
        spec.fleet.max_power_mw if spec.fleet is not None else 0.0
    )
    return TelemetryRange(-chargers, chargers if spec.v2g else 0.0)


def _period_bounds_ns(horizon: Horizon) -> tuple[np.ndarray, np.ndarray]:
    """Period starts and ends as int64 nanoseconds since the epoch (UTC)."""
    starts = horizon.index.as_unit("ns").asi8
    return starts, starts + np.round(horizon.dt_h * 3.6e12).astype(np.int64)


def _session_arrays(
    hub: EvHubSpec, days: Sequence[dt.date], tz: dt.tzinfo | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrival and departure (int64 ns, UTC), power (MW) and energy (MWh) of every session stay
    (:func:`session_stays`: a time-of-day session gives one stay per day)."""
    rows = []
    for stay in session_stays(hub, days, tz):
        session = hub.sessions[stay.session]
        arrival_ns, departure_ns = stay.arrival.as_unit("ns").value, stay.departure.as_unit("ns").value
        rows.append((arrival_ns, departure_ns, session.max_power_mw, session.energy_mwh))
    arrival, departure, power, energy = (np.array(col) for col in zip(*rows, strict=True))
    return arrival.astype(np.int64), departure.astype(np.int64), power, energy


def ev_hub_baseline_notes(specs: Sequence[EvHubSpec], family: FamilyRange) -> list[str]:
    """Hubs with a session that cannot receive its energy at full power during its stay."""
    notes = []
    for spec in specs:
        for session in spec.sessions or ():
            stay_h = _stay_hours(session)
            if stay_h is not None and session.energy_mwh / spec.charge_efficiency > (
                session.max_power_mw * stay_h + 1e-9
            ):
                notes.append(f"{spec.id}: a session needs more energy than its stay allows")
    return notes


def _stay_hours(session: object) -> float | None:
    arrival, departure = getattr(session, "arrival", None), getattr(session, "departure", None)
    if isinstance(arrival, dt.datetime) and isinstance(departure, dt.datetime):
        return (departure - arrival).total_seconds() / 3600.0
    if not isinstance(arrival, dt.time) or not isinstance(departure, dt.time):
        return None
    start = arrival.hour + arrival.minute / 60
    end = departure.hour + departure.minute / 60
    return (end - start) % 24 or 24.0


FAMILY = Family(
    "ev_hub",
    EvHubSpec,
    envelope=ev_hub_range,
    summary=ev_hub_summary,
    telemetry=ev_hub_telemetry,
    baseline_notes=ev_hub_baseline_notes,
)
