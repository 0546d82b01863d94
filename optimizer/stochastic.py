"""Two-stage stochastic day-ahead bidding: DA position first, real-time recourse per scenario.

Scenarios ``s`` (weights ``w[s]``) give DA and RT prices ``p_da[s,t]``, ``p_rt[s,t]`` (yuan/MWh).
The model holds copies of the whole fleet (every family block, built by the family's own
``build``; a copy is a sub-block with its own period set ``T``, fleet balance and group limits):

- ``rt[s]``: the physical dispatch in scenario ``s`` (recourse), fleet net ``net[s,t]`` (MW);
- the day-ahead side, which makes the DA position physically deliverable:

  * ``mode="quantity"``: one copy ``da``; the position is its fleet net, ``q[s,t] = q[t]``;
  * ``mode="price_quantity"``: two copies ``da_lo``, ``da_hi`` ordered asset by asset (battery
    ``charge_lo >= charge_hi``, ``discharge_lo <= discharge_hi``; PV ``output_lo <= output_hi``;
    any other family ``net_lo = net_hi``), and per scenario a position
    ``L[t] = net_lo[t] <= q[s,t] <= net_hi[t] = H[t]`` that does not decrease with the DA price of
    its period (for each ``t``, scenarios sorted by ``p_da[s,t]``; equal prices, equal positions).

Box feasibility (why any clearing of the derived curve can be delivered): any ``x`` with
``L[t] <= x[t] <= H[t]`` is the fleet net of the per-asset dispatch
``u[a,t] = lam[t] u_lo[a,t] + (1 - lam[t]) u_hi[a,t]``, ``lam[t] = (H[t]-x[t]) / (H[t]-L[t])``,
which is feasible: per-period limits are convex; with the ordering, a battery's energy step
(each of a virtual battery's two steps)
``eta_c c dt - d dt / eta_d`` of ``u`` lies between those of ``lo`` and ``hi`` in every period, so
by induction ``soc_hi[t] <= soc_u[t] <= soc_lo[t]`` (bounds, final energy and the cycle budget
hold); PV has no inter-period constraint; other families keep one schedule. Storage never charges
and discharges at once in any copy: binaries are added where a solve does
(:mod:`optimizer.exclusive`), and the model re-solved (:mod:`optimizer.escalation`); when the time
limit comes first, each storage period's direction is fixed from the last solution and one LP
solved (:mod:`optimizer.repair`: every copy, the ordering and the positions kept;
``StochasticResult.repaired``).

Scenario profit (yuan), period lengths ``dt[t]`` (h)::

    profit[s] = sum_t dt[t] * (p_da[s,t] q[s,t] + p_rt[s,t] (net[s,t] - q[s,t])) - cost(rt[s])

Objective, risk weight ``lam`` in [0, 1], confidence ``alpha`` (Rockafellar-Uryasev)::

    max (1 - lam) sum_s w[s] profit[s] + lam (eta - 1/(1-alpha) sum_s w[s] z[s])
    z[s] >= eta - profit[s],  z[s] >= 0

plus ``DA_COPY_COST_WEIGHT`` times the cost of the DA copies (they are feasibility certificates
and incur nothing; the tiny weight only picks a sensible internal split among equal optima).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from market.scenarios import PriceScenarios
from optimizer.escalation import Deadline, solve_exclusive
from optimizer.exclusive import Exclusivity
from optimizer.families import FAMILIES
from optimizer.highs_bridge import RawSolution, apply_options, compile_to_highs, read_highs
from optimizer.model import block_name, define_fleet_balance, define_group_limits, family_blocks, tiebreak
from optimizer.options import SolveOptions
from optimizer.problem import Problem
from optimizer.repair import aligned, repair
from vpp.errors import InfeasibleError, SolverError

Mode = Literal["quantity", "price_quantity"]

DA_COPY_COST_WEIGHT = 1e-6
"""Weight of the DA copies' own costs in the objective (a tie-breaker, see the module docstring)."""

