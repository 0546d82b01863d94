"""Generator family: gas gensets and CHP units, with unit commitment only where the physics needs it.

Sets: ``A`` (generator ids), ``C`` (the committed subset: units with a minimum output, a start-up
cost or a minimum up/down time, ``GeneratorSpec.needs_commitment``), ``R`` (ramp-limited units
whose ramp can bind), ``J`` (committed units in ``R`` with a start-up jump, below), ``U``/``D``
(committed units with a minimum up/down time), the model's ``T``.
With ``dt[t]`` the period length (h) and ``s[t]`` the start of period t (h from the horizon
start)::

    0 <= output_mw[a,t] <= max_mw[a]                                   (MW, every unit)
    on[c,t], start[c,t], stop[c,t] in {0, 1}                           (c in C only; [0, 1] when
                                                                        binaries are not allowed)
    generator_output_min:  output_mw[c,t] >= min_mw[c] * on[c,t]       (only where min_mw > 0)
    generator_output_max:  output_mw[c,t] <= max_mw[c] * on[c,t]
    generator_transition:  start[c,t] - stop[c,t] = on[c,t] - on[c,t-1]   (on[c,-1] = on0[c])
    generator_ramp_up:    output_mw[a,t] - output_mw[a,t-1] <= ramp[a] * dt[t] + jump[a,t] * start[a,t]
    generator_ramp_down:  output_mw[a,t-1] - output_mw[a,t] <= ramp[a] * dt[t] + jump[a,t] * stop[a,t]
                          (a in R; output_mw[a,-1] = output0_mw[a] (MW); ramp in MW/h; jump in MW)
    generator_start_stop: start[c,t] + stop[c,t] <= 1                  (c in J)
    generator_min_up:     sum_{tau in Wup(c,t)} start[c,tau] <= on[c,t]        (c in U)
    generator_min_down:   sum_{tau in Wdown(c,t)} stop[c,tau] <= 1 - on[c,t]   (c in D)
    on_min[c,t] <= on[c,t] <= on_max[c,t]                              (initial state, see below)
    net_mw[a,t] = output_mw[a,t]
    cost fuel    = sum marginal_cost[a] * output_mw[a,t] * dt[t]        (yuan; marginal_cost in yuan/MWh)
    cost startup = sum startup_cost[c] * start[c,t]                     (yuan; startup_cost in yuan per start)

``Wup(c,t)`` holds the periods tau <= t that started less than ``min_up_hours`` before period t
starts (``s[t] - s[tau] < min_up_hours``); with a constant ``dt`` that is the standard window
``t-U+1 .. t`` with ``U = ceil(min_up_hours / dt)`` periods. ``Wdown`` likewise with
``min_down_hours``.

``jump[c,t] = max(min_mw[c] - ramp[c] * dt[t], 0)`` for committed units (0 otherwise): a unit whose
minimum output exceeds one period's ramp can still start (straight to at most ``min_mw``) and stop
(from at most ``min_mw``); without it such a unit could never change state. When the ramp covers
the minimum output the ramp rows are exactly ``|output[t] - output[t-1]| <= ramp * dt[t]``.
``generator_start_stop`` stops a zero-cost start/stop pair from loosening the ramp.

Initial state (overrides in ``initial_state[asset_id]``: ``on`` (0/1), ``output_mw``,
``hours_in_state``): a unit on for ``h0`` hours must stay on in every period with
``s[t] < min_up_hours - h0`` (``on_min = 1``); a unit off for ``h0`` hours must stay off while
``s[t] < min_down_hours - h0`` (``on_max = 0``). ``on0``, ``output0_mw``, ``on_min`` and ``on_max``
are mutable Params: a real-time re-solve sets them (see :func:`forced_states`) without rebuilding.
The initial output is clipped to ``[min_mw, max_mw]`` for a committed unit that is on and to
``[0, max_mw]`` otherwise; a committed unit that is off with an output above 1e-6 MW is an input
error.

Real-time restart: ``restart`` sets the state before the day only (within a day the past is
pinned by ``ModelSolver.carry_out``); the output bounds are not mutable Params, so
the output before period ``k`` cannot be pinned to what the unit did. The backtest simulator
(``simulator.day_model``) therefore rebuilds a model over the remaining periods for a portfolio with
this family (slow, and daily budgets are re-sized over the remaining horizon).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import FamilySchedule, ValueReader, as_matrix, param_init
from optimizer.families.protocol import Ordering, Restart, SeriesAt
from optimizer.problem import PrepareContext
from vpp.assets import GeneratorSpec
from vpp.assets.generator import HOURS_IN_STATE, ON, OUTPUT_MW
from vpp.errors import InputError

_EPS_H = 1e-9
"""Tolerance (h) when comparing times, so 0.75 h is three 15-minute periods exactly."""

_OUTPUT_TOL_MW = 1e-6
"""Initial output (MW) of a unit that is off taken as solver noise (set to 0) rather than an error."""


RESTART: Restart = "day_start"
FORECAST_FIELDS: tuple[str, ...] = ()
DAY_VARYING: tuple[str, ...] | None = ("on0", "output0_mw", "hours_in_state0", "on_min", "on_max")
ORDERED_VARS: Ordering | None = None
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class GeneratorData:
    """Generator arrays: (A,) per asset, (A, T) per asset and period. Units in the names.

    ``committed`` flags the units with binaries; ``commit_ids`` lists them in order. ``up_first``
    and ``down_first`` give, per unit and period t, the first period of the minimum up/down
    window ending at t (t + 1 when the unit has no such limit).
    """

    ids: list[str]
    commit_ids: list[str]
    committed: np.ndarray
    min_mw: np.ndarray
    max_mw: np.ndarray
    ramp_mw: np.ndarray
    jump_mw: np.ndarray
    ramp_limited: np.ndarray
    marginal_cost_yuan_per_mwh: np.ndarray
    startup_cost_yuan: np.ndarray
    min_up_hours: np.ndarray
    min_down_hours: np.ndarray
    up_first: np.ndarray
    down_first: np.ndarray
    on0: np.ndarray
    output0_mw: np.ndarray
    hours_in_state0: np.ndarray
    on_min: np.ndarray
    on_max: np.ndarray
    binary: bool
    dt_h: np.ndarray


def period_starts_h(dt_h: np.ndarray) -> np.ndarray:
    """Start of each period in hours from the horizon start, shape (T,)."""
    return np.concatenate([[0.0], np.cumsum(dt_h)[:-1]])


def window_first(dt_h: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """First period of the window of ``hours`` (per asset) ending at each period, shape (A, T).

    The window ending at t holds every tau <= t with ``s[t] - s[tau] < hours``; ``hours`` 0 gives
    an empty window (first = t + 1).
    """
    s = period_starts_h(dt_h)
    target = s[None, :] - hours[:, None] + _EPS_H
    return np.searchsorted(s, target.ravel(), side="right").reshape(target.shape)


def forced_states(
    dt_h: np.ndarray,
    on0: np.ndarray,
    hours_in_state: np.ndarray,
    min_up_hours: np.ndarray,
    min_down_hours: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``(on_min, on_max)`` of ``on`` (A, T) that carry minimum up/down time over from before.

    A unit on for ``hours_in_state`` hours must stay on while ``s[t] < min_up - hours``; a unit
    off must stay off while ``s[t] < min_down - hours``.
    """
    s = period_starts_h(dt_h)[None, :]
    on = on0[:, None] > 0.5
    held_on = on & (s < (min_up_hours - hours_in_state)[:, None] - _EPS_H)
    held_off = ~on & (s < (min_down_hours - hours_in_state)[:, None] - _EPS_H)
    return held_on.astype(float), 1.0 - held_off.astype(float)


