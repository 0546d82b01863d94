"""The fleet's flexibility envelope: how far the VPP's net position can move in each period.

Each asset family has one small function that returns, for all assets of the family at once, the
net power range ``[min_net_mw, max_net_mw]`` and the ``baseline_mw`` of every asset in every period
(arrays of shape ``(n_assets, T)``, MW, export positive as in CONVENTIONS.md). The fleet envelope
sums them, clips each limited group to its ``group_limits`` and the total to the grid connection.

The envelope is a per-period bound: it ignores what links periods (battery state of charge, daily
energy of flexible loads and EVs, indoor temperature, generator ramps and minimum run times). The
scalar ``shiftable_energy_mwh`` summarises those energy limits instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.calendar import period_hours
from vpp.assets import (
    ASSET_TYPES,
    AssetSpec,
    BatterySpec,
    EvHubSpec,
    FlexibleLoadSpec,
    GeneratorSpec,
    HeatingSpec,
    LoadSpec,
    PvSpec,
)
from vpp.assets.ev_hub import session_stays
from vpp.portfolio import GridConnection
from vpp.portfolio_io import LoadedPortfolio, ProfileResolver, profile_resolver

ENVELOPE_COLUMNS = ("max_export_mw", "max_import_mw", "baseline_mw", "up_mw", "down_mw")
"""Columns of :attr:`Envelope.per_period`."""


@dataclass(frozen=True)
class Horizon:
    """The periods an envelope is computed for.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts (tz-aware), shape (T,).
    dt_h : np.ndarray
        Period lengths (h), shape (T,).
    resolve : ProfileResolver
        ``(asset, field, ref) -> np.ndarray`` of shape (T,).
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    resolve: ProfileResolver

    def stack(self, specs: Sequence[AssetSpec], field: str) -> np.ndarray:
        """The profile ``field`` of every spec, stacked: shape (n_assets, T)."""
        return np.stack([self.resolve(s, field, _field_value(s, field)) for s in specs])


@dataclass(frozen=True)
class FamilyRange:
    """Net power range of the assets of one family (MW, export positive), arrays (n_assets, T).

    Attributes
    ----------
    min_net_mw, max_net_mw : np.ndarray
        Lowest and highest net power the asset can take in each period.
    baseline_mw : np.ndarray
        Net power with no flexibility used.
    shiftable_mwh : float
        Energy the family can move in time within the horizon (MWh), see each family function.
    """

    min_net_mw: np.ndarray
    max_net_mw: np.ndarray
    baseline_mw: np.ndarray
    shiftable_mwh: float


@dataclass(frozen=True)
class Envelope:
    """The fleet's flexibility envelope over a horizon.

    Attributes
    ----------
    per_period : pd.DataFrame
        Index = the horizon's period starts; columns (MW): ``max_export_mw`` and ``max_import_mw``
        (positive magnitudes: the most the fleet can deliver to / draw from the grid; 0 when it
        cannot export, resp. import, at all), ``baseline_mw`` (net position with no flexibility
        used, export positive, kept within what the grid and groups allow), ``up_mw`` and
        ``down_mw`` (adjustable capacity above and below the baseline).
    shiftable_energy_mwh : float
        Energy the fleet can move in time (MWh): battery ``soc_ceiling_mwh - soc_min_mwh``, flexible-load,
        EV and heating shifting, summed over assets.
    adjustable_mw : float
        Largest one-way adjustment from the baseline in any period: ``max_t max(up, down)`` (MW).
    conflicts : tuple of str
        Periods where the assets' forced net position breaks a group or grid limit (the day is
        infeasible there), one message per limit.
    """

    per_period: pd.DataFrame
    shiftable_energy_mwh: float
    adjustable_mw: float
    conflicts: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Per family


def battery_range(specs: Sequence[BatterySpec], horizon: Horizon) -> FamilyRange:
    """Battery: ``-charge_limit_mw <= net[t] <= discharge_limit_mw``, baseline 0 (idle).

    State of charge is ignored here (a full battery cannot charge, an empty one cannot
    discharge). Shiftable energy = ``sum(soc_ceiling_mwh - soc_min_mwh)`` (MWh).
    """
    ones = np.ones(len(horizon.index))
    charge = np.array([s.charge_limit_mw for s in specs])[:, None] * ones
    discharge = np.array([s.discharge_limit_mw for s in specs])[:, None] * ones
    shiftable = sum(s.soc_ceiling_mwh - s.soc_min_mwh for s in specs)
    return FamilyRange(-charge, discharge, np.zeros_like(charge), float(shiftable))


def pv_range(specs: Sequence[PvSpec], horizon: Horizon) -> FamilyRange:
    """PV: ``available[t] = capacity_mw * profile[t]``; net in ``[0, available]`` if curtailable,
    else exactly ``available``. Baseline = available. Shiftable energy 0."""
    available = np.array([s.capacity_mw for s in specs])[:, None] * horizon.stack(specs, "profile")
    curtailable = np.array([s.curtailable for s in specs])[:, None]
    lowest = np.where(curtailable, np.minimum(available, 0.0), available)
    return FamilyRange(lowest, available, available, 0.0)