@dataclass(frozen=True)
class StochasticOptions:
    """Settings of the two-stage model.

    Attributes
    ----------
    mode : {"quantity", "price_quantity"}
        One DA position for all scenarios, or positions that follow the DA price (a curve).
    cvar_weight : float
        ``lam`` in [0, 1]: 0 risk neutral, 1 pure CVaR.
    cvar_alpha : float
        Confidence level ``alpha`` in (0, 1): CVaR is the mean profit of the worst ``1 - alpha``.
    solve : SolveOptions
        HiGHS settings (the compiled hand-off is always used).
    """

    mode: Mode = "quantity"
    cvar_weight: float = 0.0
    cvar_alpha: float = 0.95
    solve: SolveOptions = field(default_factory=SolveOptions)

    def __post_init__(self) -> None:
        if not 0.0 <= self.cvar_weight <= 1.0:
            raise ValueError(f"cvar_weight {self.cvar_weight} outside [0, 1]")
        if not 0.0 < self.cvar_alpha < 1.0:
            raise ValueError(f"cvar_alpha {self.cvar_alpha} outside (0, 1)")
        if self.mode not in ("quantity", "price_quantity"):
            raise ValueError(f"unknown mode {self.mode!r}")


@dataclass(frozen=True)
class StochasticResult:
    """Solution of the two-stage model. Powers in MW (export positive), money in yuan.

    Attributes
    ----------
    scenarios : PriceScenarios
    dt_h : np.ndarray
        Period lengths (h), (T,).
    q_da_mw : np.ndarray
        DA position per scenario and period, (S, T); equal rows in ``quantity`` mode.
    lo_mw, hi_mw : np.ndarray
        Fleet net of the DA copies ``L[t]``, ``H[t]``, (T,) (equal in ``quantity`` mode).
    asset_lo_mw, asset_hi_mw : dict[str, np.ndarray]
        Per asset id, the DA copies' net export (T,).
    net_mw : np.ndarray
        Physical recourse dispatch per scenario, (S, T).
    profit_yuan : np.ndarray
        ``profit[s]``, (S,).
    objective_yuan, expected_profit_yuan, cvar_yuan : float
        Objective, ``sum_s w[s] profit[s]``, CVaR_alpha of the profit at the solution.
    seconds : dict[str, float]
        ``build``, ``handoff``, ``solve`` (s).
    n_variables, n_constraints : int
        LP size.
    repaired : bool
        The time limit was reached before storage stopped charging and discharging at once, and
        the schedule was repaired (:mod:`optimizer.repair`): feasible, not proven optimal.
    status, termination : str
        How the last solve ended, as :class:`optimizer.result.SolveStats` says it: ``optimal`` or
        ``feasible`` (a MIP incumbent at the time limit, or repaired); HiGHS's model status, or
        ``Repaired: ...``.
    mip_gap : float or None
        Relative MIP gap of the last solve (None for an LP and a repaired schedule).
    bound_yuan : float or None
        Proven bound of the optimal objective (yuan): the optimum lies between ``objective_yuan``
        and it. None when unknown.
    """

    scenarios: PriceScenarios
    dt_h: np.ndarray
    mode: str
    q_da_mw: np.ndarray
    lo_mw: np.ndarray
    hi_mw: np.ndarray
    asset_lo_mw: dict[str, np.ndarray]
    asset_hi_mw: dict[str, np.ndarray]
    net_mw: np.ndarray
    profit_yuan: np.ndarray
    objective_yuan: float
    expected_profit_yuan: float
    cvar_yuan: float
    seconds: dict[str, float]
    n_variables: int
    n_constraints: int
    repaired: bool = False
    status: str = "optimal"
    termination: str = "Optimal"
    mip_gap: float | None = None
    bound_yuan: float | None = None

    @property
    def bid_mw(self) -> np.ndarray:
        """Quantity bid (T,): the position of ``quantity`` mode, else the expected position."""
        return self.scenarios.weight @ self.q_da_mw


