"""EV-hub family: charging sessions (optionally vehicle-to-grid) and aggregate fleets of every hub.

Sets: ``A`` (hub ids), ``V`` (vehicles: every session of every hub placed on the horizon, id
``"<hub>/s<k>"`` with ``k`` the session's position in the hub's list), ``V2`` (vehicles of v2g hubs)
and ``V1 = V - V2``, ``AF`` (hubs with a fleet), the model's ``T``. ``hub(v)`` is the hub of vehicle
``v``; ``dt[t]`` the period length (h); ``eta_c``, ``eta_d`` the hub's ``charge_efficiency`` and
``v2g_efficiency``. Energies are MWh at the vehicle's battery, counted from its state at arrival::

    0 <= charge_mw[v,t]    <= max_power_mw[v] * connected[v,t]       (MW, average over the period)
    0 <= discharge_mw[v,t] <= max_power_mw[v] * connected[v,t]                (MW, v in V2 only)
    charger_limit (V2):  charge_mw[v,t] + discharge_mw[v,t] <= max_power_mw[v] * connected[v,t]
    session_energy (V1):
        need_mwh[v] <= delivered_mwh[v] + sum_t eta_c * charge_mw[v,t] * dt[t] <= cap_mwh[v]
    energy_balance (V2), with energy_mwh[v,-1] = delivered_mwh[v]:
        energy_mwh[v,t] = energy_mwh[v,t-1] + eta_c * charge_mw[v,t] * dt[t]
                          - discharge_mw[v,t] * dt[t] / eta_d
        0 <= energy_mwh[v,t] <= cap_mwh[v]
    departure_energy (V2):  energy_mwh[v,T-1] >= need_mwh[v]
        (a vehicle neither charges nor discharges once gone, so its energy at T-1 is its
        energy at departure)
    0 <= fleet_charge_mw[a,t] <= fleet_max_mw[a,t] = fleet.max_power_mw[a] * availability[a,t]  (AF)
    fleet_energy (AF):  sum_t eta_c * fleet_charge_mw[a,t] * dt[t] = fleet_energy_mwh[a]
    net_mw[a,t] = - sum_{v in V, hub(v)=a} charge_mw[v,t] + sum_{v in V2, hub(v)=a} discharge_mw[v,t]
                  - fleet_charge_mw[a,t]                                  (MW, export positive)
    cost v2g_degradation = sum_{v in V2} v2g_degradation_cost[hub(v)] * discharge_mw[v,t] * dt[t]  (yuan)

Placing sessions on the horizon (period starts ``s[t]``, end ``s[T-1] + dt[T-1]``; done in
:mod:`optimizer.families.ev_sessions`):

- a session given as times of day recurs every day: it is placed on each calendar date the horizon
  touches, in the horizon's zone (one date for a trading-day horizon; later dates get ids
  ``"<hub>/s<k>+<n>d"``); a session given as timestamps is placed once (naive timestamps are read in
  the horizon's zone). Only sessions overlapping the horizon become vehicles.
- ``connected[v,t]`` is the share of period ``t`` the vehicle is actually plugged in:
  ``|[arrival, departure) & [s[t], s[t] + dt[t])| / dt[t]`` (0..1). A vehicle leaving at 10:20 of an
  hourly period is connected 1/3 of it, so it gets at most ``1/3 x max_power_mw x dt`` there; a
  session shorter than one period is connected for its share of it. Its power limit and hence its
  reachable energy scale with the share. Sessions that do not overlap the horizon are dropped.
- energy needs: ``target = energy_mwh`` (``min_departure_frac * energy_mwh`` at a v2g hub) and
  ``cap_mwh = energy_mwh``: without v2g a session departing within the horizon receives exactly its
  energy (``need = cap``), with v2g it holds at least the ``min_departure_frac`` share when it leaves
  and never drops below its arrival state. A session departing after the horizon's end must hold at
  the end what it cannot receive afterwards: ``need = max(0, target - eta_c * max_power_mw * hours
  from the horizon's end to departure)``. ``delivered_mwh`` is the energy already given before the
  horizon: initial-state key ``"s<k>.delivered_mwh"`` (``"s<k>+<n>d.delivered_mwh"``) under the
  hub id, default 0.
- a session whose ``need - delivered`` exceeds ``eta_c * max_power_mw * sum_t connected[v,t] *
  dt[t]`` is served as far as possible: ``need`` is lowered to ``delivered`` plus that maximum (it
  charges at its full present power throughout), ``shortfall_mwh[v]`` records the difference and an
  :class:`~vpp.errors.InputWarning` names the hub, the session and the shortfall. One impossible
  session never fails the whole bid.

The fleet must receive ``daily_energy_mwh`` per day at the battery (the same ``eta_c`` as sessions),
pro rata over the days the horizon covers::

    days = sum_t dt[t] / hours of the calendar day holding t    (1 for a whole trading day, also a
                                                                 23 or 25-hour one; 0.5 for 12 h)
    fleet_energy_mwh[a] = max(0, daily_energy_mwh[a] * days - fleet_delivered_mwh[a])

where the initial-state ``fleet_delivered_mwh`` (under the hub id) is what the fleet already
received today before the horizon; when it is given, ``days`` also counts the part of the first day
before the horizon (the remaining need of today, not of the horizon's share). Fleets have no v2g.

``connected``, ``delivered_mwh``, ``need_mwh``, ``cap_mwh``, ``fleet_max_mw`` and
``fleet_energy_mwh`` are mutable Params: a real-time re-solve disconnects the past (``connected`` 0,
``fleet_max_mw`` 0), records what was delivered and swaps in new remaining targets without
rebuilding the model. A v2g vehicle never charges and discharges in the same period: binaries are
added lazily where a solve does both (:func:`two_way`, :mod:`optimizer.exclusive`).

Real-time restart: ``restart`` is a day-start no-op (within a day the past is pinned by
``ModelSolver.carry_out``); a restart needs per-vehicle delivered energy
carried by the simulator, which is not written yet (``connected``, ``delivered_mwh`` and the fleet
Params are mutable, so it is possible without a rebuild). The backtest simulator
(``simulator.day_model``) therefore rebuilds a model over the remaining periods for a portfolio with
this family (slow, and daily budgets are re-sized over the remaining horizon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.exclusive import TwoWay
from optimizer.families import ev_sessions
from optimizer.families.common import FamilySchedule, ValueReader, param_init
from optimizer.families.protocol import Ordering, Restart, no_carry
from optimizer.problem import PrepareContext
from vpp.assets import EvHubSpec

RESTART: Restart = "day_start"
FORECAST_FIELDS: tuple[str, ...] = ()
DAY_VARYING: tuple[str, ...] | None = ()
ORDERED_VARS: Ordering | None = None
TWO_WAY = True
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class EvHubData:
    """EV-hub arrays. (A,) and (A, T) per hub; (V,) and (V, T) per vehicle. Units in the names.

    ``vehicle_hub[v]`` is the position of the vehicle's hub in ``ids``; ``vehicle_session[v]`` the
    position of its session in the hub's ``sessions``. ``fleet_max_mw`` and ``fleet_energy_mwh``
    are 0 for hubs without a fleet.
    """

    ids: list[str]
    vehicle_ids: list[str]
    vehicle_hub: np.ndarray
    vehicle_session: np.ndarray
    max_power_mw: np.ndarray
    connected: np.ndarray
    delivered_mwh: np.ndarray
    need_mwh: np.ndarray
    cap_mwh: np.ndarray
    shortfall_mwh: np.ndarray
    has_fleet: np.ndarray
    fleet_max_mw: np.ndarray
    fleet_energy_mwh: np.ndarray
    v2g: np.ndarray
    eta_charge: np.ndarray
    eta_discharge: np.ndarray
    v2g_degradation_cost_yuan_per_mwh: np.ndarray
    dt_h: np.ndarray
    exclusive: bool = True

    @property
    def vehicle_v2g(self) -> np.ndarray:
        """Boolean (V,): the vehicle's hub allows v2g."""
        return self.v2g[self.vehicle_hub]

    def hub_matrix(self) -> np.ndarray:
        """(A, V) 0/1 matrix summing per-vehicle arrays into their hubs."""
        out = np.zeros((len(self.ids), len(self.vehicle_ids)))
        out[self.vehicle_hub, np.arange(len(self.vehicle_ids))] = 1.0
        return out


