"""A raw-highspy twin of the Pyomo model: the same LP, assembled straight from a :class:`Problem`.

The cross-check and the floor for benchmarks (``shared/PERFORMANCE.md``): every block of rows and
columns is built for all assets x periods at once with numpy (no Python loop over assets or
periods), the matrix is assembled once with ``scipy.sparse`` and handed to HiGHS with a single
``passModel``. HiGHS minimises ``-(revenue - costs)``.

Columns, per family (shape (A, T) unless noted), plus the fleet net ``net_mw[t]`` (T,)::

    battery        charge_mw, discharge_mw, soc_mwh
    pv             output_mw
    load           none (a constant in the balances)
    flexible_load  consumption_mw; curtailed_mwh (A_c,) for loads with a curtailment cost

Rows (the same equations as ``optimizer/families/*.py`` and ``optimizer/model.py``)::

    battery soc_balance  soc[a,t] - retention[a,t] soc[a,t-1] - eta_c dt c[a,t] + dt/eta_d d[a,t]
                           = retention[a,0] soc0[a] if t == 0 else 0
    battery soc_final    soc[a,T-1] >= soc_final[a]
    battery cycles       sum_t dt d[a,t] <= max_discharge[a]               (limited batteries only)
    flexible energy_max  sum_t dt x[a,t] <= energy_max[a]
    flexible energy_min  sum_t dt x[a,t] + curtailed[a] >= energy_min[a]
    fleet_balance        net[t] - sum of variable asset nets = sum of constant asset nets
    group_limit          -import[g] - const[g,t] <= sum_{a in g} variable net[a,t] <= export[g] - const[g,t]

Objective (min)::

    - sum_t price[t] dt[t] net[t] + sum degradation[a] dt d[a,t]
    - sum curtailment[a] dt output[a,t] + curtailment cost[a] * curtailed[a]
    + offset = sum curtailment[a] dt available[a,t]

Only the LP case: batteries get binaries in negative-price periods, which this twin does not
build (it raises :class:`NotImplementedError`); with all prices >= 0 the model has none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.highs_bridge import use_scheduler_threads
from optimizer.highs_setup import new_highs
from optimizer.problem import Problem

SUPPORTED_FAMILIES = ("battery", "pv", "load", "flexible_load")
"""Families this twin can build."""


@dataclass(frozen=True)
class RawResult:
    """Result of a raw-highspy solve.

    Attributes
    ----------
    objective_yuan : float
        Revenue minus costs (yuan), same definition as ``ScheduleResult.objective_yuan``.
    net_mw : np.ndarray
        Fleet net export per period (MW, export positive), shape (T,).
    seconds_build : float
        Assembling the LP and ``passModel`` (s).
    seconds_solve : float
        HiGHS ``run`` (s).
    status : str
        HiGHS model status, e.g. ``Optimal``.
    n_columns, n_rows, n_nonzeros : int
        Size of the LP.
    """

    objective_yuan: float
    net_mw: np.ndarray
    seconds_build: float
    seconds_solve: float
    status: str = "Optimal"
    n_columns: int = 0
    n_rows: int = 0
    n_nonzeros: int = 0


@dataclass
class _Assembly:
    """Columns, rows and COO entries collected block by block (all numpy)."""

    col_lower: list[np.ndarray] = field(default_factory=list)
    col_upper: list[np.ndarray] = field(default_factory=list)
    col_cost: list[np.ndarray] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)
    entry_rows: list[np.ndarray] = field(default_factory=list)
    entry_cols: list[np.ndarray] = field(default_factory=list)
    entry_vals: list[np.ndarray] = field(default_factory=list)
    n_col: int = 0
    n_row: int = 0
    offset: float = 0.0

    def cols(self, lower: np.ndarray, upper: np.ndarray, cost: np.ndarray | float = 0.0) -> np.ndarray:
        """Add columns shaped like ``lower``; return their indices in that shape."""
        lower = np.asarray(lower, dtype=float)
        shape = lower.shape
        idx = np.arange(self.n_col, self.n_col + lower.size).reshape(shape)
        self.n_col += lower.size
        self.col_lower.append(lower.ravel())
        self.col_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), shape).ravel())
        self.col_cost.append(np.broadcast_to(np.asarray(cost, dtype=float), shape).ravel())
        return idx

    def rows(
        self, lower: np.ndarray | float, upper: np.ndarray | float, shape: tuple[int, ...]
    ) -> np.ndarray:
        """Add rows of ``shape`` with bounds ``lower <= row <= upper``; return their indices."""
        size = int(np.prod(shape))
        idx = np.arange(self.n_row, self.n_row + size).reshape(shape)
        self.n_row += size
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), shape).ravel())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), shape).ravel())
        return idx

    def entries(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float) -> None:
        """Add matrix entries (broadcast together)."""
        r, c, v = np.broadcast_arrays(rows, cols, np.asarray(vals, dtype=float))
        self.entry_rows.append(r.ravel())
        self.entry_cols.append(c.ravel())
        self.entry_vals.append(v.ravel())

    def lp(self) -> highspy.HighsLp:
        """The assembled LP, column-wise."""
        cat = np.concatenate
        rows = cat(self.entry_rows) if self.entry_rows else np.zeros(0, dtype=np.int64)
        cols = cat(self.entry_cols) if self.entry_cols else np.zeros(0, dtype=np.int64)
        vals = cat(self.entry_vals) if self.entry_vals else np.zeros(0)
        a = sp.csc_array((vals, (rows, cols)), shape=(self.n_row, self.n_col))
        a.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_col
        lp.num_row_ = self.n_row
        lp.col_cost_ = cat(self.col_cost)
        lp.col_lower_ = cat(self.col_lower)
        lp.col_upper_ = cat(self.col_upper)
        lp.row_lower_ = cat(self.row_lower) if self.row_lower else np.zeros(0)
        lp.row_upper_ = cat(self.row_upper) if self.row_upper else np.zeros(0)
        lp.offset_ = float(self.offset)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
        return lp


@dataclass(frozen=True)
class _Net:
    """A family's net export (MW) per asset and period: ``sum_k coef_k * x[cols_k] + constant``."""

    terms: list[tuple[np.ndarray, float]]
    constant: np.ndarray