def cvar(profit: np.ndarray, weight: np.ndarray, alpha: float) -> float:
    """CVaR_alpha of a discrete profit distribution (yuan): mean of the worst ``1 - alpha`` mass.

    ``CVaR = max_eta eta - 1/(1-alpha) sum_s w[s] max(eta - profit[s], 0)``, attained at the
    alpha-quantile from below (VaR).
    """
    order = np.argsort(profit)
    p, w = np.asarray(profit, float)[order], np.asarray(weight, float)[order]
    tail = 1.0 - alpha
    take = np.minimum(w, np.maximum(tail - np.concatenate([[0.0], np.cumsum(w)[:-1]]), 0.0))
    return float((take * p).sum() / tail)


def _fleet_copy(m: pyo.ConcreteModel, name: str, problem: Problem) -> pyo.Block:
    """Attach block ``name`` with one block per family, ``net_mw[t]``, balance, group limits, cost."""
    b = pyo.Block()
    m.add_component(name, b)
    b.T = pyo.Set(initialize=range(problem.n_periods), ordered=True)
    for family, module in FAMILIES.items():
        data = problem.families.get(family)
        if data is None:
            continue
        blk = pyo.Block()
        b.add_component(block_name(family), blk)
        module.build(blk, data, b)  # families read only ``.T`` from their model argument
    define_fleet_balance(b, problem)
    define_group_limits(b, problem)
    terms = [term for _, blk in family_blocks(b) for term in blk.cost_terms.values()]
    b.cost_yuan = pyo.Expression(expr=sum(terms) if terms else 0.0)
    return b


def _order_copies(m: pyo.ConcreteModel, lo: pyo.Block, hi: pyo.Block) -> None:
    """Asset-by-asset ordering of ``lo`` and ``hi`` (each family's ``ORDERED_VARS``: +1 means
    ``lo <= hi``, -1 ``lo >= hi``, None equal nets)."""
    m.da_order = pyo.ConstraintList()
    for family, blk_lo in family_blocks(lo):
        blk_hi = getattr(hi, block_name(family))
        rules = FAMILIES[family].ORDERED_VARS
        if rules is None:
            for key in blk_lo.net_mw:
                m.da_order.add(blk_lo.net_mw[key] == blk_hi.net_mw[key])
            continue
        for var, sign in rules:
            v_lo, v_hi = getattr(blk_lo, var), getattr(blk_hi, var)
            for key in v_lo:
                m.da_order.add(sign * (v_hi[key] - v_lo[key]) >= 0)


def build_stochastic_model(
    problem: Problem, scenarios: PriceScenarios, options: StochasticOptions | None = None
) -> pyo.ConcreteModel:
    """Build the two-stage model (module docstring). ``problem.price`` is not used."""
    options = options or StochasticOptions()
    n_s, n_t = scenarios.da.shape
    if n_t != problem.n_periods:
        raise ValueError(f"scenarios have {n_t} periods, the problem {problem.n_periods}")
    m = pyo.ConcreteModel(name="vpp_stochastic")
    m.T = pyo.Set(initialize=range(n_t), ordered=True)
    m.S = pyo.Set(initialize=range(n_s), ordered=True)
    dt = problem.dt_h
    if options.mode == "quantity":
        da = _fleet_copy(m, "da", problem)
        lo = hi = da
        m.q = pyo.Expression(m.S, m.T, rule=lambda m, s, t: da.net_mw[t])
        da_cost = da.cost_yuan
    else:
        lo, hi = _fleet_copy(m, "da_lo", problem), _fleet_copy(m, "da_hi", problem)
        _order_copies(m, lo, hi)
        m.q = pyo.Var(m.S, m.T)
        m.q_lo = pyo.Constraint(m.S, m.T, rule=lambda m, s, t: m.q[s, t] >= lo.net_mw[t])
        m.q_hi = pyo.Constraint(m.S, m.T, rule=lambda m, s, t: m.q[s, t] <= hi.net_mw[t])
        m.q_monotone = pyo.ConstraintList()
        for t in range(n_t):
            order = np.argsort(scenarios.da[:, t], kind="stable")
            for a, b in itertools.pairwise(order):
                if scenarios.da[b, t] - scenarios.da[a, t] <= 1e-9:
                    m.q_monotone.add(m.q[int(a), t] == m.q[int(b), t])
                else:
                    m.q_monotone.add(m.q[int(a), t] <= m.q[int(b), t])
        da_cost = lo.cost_yuan + hi.cost_yuan
    rts = [_fleet_copy(m, f"rt_{s}", problem) for s in range(n_s)]
    m.rt_blocks = rts  # plain attribute: the scenario blocks in order

    def profit(m, s):
        b = rts[s]
        pda, prt = scenarios.da[s], scenarios.rt[s]
        return sum(
            dt[t] * (pda[t] * m.q[s, t] + prt[t] * (b.net_mw[t] - m.q[s, t])) for t in range(n_t)
        ) - b.cost_yuan

    m.profit_yuan = pyo.Expression(m.S, rule=profit)
    w = scenarios.weight
    expected = sum(float(w[s]) * m.profit_yuan[s] for s in range(n_s))
    lam, alpha = options.cvar_weight, options.cvar_alpha
    objective = expected
    if lam > 0:
        m.eta = pyo.Var()
        m.z = pyo.Var(m.S, bounds=(0.0, None))
        m.cvar_tail = pyo.Constraint(m.S, rule=lambda m, s: m.z[s] >= m.eta - m.profit_yuan[s])
        cvar_expr = m.eta - sum(float(w[s]) * m.z[s] for s in range(n_s)) / (1.0 - alpha)
        objective = (1.0 - lam) * expected + lam * cvar_expr
    copies = [lo] if lo is hi else [lo, hi]
    spill = sum(tiebreak(c) for c in copies) + sum(float(w[s]) * tiebreak(rts[s]) for s in range(n_s))
    m.total_yuan = pyo.Objective(expr=objective - DA_COPY_COST_WEIGHT * da_cost - spill, sense=pyo.maximize)
    m._copies = (lo, hi)
    return m