def prepare(specs: list[EvHubSpec], ctx: PrepareContext) -> EvHubData:
    """EV-hub specs to arrays; sessions and fleets are placed by :mod:`optimizer.families.ev_sessions`.

    Initial-state keys, under the hub id: ``"s<k>.delivered_mwh"`` per session and
    ``fleet_delivered_mwh`` (module docstring).

    Raises
    ------
    InputError
        A fleet needs more energy than its chargers can give while available. (A session that
        cannot get its energy is served as far as possible, with an ``InputWarning``.)
    """
    vehicles = ev_sessions.vehicle_arrays(specs, ctx)
    fleets = ev_sessions.fleet_arrays(specs, ctx)
    return EvHubData(
        ids=[s.id for s in specs],
        vehicle_ids=vehicles.ids,
        vehicle_hub=vehicles.hub,
        vehicle_session=vehicles.session,
        max_power_mw=vehicles.max_power_mw,
        connected=vehicles.connected,
        delivered_mwh=vehicles.delivered_mwh,
        need_mwh=vehicles.need_mwh,
        cap_mwh=vehicles.cap_mwh,
        shortfall_mwh=vehicles.shortfall_mwh,
        has_fleet=fleets.has_fleet,
        fleet_max_mw=fleets.max_mw,
        fleet_energy_mwh=fleets.energy_mwh,
        v2g=np.array([s.v2g for s in specs]),
        eta_charge=np.array([s.charge_efficiency for s in specs]),
        eta_discharge=np.array([s.v2g_efficiency for s in specs]),
        v2g_degradation_cost_yuan_per_mwh=np.array([s.v2g_degradation_cost for s in specs]),
        dt_h=ctx.dt_h,
        exclusive=ctx.allow_binaries,
    )