def load_range(specs: Sequence[LoadSpec], horizon: Horizon) -> FamilyRange:
    """Fixed load: ``net[t] = -scale_mw * profile[t]`` exactly. Shiftable energy 0."""
    net = -np.array([s.scale_mw for s in specs])[:, None] * horizon.stack(specs, "profile")
    return FamilyRange(net, net, net, 0.0)


def flexible_load_range(specs: Sequence[FlexibleLoadSpec], horizon: Horizon) -> FamilyRange:
    """Flexible load with ``b[t] = scale_mw * baseline[t]`` (MW)::

        -b[t] * (1 + up_frac) <= net[t] <= -b[t] * (1 - down_frac),   baseline net = -b[t]

    Shiftable energy = ``E_base * up * down / (up + down)`` per load, ``E_base = sum_t b[t] dt_h``:
    the most energy taken out of some periods and put back into others when the baseline is split
    freely between the two (the daily-energy tolerance is not counted).
    """
    base = np.array([s.scale_mw for s in specs])[:, None] * horizon.stack(specs, "baseline")
    up = np.array([s.up_frac for s in specs])
    down = np.array([s.down_frac for s in specs])
    energy = base @ horizon.dt_h
    both = up + down
    share = np.divide(up * down, both, out=np.zeros_like(both), where=both > 0)
    return FamilyRange(
        -base * (1 + up[:, None]), -base * (1 - down[:, None]), -base, float(share @ energy)
    )


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


def generator_range(specs: Sequence[GeneratorSpec], horizon: Horizon) -> FamilyRange:
    """Generator: ``0 <= net[t] <= max_mw`` (off is always allowed here; ramps, minimum output and
    run times are ignored), baseline 0 (off). Shiftable energy 0."""
    top = np.array([s.max_mw for s in specs])[:, None] * np.ones(len(horizon.index))
    return FamilyRange(np.zeros_like(top), top, np.zeros_like(top), 0.0)


def heating_range(specs: Sequence[HeatingSpec], horizon: Horizon) -> FamilyRange:
    """Electric heating: ``-rated_power_mw <= net[t] <= 0``; baseline = demand-neutral power::

        Q[t] = heat_demand_mw[t]                                       (heat-demand form)
        Q[t] = max(heat_loss_mw_per_k * (temp_initial_c - outdoor[t]), 0)   (outdoor form)
        baseline net[t] = -min(max(Q[t], 0) / cop, rated_power_mw)

    Shiftable energy = ``thermal_capacity_mwh_per_k * (temp_max_c - temp_min_c) / cop``: the
    electricity the building's thermal band stores.
    """
    T = len(horizon.index)
    heat = np.zeros((len(specs), T))
    for row, s in enumerate(specs):
        if s.heat_demand_mw is not None:
            heat[row] = horizon.resolve(s, "heat_demand_mw", s.heat_demand_mw)
        else:
            outdoor = horizon.resolve(s, "outdoor_temperature_c", s.outdoor_temperature_c)
            heat[row] = s.heat_loss_mw_per_k * (s.temp_initial_c - outdoor)
    rated = np.array([s.rated_power_mw for s in specs])[:, None]
    cop = np.array([s.cop for s in specs])[:, None]
    neutral = np.minimum(np.clip(heat, 0, None) / cop, rated)
    shiftable = sum(s.thermal_capacity_mwh_per_k * (s.temp_max_c - s.temp_min_c) / s.cop
                    for s in specs)
    return FamilyRange(-rated * np.ones(T), np.zeros((len(specs), T)), -neutral, float(shiftable))


FAMILY_RANGES: dict[str, Callable[[Sequence, Horizon], FamilyRange]] = {
    "battery": battery_range,
    "pv": pv_range,
    "load": load_range,
    "flexible_load": flexible_load_range,
    "ev_hub": ev_hub_range,
    "generator": generator_range,
    "heating": heating_range,
}
"""Registry: asset ``type`` -> its family's range function."""


# ---------------------------------------------------------------------------------------------
# Fleet