def solve_stochastic(
    problem: Problem,
    scenarios: PriceScenarios,
    options: StochasticOptions | None = None,
    *,
    asset_positions: bool = True,
) -> StochasticResult:
    """Build, compile to HiGHS in one call, solve and read the two-stage model.

    Parameters
    ----------
    problem : Problem
        The day's problem (its ``price`` is ignored); prepared without binaries.
    scenarios : PriceScenarios
        DA and RT price scenarios with weights.
    options : StochasticOptions, optional
    asset_positions : bool
        Read the per-asset nets of the DA copies (needed to split a cleared curve).

    Raises
    ------
    InfeasibleError, SolverError
        HiGHS found no feasible point / stopped without a solution; SolverError also when the
        time limit was reached while storage still charged and discharged at once and the repair
        failed (a repaired schedule is returned with ``repaired`` True: feasible, not proven optimal).
    """
    options = options or StochasticOptions()
    start = time.perf_counter()
    m = build_stochastic_model(problem, scenarios, options)
    build_s = time.perf_counter() - start
    exclusivity = _exclusivity(m, problem)
    runs = _CompiledRuns(m, exclusivity, options.solve, problem.index)
    ended = solve_exclusive(
        runs.solve_once, exclusivity, lambda raw: _reader(raw.col_value, raw.column_of), runs.repair,
        Deadline(options.solve.time_limit_s),
    )
    highs, col, column_of = runs.highs, ended.raw.col_value, ended.raw.column_of
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        j = column_of.get(id(v))
        if j is not None:
            v.set_value(float(col[j]), skip_validation=True)
    n_s, n_t = scenarios.da.shape
    lo, hi = m._copies
    q = np.array([[pyo.value(m.q[s, t]) for t in range(n_t)] for s in range(n_s)])
    net = np.array([[pyo.value(b.net_mw[t]) for t in range(n_t)] for b in m.rt_blocks])
    profit = np.array([pyo.value(m.profit_yuan[s]) for s in range(n_s)])
    asset_lo, asset_hi = {}, {}
    if asset_positions:
        asset_lo, asset_hi = _asset_nets(lo, n_t), _asset_nets(hi, n_t)
    return StochasticResult(
        scenarios=scenarios,
        dt_h=np.asarray(problem.dt_h, dtype=float),
        mode=options.mode,
        q_da_mw=q,
        lo_mw=np.array([pyo.value(lo.net_mw[t]) for t in range(n_t)]),
        hi_mw=np.array([pyo.value(hi.net_mw[t]) for t in range(n_t)]),
        asset_lo_mw=asset_lo,
        asset_hi_mw=asset_hi,
        net_mw=net,
        profit_yuan=profit,
        objective_yuan=float(pyo.value(m.total_yuan)),
        expected_profit_yuan=float(scenarios.weight @ profit),
        cvar_yuan=cvar(profit, scenarios.weight, options.cvar_alpha),
        seconds={"build": build_s, "handoff": ended.handoff_seconds, "solve": ended.highs_seconds},
        n_variables=highs.getNumCol(),
        n_constraints=highs.getNumRow(),
        repaired=ended.repaired,
        status=ended.raw.status,
        termination=ended.raw.termination,
        mip_gap=ended.raw.mip_gap if exclusivity.n_binaries else None,
        bound_yuan=ended.raw.bound,
    )