# -- families -----------------------------------------------------------------------------------------
def _battery(asm: _Assembly, data, dt: np.ndarray) -> _Net:
    if len(data.binary_periods):
        raise NotImplementedError(
            "raw_highs builds the LP case only: batteries get binaries in negative-price periods "
            f"({len(data.binary_periods)} here); use prices >= 0 or prepare with allow_binaries=False"
        )
    n_a, n_t = data.charge_max_mw.shape
    zeros = np.zeros((n_a, n_t))
    charge = asm.cols(zeros, data.charge_max_mw)
    discharge = asm.cols(zeros, data.discharge_max_mw, data.degradation_cost_yuan_per_mwh[:, None] * dt)
    soc = asm.cols(
        np.broadcast_to(data.soc_min_mwh[:, None], (n_a, n_t)),
        np.broadcast_to(data.soc_max_mwh[:, None], (n_a, n_t)),
    )
    rhs = np.zeros((n_a, n_t))
    rhs[:, 0] = data.retention[:, 0] * data.soc0_mwh
    balance = asm.rows(rhs, rhs, (n_a, n_t))
    asm.entries(balance, soc, 1.0)
    asm.entries(balance[:, 1:], soc[:, :-1], -data.retention[:, 1:])
    asm.entries(balance, charge, -data.eta_charge[:, None] * dt)
    asm.entries(balance, discharge, dt / data.eta_discharge[:, None])
    final = asm.rows(data.soc_final_mwh, np.inf, (n_a,))
    asm.entries(final, soc[:, -1], 1.0)
    limited = np.isfinite(data.max_discharge_mwh)
    if limited.any():
        cycles = asm.rows(-np.inf, data.max_discharge_mwh[limited], (int(limited.sum()),))
        asm.entries(cycles[:, None], discharge[limited], dt)
    return _Net(terms=[(discharge, 1.0), (charge, -1.0)], constant=zeros)