def prepare(specs: list[GeneratorSpec], ctx: PrepareContext) -> GeneratorData:
    """Generator specs to arrays; initial-state keys ``on``, ``output_mw``, ``hours_in_state``."""
    dt = ctx.dt_h
    committed = np.array([s.needs_commitment for s in specs], dtype=bool)
    min_mw = np.array([s.min_mw for s in specs])
    max_mw = np.array([s.max_mw for s in specs])
    ramp_per_h = np.array([np.inf if s.ramp_mw_per_hour is None else s.ramp_mw_per_hour for s in specs])
    ramp = ramp_per_h[:, None] * dt[None, :]
    ramp_limited = (ramp < max_mw[:, None]).any(axis=1)
    jump = np.where((committed & ramp_limited)[:, None], np.maximum(min_mw[:, None] - ramp, 0.0), 0.0)
    min_up = np.where(committed, [s.min_up_hours for s in specs], 0.0)
    min_down = np.where(committed, [s.min_down_hours for s in specs], 0.0)
    on0 = np.array([ctx.state(s.id, "on", float(s.initial_on)) > 0.5 for s in specs])
    output0 = np.array([ctx.state(s.id, "output_mw", s.initial_output_mw) for s in specs])
    hours0 = np.array([ctx.state(s.id, "hours_in_state", s.initial_hours_in_state) for s in specs])
    off_but_running = committed & ~on0 & (output0 > _OUTPUT_TOL_MW)
    if off_but_running.any():
        i = int(np.flatnonzero(off_but_running)[0])
        raise InputError(
            f"generator '{specs[i].id}' is off at the start but has an initial output of {output0[i]:g} MW",
            field=f"{specs[i].id}.initial_output_mw",
        )
    low = np.where(committed & on0, min_mw, 0.0)
    output0 = np.clip(output0, low, max_mw)
    on_min, on_max = forced_states(dt, on0.astype(float), hours0, min_up, min_down)
    return GeneratorData(
        ids=[s.id for s in specs],
        commit_ids=[s.id for s, c in zip(specs, committed, strict=True) if c],
        committed=committed,
        min_mw=min_mw,
        max_mw=max_mw,
        ramp_mw=ramp,
        jump_mw=jump,
        ramp_limited=ramp_limited,
        marginal_cost_yuan_per_mwh=np.array([s.marginal_cost for s in specs]),
        startup_cost_yuan=np.array([s.startup_cost for s in specs]),
        min_up_hours=min_up,
        min_down_hours=min_down,
        up_first=window_first(dt, min_up),
        down_first=window_first(dt, min_down),
        on0=on0.astype(float),
        output0_mw=output0,
        hours_in_state0=hours0,
        on_min=on_min[committed],
        on_max=on_max[committed],
        binary=ctx.allow_binaries,
        dt_h=dt,
    )


