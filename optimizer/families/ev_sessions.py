"""EV-hub session placement and energy needs: the numpy/pandas half of ``ev_hub.prepare``, no Pyomo.

The rules (placing sessions on the horizon, when a vehicle counts as connected, what it must hold
when it leaves, the fleet's share of its daily energy) are in the :mod:`optimizer.families.ev_hub`
docstring; that module puts these arrays into its data class and builds the Pyomo block.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.problem import PrepareContext
from vpp.assets import EvHubSpec, EvSession
from vpp.assets.ev_hub import session_stays
from vpp.errors import InputError, InputWarning

ENERGY_TOLERANCE_MWH = 1e-9
"""Slack allowed when checking that a session or fleet can receive its energy (MWh)."""


@dataclass(frozen=True)
class _Placed:
    """One occurrence of a session on the horizon: hub and session positions, tz-aware times."""

    vehicle_id: str
    name: str
    hub: int
    session: int
    arrival: pd.Timestamp
    departure: pd.Timestamp


@dataclass(frozen=True)
class VehicleArrays:
    """Placed sessions present in some period: (V,) and (V, T) arrays, units in the names.

    ``hub[v]`` is the position of the vehicle's hub in the specs; ``session[v]`` the position of
    its session in the hub's ``sessions``. ``connected[v, t]`` is the share of period ``t`` the
    vehicle is plugged in (0..1). ``shortfall_mwh[v]`` is the energy a session cannot receive in
    its stay (its need was lowered by that much; 0 for a feasible session).
    """

    ids: list[str]
    hub: np.ndarray
    session: np.ndarray
    max_power_mw: np.ndarray
    connected: np.ndarray
    delivered_mwh: np.ndarray
    need_mwh: np.ndarray
    cap_mwh: np.ndarray
    shortfall_mwh: np.ndarray


@dataclass(frozen=True)
class FleetArrays:
    """Fleet arrays per hub, (A,) and (A, T); ``max_mw`` and ``energy_mwh`` are 0 without a fleet."""

    has_fleet: np.ndarray
    max_mw: np.ndarray
    energy_mwh: np.ndarray


def place_sessions(specs: list[EvHubSpec], index: pd.DatetimeIndex, end: pd.Timestamp) -> list[_Placed]:
    """Every session occurrence overlapping ``[index[0], end)``, with tz-aware arrival and departure."""
    first = index[0].date()
    n_days = (((end - pd.Timedelta(1, "ns")).date()) - first).days + 1
    days = [first + dt.timedelta(days=n) for n in range(n_days)]
    return [
        _Placed(f"{spec.id}/{stay.name}", stay.name, h, stay.session, stay.arrival, stay.departure)
        for h, spec in enumerate(specs)
        for stay in session_stays(spec, days, index.tz)
        if stay.arrival < end and stay.departure > index[0]
    ]


def fleet_days(index: pd.DatetimeIndex, dt_h: np.ndarray) -> tuple[float, float]:
    """Days the horizon covers, and the share of its first day that passed before it starts.

    Each period counts ``dt / hours of its calendar day`` in the horizon's zone, so a whole trading
    day is 1 also when it has 23 or 25 hours.
    """
    local = index.tz_localize(None).normalize()
    flags = np.ones(len(index), dtype=bool)
    start = local.tz_localize(index.tz, ambiguous=flags, nonexistent="shift_forward")
    stop = (local + pd.Timedelta(days=1)).tz_localize(index.tz, ambiguous=flags, nonexistent="shift_forward")
    day_h = (stop - start).total_seconds().to_numpy() / 3600.0
    elapsed_h = (index[0] - start[0]).total_seconds() / 3600.0
    return float((dt_h / day_h).sum()), elapsed_h / float(day_h[0])


def presence(placed: list[_Placed], index: pd.DatetimeIndex, dt_h: np.ndarray) -> np.ndarray:
    """Share of each period each placed session is plugged in, (V, T), 0..1.

    ``connected[v, t] = |[arrival, departure) & [s[t], s[t] + dt[t])| / dt[t]``: a vehicle leaving
    at 10:20 is present for a third of the hour starting 10:00, one staying 10:10-10:40 for half
    of it.
    """
    starts = index.as_unit("ns").asi8.astype(np.float64)
    ends = starts + dt_h * 3.6e12
    arrival = np.array([p.arrival.value for p in placed], dtype=np.float64).reshape(-1, 1)
    departure = np.array([p.departure.value for p in placed], dtype=np.float64).reshape(-1, 1)
    overlap = np.clip(np.minimum(departure, ends) - np.maximum(arrival, starts), 0.0, None)
    return np.clip(overlap / (ends - starts), 0.0, 1.0)


def vehicle_arrays(specs: list[EvHubSpec], ctx: PrepareContext) -> VehicleArrays:
    """Sessions placed on the horizon as vehicles: presence share (0..1) and energies (MWh).

    A vehicle is connected for the share of each period it is actually plugged in, so its power
    limit in a period is ``share x max_power_mw`` (average MW) and its energy there at most
    ``share x max_power_mw x dt``. A session that cannot receive its energy in its stay (too short,
    too little power) is served as far as possible: its need is lowered to what its charger can
    give while it is present, and an :class:`~vpp.errors.InputWarning` names it and the shortfall.
    One session never fails the whole bid.

    Initial-state key, under the hub id: ``"s<k>.delivered_mwh"`` per session (MWh, default 0).
    """
    index, dt_h = ctx.index, ctx.dt_h
    end = index[-1] + pd.Timedelta(hours=float(dt_h[-1]))
    eta_c = np.array([s.charge_efficiency for s in specs])

    placed = place_sessions(specs, index, end)
    hub = np.array([p.hub for p in placed], dtype=int)
    sessions: list[EvSession] = [specs[p.hub].sessions[p.session] for p in placed]
    power = np.array([s.max_power_mw for s in sessions], dtype=float)
    energy = np.array([s.energy_mwh for s in sessions], dtype=float)
    connected = presence(placed, index, dt_h) if placed else np.zeros((0, ctx.n_periods))
    frac = np.array([s.min_departure_frac if s.v2g else 1.0 for s in specs])
    hours_after = np.array(
        [max((p.departure - end).total_seconds() / 3600.0, 0.0) for p in placed], dtype=float
    )
    need = np.maximum(frac[hub] * energy - eta_c[hub] * power * hours_after, 0.0)
    delivered = np.array(
        [ctx.state(specs[p.hub].id, f"{p.name}.delivered_mwh", 0.0) for p in placed], dtype=float
    )
    connected_h = connected @ dt_h
    deliverable = eta_c[hub] * power * connected_h
    shortfall = np.maximum(need - delivered - deliverable, 0.0)
    short = shortfall > ENERGY_TOLERANCE_MWH
    for i in np.flatnonzero(short):
        p = placed[i]
        warnings.warn(
            InputWarning(
                f"ev_hub '{specs[p.hub].id}' session {p.session} ({p.vehicle_id}, {p.arrival} to "
                f"{p.departure}) needs {need[i] - delivered[i]:.6g} MWh but can receive at most "
                f"{deliverable[i]:.6g} MWh ({connected_h[i]:.6g} hours present at {power[i]:.6g} MW, "
                f"efficiency {eta_c[p.hub]:.6g}): it is served as far as possible, "
                f"{shortfall[i]:.6g} MWh short"
            ),
            stacklevel=2,
        )
    need = np.where(short, delivered + deliverable, need)
    keep = connected_h > 0
    return VehicleArrays(
        ids=[p.vehicle_id for p, k in zip(placed, keep, strict=True) if k],
        hub=hub[keep],
        session=np.array([p.session for p in placed], dtype=int)[keep],
        max_power_mw=power[keep],
        connected=connected[keep],
        delivered_mwh=delivered[keep],
        need_mwh=need[keep],
        cap_mwh=np.maximum(energy, delivered)[keep],
        shortfall_mwh=np.where(short, shortfall, 0.0)[keep],
    )


def fleet_arrays(specs: list[EvHubSpec], ctx: PrepareContext) -> FleetArrays:
    """Each fleet's charging limit (MW) and the energy it must receive over the horizon (MWh).

    Initial-state key, under the hub id: ``fleet_delivered_mwh`` (MWh received today before the
    horizon, default 0).

    Raises
    ------
    InputError
        A fleet needs more energy than its chargers can give while available.
    """
    index, dt_h = ctx.index, ctx.dt_h
    fleet_max = np.zeros((len(specs), ctx.n_periods))
    fleet_energy = np.zeros(len(specs))
    covered, elapsed = fleet_days(index, dt_h)
    for h, spec in enumerate(specs):
        if spec.fleet is None:
            continue
        eta_c = spec.charge_efficiency
        availability = ctx.profile(spec, "fleet.availability", spec.fleet.availability)
        fleet_max[h] = spec.fleet.max_power_mw * np.clip(availability, 0.0, 1.0)
        done = ctx.state(spec.id, "fleet_delivered_mwh", 0.0)
        days = covered + (elapsed if "fleet_delivered_mwh" in ctx.initial_state.get(spec.id, {}) else 0.0)
        fleet_energy[h] = max(spec.fleet.daily_energy_mwh * days - done, 0.0)
        possible = eta_c * float(fleet_max[h] @ dt_h)
        if fleet_energy[h] - possible > ENERGY_TOLERANCE_MWH:
            raise InputError(
                f"ev_hub '{spec.id}' fleet needs {fleet_energy[h]:.6g} MWh over the horizon but can "
                f"receive at most {possible:.6g} MWh ({spec.fleet.max_power_mw:.6g} MW times availability, "
                f"efficiency {eta_c:.6g})",
                field=f"{spec.id}.fleet.daily_energy_mwh",
            )
    return FleetArrays(
        has_fleet=np.array([s.fleet is not None for s in specs]), max_mw=fleet_max, energy_mwh=fleet_energy
    )