def _pv(asm: _Assembly, data, dt: np.ndarray) -> _Net:
    cost = data.curtailment_cost_yuan_per_mwh[:, None] * dt
    output = asm.cols(data.floor_mw, data.available_mw, -cost)
    asm.offset += float((cost * data.available_mw).sum())
    return _Net(terms=[(output, 1.0)], constant=np.zeros_like(data.available_mw))


def _load(asm: _Assembly, data, dt: np.ndarray) -> _Net:
    return _Net(terms=[], constant=-np.asarray(data.consumption_mw, dtype=float))


def _flexible_load(asm: _Assembly, data, dt: np.ndarray) -> _Net:
    baseline = data.baseline_mw
    n_a = baseline.shape[0]
    consumption = asm.cols(
        (1.0 - data.down_frac)[:, None] * baseline, (1.0 + data.up_frac)[:, None] * baseline
    )
    energy_max = asm.rows(-np.inf, data.energy_max_mwh, (n_a,))
    asm.entries(energy_max[:, None], consumption, dt)
    energy_min = asm.rows(data.energy_min_mwh, np.inf, (n_a,))
    asm.entries(energy_min[:, None], consumption, dt)
    curtailable = np.isfinite(data.curtailment_cost_yuan_per_mwh)
    if curtailable.any():
        n_c = int(curtailable.sum())
        curtailed = asm.cols(np.zeros(n_c), np.inf, data.curtailment_cost_yuan_per_mwh[curtailable])
        asm.entries(energy_min[curtailable], curtailed, 1.0)
    return _Net(terms=[(consumption, -1.0)], constant=np.zeros_like(baseline))


_ASSEMBLERS: dict[str, Callable[[_Assembly, object, np.ndarray], _Net]] = {
    "battery": _battery,
    "pv": _pv,
    "load": _load,
    "flexible_load": _flexible_load,
}


# -- the LP -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawLayout:
    """The assembled LP and where its fleet net columns are.

    Attributes
    ----------
    lp : highspy.HighsLp
        The LP (minimises ``-(revenue - costs)``).
    net_cols : np.ndarray
        Column of ``net_mw[t]``, shape (T,).
    dt_h : np.ndarray
        Period lengths (h), shape (T,).
    """

    lp: highspy.HighsLp
    net_cols: np.ndarray
    dt_h: np.ndarray


def assemble(problem: Problem) -> RawLayout:
    """Assemble the LP of ``problem`` (see the module docstring) without solving it.

    Raises
    ------
    NotImplementedError
        A family of the problem is not one of :data:`SUPPORTED_FAMILIES`, or the problem has
        battery binaries (negative prices).
    """
    unsupported = sorted(set(problem.families) - set(_ASSEMBLERS))
    if unsupported:
        raise NotImplementedError(
            f"raw_highs has no twin for famil{'y' if len(unsupported) == 1 else 'ies'} "
            f"{', '.join(unsupported)} (supported: {', '.join(SUPPORTED_FAMILIES)})"
        )
    dt = np.asarray(problem.dt_h, dtype=float)
    n_t = problem.n_periods
    asm = _Assembly()
    net = asm.cols(
        np.full(n_t, -problem.import_limit_mw), np.full(n_t, problem.export_limit_mw), -problem.price * dt
    )
    nets: dict[str, _Net] = {}
    for name in _ASSEMBLERS:  # registry order, as build_model
        if name in problem.families:
            nets[name] = _ASSEMBLERS[name](asm, problem.families[name], dt)

    constant = sum((n.constant.sum(axis=0) for n in nets.values()), np.zeros(n_t))
    balance = asm.rows(constant, constant, (n_t,))
    asm.entries(balance, net, 1.0)
    for fam_net in nets.values():
        for cols, coef in fam_net.terms:
            asm.entries(np.broadcast_to(balance, cols.shape), cols, -coef)

    limited = [g for g in problem.group_limits if problem.group_members.get(g)]
    if limited:
        group_of = {(fam, a): g for g, members in problem.group_members.items() for fam, a in members}
        g_pos = {g: i for i, g in enumerate(limited)}
        imp = np.array([problem.group_limits[g][0] for g in limited])
        exp = np.array([problem.group_limits[g][1] for g in limited])
        g_const = np.zeros((len(limited), n_t))
        member: dict[str, np.ndarray] = {}
        for name, fam_net in nets.items():
            gi = np.array(
                [g_pos.get(group_of.get((name, a)), -1) for a in problem.families[name].ids], dtype=np.int64
            )
            member[name] = gi
            inside = gi >= 0
            np.add.at(g_const, gi[inside], fam_net.constant[inside])
        rows = asm.rows((-imp[:, None] - g_const), (exp[:, None] - g_const), (len(limited), n_t))
        for name, fam_net in nets.items():
            gi = member[name]
            inside = gi >= 0
            for cols, coef in fam_net.terms:
                asm.entries(rows[gi[inside]], cols[inside], coef)
    return RawLayout(lp=asm.lp(), net_cols=net, dt_h=dt)