class _CompiledRuns:
    """Solves of the two-stage model, compiled into a new HiGHS each time (binaries come between)."""

    def __init__(
        self, m: pyo.ConcreteModel, exclusivity: Exclusivity, options: SolveOptions, index: pd.DatetimeIndex
    ) -> None:
        self.m, self.exclusivity, self.options, self.index = m, exclusivity, options, index
        self.highs: highspy.Highs | None = None
        """The HiGHS of the last solve."""
        self.column_of: dict[int, int] = {}
        """Its ``id(VarData) -> column``."""

    def solve_once(self, deadline: Deadline) -> tuple[RawSolution, float]:
        """Compile, run within ``deadline``, read (:data:`optimizer.escalation.SolveOnce`)."""
        start = time.perf_counter()
        highs, column_of = compile_to_highs(self.m)
        apply_options(highs, self.options, time_limit_s=deadline.left(), mip=self.exclusivity.n_binaries > 0)
        handoff_s = time.perf_counter() - start
        start = time.perf_counter()
        highs.run()
        self.highs, self.column_of = highs, column_of
        raw = read_highs(highs, column_of, time.perf_counter() - start, sense=-1.0)  # it minimises -objective
        if raw.status == "infeasible":
            raise InfeasibleError("the stochastic model is infeasible: the fleet cannot meet its constraints")
        if raw.status == "no_solution":
            raise SolverError(f"HiGHS stopped without a solution: {raw.termination}")
        return raw, handoff_s

    def repair(self, last: RawSolution) -> tuple[RawSolution, float]:
        """The repaired schedule of ``last`` in the last solve's HiGHS (:func:`optimizer.repair.repair`)."""
        raw = repair(
            self.highs, self.column_of, aligned(last, self.column_of), self.exclusivity, self.options,
            sense=-1.0, bound=last.bound, index=self.index,
        )
        return raw, 0.0


def _exclusivity(m: pyo.ConcreteModel, problem: Problem) -> Exclusivity:
    """The two-way flows of every fleet copy of ``m`` (see :mod:`optimizer.exclusive`)."""
    lo, hi = m._copies
    copies = [lo] if lo is hi else [lo, hi]
    pairs = []
    for copy in [*copies, *m.rt_blocks]:
        for family, blk in family_blocks(copy):
            module = FAMILIES[family]
            if module.TWO_WAY:
                pairs.extend((blk, pair) for pair in module.two_way(blk, problem.families[family]))
    return Exclusivity(pairs)


def _reader(solution: np.ndarray, column_of: dict[int, int]):
    """``values(vars) -> solution values`` of a list of VarData."""

    def values(variables: list) -> np.ndarray:
        cols = np.fromiter((column_of.get(id(v), -1) for v in variables), np.int64, len(variables))
        return np.where(cols >= 0, solution[np.maximum(cols, 0)], 0.0)

    return values


def _asset_nets(copy: pyo.Block, n_t: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for _, blk in family_blocks(copy):
        for a in blk.A:
            out[a] = np.array([pyo.value(blk.net_mw[a, t]) for t in range(n_t)])
    return out