def build(b: pyo.Block, data: GeneratorData, m: pyo.ConcreteModel) -> None:
    """Create generator outputs, commitment, ramps, ``net_mw`` and the fuel/start-up costs on ``b``."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    commit = data.commit_ids
    dt = data.dt_h
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.C = pyo.Set(initialize=commit, ordered=True)
    b.output0_mw = pyo.Param(
        b.A, mutable=True, initialize=dict(zip(ids, data.output0_mw.tolist(), strict=True))
    )
    b.output_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, data.max_mw[pos[a]]))
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: b.output_mw[a, t])

    # -- unit commitment (committed subset only) ------------------------------------------------
    domain = pyo.Binary if data.binary else pyo.UnitInterval
    b.on0 = pyo.Param(b.C, mutable=True, initialize={a: float(data.on0[pos[a]]) for a in commit})
    b.on_min = pyo.Param(b.C, m.T, mutable=True, initialize=param_init(data.on_min, commit))
    b.on_max = pyo.Param(b.C, m.T, mutable=True, initialize=param_init(data.on_max, commit))
    b.on = pyo.Var(b.C, m.T, domain=domain, bounds=lambda b, a, t: (b.on_min[a, t], b.on_max[a, t]))
    b.start = pyo.Var(b.C, m.T, domain=domain)
    b.stop = pyo.Var(b.C, m.T, domain=domain)

    def output_min(b, a, t):
        lo = data.min_mw[pos[a]]
        return b.output_mw[a, t] >= lo * b.on[a, t] if lo > 0 else pyo.Constraint.Skip

    def transition(b, a, t):
        before = b.on0[a] if t == 0 else b.on[a, t - 1]
        return b.start[a, t] - b.stop[a, t] == b.on[a, t] - before

    b.output_min = pyo.Constraint(b.C, m.T, rule=output_min)
    b.output_max = pyo.Constraint(
        b.C, m.T, rule=lambda b, a, t: b.output_mw[a, t] <= data.max_mw[pos[a]] * b.on[a, t]
    )
    b.transition = pyo.Constraint(b.C, m.T, rule=transition)

    up = [a for a in commit if data.min_up_hours[pos[a]] > 0]
    down = [a for a in commit if data.min_down_hours[pos[a]] > 0]
    b.U = pyo.Set(initialize=up, ordered=True)
    b.D = pyo.Set(initialize=down, ordered=True)
    b.min_up = pyo.Constraint(
        b.U,
        m.T,
        rule=lambda b, a, t: (
            sum(b.start[a, tau] for tau in range(int(data.up_first[pos[a], t]), t + 1)) <= b.on[a, t]
        ),
    )
    b.min_down = pyo.Constraint(
        b.D,
        m.T,
        rule=lambda b, a, t: (
            sum(b.stop[a, tau] for tau in range(int(data.down_first[pos[a], t]), t + 1)) <= 1 - b.on[a, t]
        ),
    )

    # -- ramps ------------------------------------------------------------------------------------
    ramped = [a for a in ids if data.ramp_limited[pos[a]]]
    jumping = [a for a in ramped if data.jump_mw[pos[a]].max() > 0]
    b.R = pyo.Set(initialize=ramped, ordered=True)

    def ramp(b, a, t, direction):
        i = pos[a]
        before = b.output0_mw[a] if t == 0 else b.output_mw[a, t - 1]
        change = b.output_mw[a, t] - before if direction == "up" else before - b.output_mw[a, t]
        limit = data.ramp_mw[i, t]
        if data.jump_mw[i, t] > 0:
            switch = b.start[a, t] if direction == "up" else b.stop[a, t]
            return change <= limit + data.jump_mw[i, t] * switch
        return change <= limit

    b.ramp_up = pyo.Constraint(b.R, m.T, rule=lambda b, a, t: ramp(b, a, t, "up"))
    b.ramp_down = pyo.Constraint(b.R, m.T, rule=lambda b, a, t: ramp(b, a, t, "down"))
    b.J = pyo.Set(initialize=jumping, ordered=True)
    b.start_stop = pyo.Constraint(b.J, m.T, rule=lambda b, a, t: b.start[a, t] + b.stop[a, t] <= 1)

    # -- costs ------------------------------------------------------------------------------------
    fuel_weight = data.marginal_cost_yuan_per_mwh[:, None] * dt[None, :]
    fueled = [a for a in ids if data.marginal_cost_yuan_per_mwh[pos[a]] != 0]
    started = [a for a in commit if data.startup_cost_yuan[pos[a]] > 0]
    b.fuel_cost_yuan = pyo.Expression(
        rule=lambda b: sum(fuel_weight[pos[a], t] * b.output_mw[a, t] for a in fueled for t in m.T)
    )
    b.startup_cost_yuan = pyo.Expression(
        rule=lambda b: sum(data.startup_cost_yuan[pos[a]] * b.start[a, t] for a in started for t in m.T)
    )
    b.cost_terms = {"fuel": b.fuel_cost_yuan, "startup": b.startup_cost_yuan}


def extract(b: pyo.Block, data: GeneratorData, values: ValueReader) -> FamilySchedule:
    """Solved output and on/off state (0/1; fractional only when binaries were relaxed), each (A, T)."""
    n_assets, n_periods = len(data.ids), len(data.dt_h)
    output = as_matrix(values, b.output_mw, n_assets)
    on = (output > 1e-6).astype(float)
    startup = 0.0
    if data.commit_ids:
        n_commit = len(data.commit_ids)
        on_c = np.clip(values(b.on).reshape(n_commit, n_periods), 0.0, 1.0)
        start = np.clip(values(b.start).reshape(n_commit, n_periods), 0.0, 1.0)
        if data.binary:
            on_c, start = np.round(on_c), np.round(start)
        on[data.committed] = on_c
        startup = float((data.startup_cost_yuan[data.committed, None] * start).sum())
    fuel = float((data.marginal_cost_yuan_per_mwh[:, None] * output * data.dt_h).sum())
    return FamilySchedule(
        net_mw=output,
        series={"output_mw": output, "on": on},
        costs_yuan={"fuel": fuel, "startup": startup},
    )


def restart(b: pyo.Block, data: GeneratorData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Set each unit's state before the horizon from ``state`` (day start, ``k = 0``).

    Keys per asset: ``on`` (0/1), ``output_mw`` (MW), ``hours_in_state`` (h); missing keys keep the
    prepared values. The minimum up/down carry-over bounds ``on_min``/``on_max`` are recomputed.
    Within a day the past is pinned instead, by :meth:`optimizer.solver.ModelSolver.carry_out`
    (backtests) or :meth:`~optimizer.solver.ModelSolver.restart_pinning_past` (the dispatch service).
    """
    if k != 0:
        raise ValueError(f"generator restarts at the day start only (RESTART day_start), not at {k}")
    on0 = np.array([float(state.get(a, {}).get("on", data.on0[i])) for i, a in enumerate(data.ids)])
    output0 = np.array(
        [float(state.get(a, {}).get("output_mw", data.output0_mw[i])) for i, a in enumerate(data.ids)]
    )
    hours = np.array(
        [
            float(state.get(a, {}).get("hours_in_state", data.hours_in_state0[i]))
            for i, a in enumerate(data.ids)
        ]
    )
    output0 = np.clip(output0, np.where(data.committed & (on0 > 0.5), data.min_mw, 0.0), data.max_mw)
    on_min, on_max = forced_states(data.dt_h, on0, hours, data.min_up_hours, data.min_down_hours)
    pos = {a: i for i, a in enumerate(data.ids)}
    for a in data.ids:
        if a in b.output0_mw:
            b.output0_mw[a] = float(output0[pos[a]])
    for a in data.commit_ids:
        i = pos[a]
        b.on0[a] = float(on0[i] > 0.5)
        for t in range(len(data.dt_h)):
            b.on_min[a, t] = float(on_min[i, t])
            b.on_max[a, t] = float(on_max[i, t])


def carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """Commitment, output (MW) and hours in the current on/off state (h)."""
    output, on = at("output_mw"), at("on")
    if output is not None:
        entry[OUTPUT_MW.name] = output
    if on is None and output is not None:
        on = float(output > 1e-9)
    if on is not None:
        on = float(round(on))
        same = entry.get(ON.name, on) == on
        entry[HOURS_IN_STATE.name] = (entry.get(HOURS_IN_STATE.name, 0.0) if same else 0.0) + dt_h
        entry[ON.name] = on