def flexibility_envelope(loaded: LoadedPortfolio, index: pd.DatetimeIndex) -> Envelope:
    """The fleet's flexibility envelope over ``index`` (usually one trading day).

    Per period, with ``lo``/``hi``/``b`` the summed asset ranges and baselines (MW, export +)::

        per limited group g:  lo_g, hi_g clipped to [-import_limit_mw, export_limit_mw]
                              b_g clipped to [lo_g, hi_g]
        fleet: L, H = sum of group and ungrouped lo, hi, clipped to the grid limits; B = sum b
               clipped to [L, H]
        max_export_mw = max(H, 0); max_import_mw = max(-L, 0); baseline_mw = B
        up_mw = H - B;  down_mw = B - L

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio with its profiles.
    index : pd.DatetimeIndex
        Period starts (tz-aware), e.g. ``market.calendar.trading_day_index(market, day)``.

    Returns
    -------
    Envelope

    Raises
    ------
    InputError
        A profile cannot be resolved for ``index`` (list of the wrong length, no data).
    """
    portfolio = loaded.portfolio
    horizon = Horizon(index, period_hours(index, loaded.market), profile_resolver(loaded, index))
    lows, highs, bases, groups, shiftable = [], [], [], [], 0.0
    for asset_type in ASSET_TYPES:
        specs = portfolio.assets_of(asset_type)
        if not specs:
            continue
        family = FAMILY_RANGES[asset_type](specs, horizon)
        lows.append(family.min_net_mw)
        highs.append(family.max_net_mw)
        bases.append(family.baseline_mw)
        groups.extend(s.group for s in specs)
        shiftable += family.shiftable_mwh
    low, high, base = np.vstack(lows), np.vstack(highs), np.vstack(bases)
    member = np.array(groups, dtype=object)

    conflicts: list[str] = []
    limited = np.isin(member, list(portfolio.group_limits))
    L, H, B = low[~limited].sum(axis=0), high[~limited].sum(axis=0), base[~limited].sum(axis=0)
    for name, limit in portfolio.group_limits.items():
        rows = member == name
        lo, hi, b = _clip(low[rows].sum(axis=0), high[rows].sum(axis=0), base[rows].sum(axis=0),
                          limit, f"group {name}", index, conflicts)
        L, H, B = L + lo, H + hi, B + b
    L, H, B = _clip(L, H, B, portfolio.grid, "grid", index, conflicts)

    per_period = pd.DataFrame(
        {
            "max_export_mw": np.maximum(H, 0.0),
            "max_import_mw": np.maximum(-L, 0.0),
            "baseline_mw": B,
            "up_mw": H - B,
            "down_mw": B - L,
        },
        index=index,
    )
    adjustable = float(np.maximum(H - B, B - L).max()) if len(index) else 0.0
    return Envelope(per_period, float(shiftable), adjustable, tuple(conflicts))


def _clip(
    low: np.ndarray,
    high: np.ndarray,
    base: np.ndarray,
    limit: GridConnection,
    name: str,
    index: pd.DatetimeIndex,
    conflicts: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip a net range and baseline to ``[-import_limit_mw, export_limit_mw]``; note conflicts."""
    floor, cap = -limit.import_limit_mw, limit.export_limit_mw
    exporting, importing = low > cap + 1e-9, high < floor - 1e-9
    if exporting.any():
        first = int(np.flatnonzero(exporting)[0])
        conflicts.append(_conflict(
            f"{name} must export at least {low[first]:.3f} MW, above its export limit {cap} MW",
            exporting, index))
    if importing.any():
        first = int(np.flatnonzero(importing)[0])
        conflicts.append(_conflict(
            f"{name} must import at least {-high[first]:.3f} MW, above its import limit "
            f"{-floor} MW", importing, index))
    low, high = np.clip(low, floor, cap), np.clip(high, floor, cap)
    return low, high, np.clip(base, low, high)


def _conflict(what: str, broken: np.ndarray, index: pd.DatetimeIndex) -> str:
    first, more = int(np.flatnonzero(broken)[0]), int(broken.sum()) - 1
    return f"{what} at {index[first]}" + (f" (and {more} more periods)" if more else "")


def _field_value(spec: AssetSpec, field: str) -> object:
    value: object = spec
    for part in field.split("."):
        value = getattr(value, part)
    return value


def _period_bounds_ns(horizon: Horizon) -> tuple[np.ndarray, np.ndarray]:
    """Period starts and ends as int64 nanoseconds since the epoch (UTC)."""
    starts = horizon.index.as_unit("ns").asi8
    return starts, starts + np.round(horizon.dt_h * 3.6e12).astype(np.int64)


def _session_arrays(
    hub: EvHubSpec, days: Sequence[dt.date], tz: dt.tzinfo | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrival and departure (int64 ns, UTC), power (MW) and energy (MWh) of every session stay
    (:func:`vpp.assets.ev_hub.session_stays`: a time-of-day session gives one stay per day)."""
    rows = []
    for stay in session_stays(hub, days, tz):
        session = hub.sessions[stay.session]
        arrival_ns, departure_ns = stay.arrival.as_unit("ns").value, stay.departure.as_unit("ns").value
        rows.append((arrival_ns, departure_ns, session.max_power_mw, session.energy_mwh))
    arrival, departure, power, energy = (np.array(col) for col in zip(*rows, strict=True))
    return arrival.astype(np.int64), departure.astype(np.int64), power, energy