def build_raw_lp(problem: Problem) -> highspy.HighsLp:
    """The LP of ``problem`` as a ``highspy.HighsLp`` (minimising ``-(revenue - costs)``, yuan).

    Raises
    ------
    NotImplementedError
        Unsupported family, or battery binaries (negative prices): this twin is LP only.
    """
    return assemble(problem).lp


class RawTwin:
    """The raw LP loaded in one HiGHS instance, kept for warm re-solves after a price change.

    Parameters
    ----------
    problem : Problem
        The prepared problem (LP case).
    time_limit_s : float
        HiGHS wall-clock limit (s).
    threads : int, optional
        HiGHS threads.
    """

    def __init__(self, problem: Problem, *, time_limit_s: float = 600.0, threads: int | None = None) -> None:
        start = time.perf_counter()
        layout = assemble(problem)
        self.highs = new_highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("time_limit", float(time_limit_s))
        if threads is not None:
            use_scheduler_threads(int(threads))
            self.highs.setOptionValue("threads", int(threads))
        self.highs.passModel(layout.lp)
        self.seconds_build = time.perf_counter() - start
        self.layout = layout
        self._fresh = True

    def set_prices(self, price: Sequence[float] | np.ndarray) -> None:
        """Replace the prices (yuan/MWh) in place: only the net columns' costs change."""
        values = np.asarray(price, dtype=float)
        cols = self.layout.net_cols
        if values.shape != cols.shape:
            raise ValueError(f"{values.size} prices for {cols.size} periods")
        self.highs.changeColsCost(len(cols), cols.astype(np.int32), -values * self.layout.dt_h)

    def solve(self) -> RawResult:
        """Run HiGHS (warm after the first solve) and return the result."""
        start = time.perf_counter()
        self.highs.run()
        seconds = time.perf_counter() - start
        status = self.highs.modelStatusToString(self.highs.getModelStatus())
        lp = self.layout.lp
        solution = self.highs.getSolution()
        if solution.value_valid:
            net = np.asarray(solution.col_value, dtype=float)[self.layout.net_cols]
        else:
            net = np.full(self.layout.net_cols.shape, np.nan)
        result = RawResult(
            objective_yuan=-float(self.highs.getInfo().objective_function_value),
            net_mw=net,
            seconds_build=self.seconds_build if self._fresh else 0.0,
            seconds_solve=seconds,
            status=status,
            n_columns=lp.num_col_,
            n_rows=lp.num_row_,
            n_nonzeros=len(lp.a_matrix_.value_),
        )
        self._fresh = False
        return result


def solve_raw(problem: Problem, time_limit_s: float = 600.0, threads: int | None = None) -> RawResult:
    """Assemble, pass and solve the raw twin of ``problem`` once.

    Parameters
    ----------
    problem : Problem
        The prepared problem; LP case only (no battery binaries).
    time_limit_s : float
        HiGHS wall-clock limit (s).
    threads : int, optional
        HiGHS threads.

    Returns
    -------
    RawResult
        Objective (yuan), fleet net (MW) and timings (s). ``status`` other than ``Optimal`` means the
        objective and net are not an optimum.
    """
    return RawTwin(problem, time_limit_s=time_limit_s, threads=threads).solve()