def build(b: pyo.Block, data: EvHubData, m: pyo.ConcreteModel) -> None:
    """Create session, v2g and fleet variables, their energy constraints, ``net_mw`` and costs."""
    ids, vids = data.ids, data.vehicle_ids
    hpos = {a: i for i, a in enumerate(ids)}
    vpos = {v: i for i, v in enumerate(vids)}
    dt = data.dt_h
    last = len(dt) - 1
    power = data.max_power_mw
    eta_c = data.eta_charge[data.vehicle_hub]
    eta_d = data.eta_discharge[data.vehicle_hub]
    v2g = data.vehicle_v2g
    fleet_ids = [a for a in ids if data.has_fleet[hpos[a]]]
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.V = pyo.Set(initialize=vids, ordered=True)
    b.V1 = pyo.Set(initialize=[v for v in vids if not v2g[vpos[v]]], within=b.V, ordered=True)
    b.V2 = pyo.Set(initialize=[v for v in vids if v2g[vpos[v]]], within=b.V, ordered=True)
    b.AF = pyo.Set(initialize=fleet_ids, within=b.A, ordered=True)

    b.connected = pyo.Param(b.V, m.T, mutable=True, initialize=param_init(data.connected, vids))
    b.delivered_mwh = pyo.Param(b.V, mutable=True, initialize=per_key(data.delivered_mwh, vids))
    b.need_mwh = pyo.Param(b.V, mutable=True, initialize=per_key(data.need_mwh, vids))
    b.cap_mwh = pyo.Param(b.V, mutable=True, initialize=per_key(data.cap_mwh, vids))
    b.fleet_max_mw = pyo.Param(
        b.AF, m.T, mutable=True, initialize=param_init(data.fleet_max_mw[data.has_fleet], fleet_ids)
    )
    b.fleet_energy_mwh = pyo.Param(
        b.AF, mutable=True, initialize=per_key(data.fleet_energy_mwh[data.has_fleet], fleet_ids)
    )

    def plug_limit(b, v, t):
        return (0.0, power[vpos[v]] * b.connected[v, t])

    b.charge_mw = pyo.Var(b.V, m.T, bounds=plug_limit)
    b.discharge_mw = pyo.Var(b.V2, m.T, bounds=plug_limit)
    b.energy_mwh = pyo.Var(b.V2, m.T, bounds=lambda b, v, t: (0.0, b.cap_mwh[v]))
    b.fleet_charge_mw = pyo.Var(b.AF, m.T, bounds=lambda b, a, t: (0.0, b.fleet_max_mw[a, t]))

    b.session_energy = pyo.Constraint(
        b.V1,
        rule=lambda b, v: pyo.inequality(
            b.need_mwh[v] - b.delivered_mwh[v],
            sum(eta_c[vpos[v]] * dt[t] * b.charge_mw[v, t] for t in m.T),
            b.cap_mwh[v] - b.delivered_mwh[v],
        ),
    )
    b.charger_limit = pyo.Constraint(
        b.V2,
        m.T,
        rule=lambda b, v, t: b.charge_mw[v, t] + b.discharge_mw[v, t] <= power[vpos[v]] * b.connected[v, t],
    )

    def energy_balance(b, v, t):
        i = vpos[v]
        before = b.delivered_mwh[v] if t == 0 else b.energy_mwh[v, t - 1]
        return b.energy_mwh[v, t] == (
            before + eta_c[i] * dt[t] * b.charge_mw[v, t] - dt[t] / eta_d[i] * b.discharge_mw[v, t]
        )

    b.energy_balance = pyo.Constraint(b.V2, m.T, rule=energy_balance)
    b.departure_energy = pyo.Constraint(b.V2, rule=lambda b, v: b.energy_mwh[v, last] >= b.need_mwh[v])
    b.fleet_energy = pyo.Constraint(
        b.AF,
        rule=lambda b, a: (
            sum(data.eta_charge[hpos[a]] * dt[t] * b.fleet_charge_mw[a, t] for t in m.T)
            == b.fleet_energy_mwh[a]
        ),
    )

    vehicles_of: dict[str, list[str]] = {a: [] for a in ids}
    for v, h in zip(vids, data.vehicle_hub, strict=True):
        vehicles_of[ids[h]].append(v)
    fleet = set(fleet_ids)

    def net(b, a, t):
        vehicles = vehicles_of[a]
        expr = -sum(b.charge_mw[v, t] for v in vehicles)
        expr += sum(b.discharge_mw[v, t] for v in vehicles if v2g[vpos[v]])
        if a in fleet:
            expr -= b.fleet_charge_mw[a, t]
        return expr

    b.net_mw = pyo.Expression(b.A, m.T, rule=net)
    wear = data.v2g_degradation_cost_yuan_per_mwh[data.vehicle_hub]
    worn = [v for v in b.V2 if wear[vpos[v]] != 0]
    b.v2g_degradation_cost_yuan = pyo.Expression(
        expr=sum(wear[vpos[v]] * dt[t] * b.discharge_mw[v, t] for v in worn for t in m.T) if worn else 0.0
    )
    b.cost_terms = {"v2g_degradation": b.v2g_degradation_cost_yuan}


def two_way(b: pyo.Block, data: EvHubData) -> list[TwoWay]:
    """Charge and v2g discharge of every v2g vehicle and period: never both at once.

    :mod:`optimizer.exclusive` adds a binary where a solve does both (burning energy through the
    charger's losses pays at a negative price); ``exclusive = False`` leaves the LP relaxation.
    """
    v2g = np.flatnonzero(data.vehicle_v2g)
    if not data.exclusive or v2g.size == 0:
        return []
    n_periods = len(data.dt_h)
    keys = [(data.vehicle_ids[v], t) for v in v2g.tolist() for t in range(n_periods)]
    bound = np.repeat(data.max_power_mw[v2g], n_periods)
    return [TwoWay("v2g", b.charge_mw, b.discharge_mw, keys, bound, bound)]


def per_key(array: np.ndarray, keys: list[str]) -> dict[str, float]:
    """Initial values of a Param indexed by one set of string keys from a 1-d array."""
    return {k: float(v) for k, v in zip(keys, array, strict=True)}


def vehicle_schedule(b: pyo.Block, data: EvHubData, values: ValueReader) -> dict[str, np.ndarray]:
    """Solved per-vehicle ``charge_mw``, ``discharge_mw`` and ``energy_mwh`` (end of period), (V, T).

    ``energy_mwh`` is the energy at the battery above the vehicle's arrival state, including what
    was delivered before the horizon.
    """
    n_v, n_t = len(data.vehicle_ids), len(data.dt_h)
    v2g = data.vehicle_v2g
    charge = values(b.charge_mw).reshape(n_v, n_t)
    discharge = np.zeros((n_v, n_t))
    discharge[v2g] = values(b.discharge_mw).reshape(-1, n_t)
    delivered = np.fromiter((pyo.value(p) for p in b.delivered_mwh.values()), float, n_v)
    eta_c = data.eta_charge[data.vehicle_hub]
    energy = delivered[:, None] + np.cumsum(eta_c[:, None] * charge * data.dt_h, axis=1)
    energy[v2g] = values(b.energy_mwh).reshape(-1, n_t)
    return {"charge_mw": charge, "discharge_mw": discharge, "energy_mwh": energy}


def extract(b: pyo.Block, data: EvHubData, values: ValueReader) -> FamilySchedule:
    """Per hub (A, T): total, session and fleet charging (grid side) and v2g discharge."""
    n_t = len(data.dt_h)
    vehicles = vehicle_schedule(b, data, values)
    to_hub = data.hub_matrix()
    session_charge = to_hub @ vehicles["charge_mw"]
    discharge = to_hub @ vehicles["discharge_mw"]
    fleet_charge = np.zeros((len(data.ids), n_t))
    fleet_charge[data.has_fleet] = values(b.fleet_charge_mw).reshape(-1, n_t)
    charge = session_charge + fleet_charge
    wear = data.v2g_degradation_cost_yuan_per_mwh[data.vehicle_hub]
    return FamilySchedule(
        net_mw=discharge - charge,
        series={
            "charge_mw": charge,
            "discharge_mw": discharge,
            "session_charge_mw": session_charge,
            "fleet_charge_mw": fleet_charge,
        },
        costs_yuan={"v2g_degradation": float((wear[:, None] * vehicles["discharge_mw"] * data.dt_h).sum())},
    )


def restart(b: pyo.Block, data: EvHubData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Day start (``k = 0``): sessions of the new day start empty, so nothing carries over.

    Sessions must end within the trading day (``EvSession``), so no energy is owed across days.
    Within a day the past is pinned by :meth:`optimizer.solver.ModelSolver.carry_out` (backtests) or
    :meth:`~optimizer.solver.ModelSolver.restart_pinning_past` (the dispatch service).
    """
    if k != 0:
        raise ValueError(f"ev_hub restarts at the day start only (RESTART day_start), not at {k}")


carry = no_carry
