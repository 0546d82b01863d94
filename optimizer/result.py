"""Typed results of a solve: fleet and per-asset schedules, states and the objective by term."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SolveStats:
    """How the solve went.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible`` (a MIP incumbent within the time limit, or a repaired schedule:
        :mod:`optimizer.repair`) or ``no_solution``.
    termination : str
        HiGHS model status, e.g. ``Optimal``, ``Time limit reached``; ``Repaired: ...`` when the time
        limit was reached while storage still charged and discharged at once and one LP with each
        storage period's direction fixed gave the schedule (feasible, not proven optimal);
        ``Optimal within the MIP gap: ...`` (:data:`optimizer.relaxation_first.WITHIN_GAP`, status
        ``optimal``) when that LP, run on a relaxation that burns, was within the asked MIP gap of
        the relaxation's optimum (``bound_yuan``).
    mip_gap : float or None
        Relative MIP gap of the returned solution (None for an LP).
    build_seconds, handoff_seconds, solve_seconds : float
        Pyomo model build, hand-off to HiGHS, and HiGHS run time (s).
    handoff : str
        ``persistent`` or ``compiled``.
    n_variables, n_constraints, n_binaries : int
        Size of the model HiGHS solved.
    objective_yuan, bound_yuan : float or None
        The solution's objective and HiGHS's proven bound of the optimum (yuan; the MIP dual
        bound, or the LP optimum): the optimum lies between them. None when unknown.
    exclusive_rounds : int
        Solves it took to reach a schedule without simultaneous charge and discharge
        (:mod:`optimizer.exclusive`): 1 when the first solve had none; a repair LP counts as one.
    """

    status: str
    termination: str
    mip_gap: float | None
    build_seconds: float
    handoff_seconds: float
    solve_seconds: float
    handoff: str
    n_variables: int
    n_constraints: int
    n_binaries: int
    objective_yuan: float | None = None
    bound_yuan: float | None = None
    exclusive_rounds: int = 1

    @property
    def repaired(self) -> bool:
        """The schedule is the repair of a spent time budget (termination ``Repaired: ...``)."""
        from optimizer.repair import REPAIRED  # HiGHS and Pyomo only when asked

        return self.termination.startswith(REPAIRED)

    @property
    def total_seconds(self) -> float:
        """Build + hand-off + HiGHS (s)."""
        return self.build_seconds + self.handoff_seconds + self.solve_seconds


@dataclass(frozen=True)
class ScheduleResult:
    """The optimal schedule of the whole fleet over one horizon.

    Attributes
    ----------
    net_mw : pd.Series
        Fleet net export per period (MW, positive = to the grid); index ``timestamp``.
    asset_net_mw : pd.DataFrame
        Net export per asset (MW), one column per asset id.
    series : dict[str, pd.DataFrame]
        Per-family schedules and states, keyed ``family.name`` (e.g. ``battery.soc_mwh``), one
        column per asset of that family.
    price : pd.Series
        The price the schedule was optimised against (yuan/MWh).
    objective_yuan : float
        Revenue minus costs (yuan).
    terms_yuan : dict[str, float]
        ``revenue`` and every cost term (costs positive), e.g. ``degradation``, ``curtailment``.
    stats : SolveStats
        Solver status, gap and timings.
    """

    net_mw: pd.Series
    asset_net_mw: pd.DataFrame
    series: dict[str, pd.DataFrame]
    price: pd.Series
    objective_yuan: float
    terms_yuan: dict[str, float]
    stats: SolveStats
    asset_family: dict[str, str] = field(default_factory=dict)

    @property
    def index(self) -> pd.DatetimeIndex:
        """Period starts."""
        return self.net_mw.index

    @property
    def dt_h(self) -> np.ndarray:
        """Period lengths (h)."""
        return self.net_mw.attrs["dt_h"]

    @property
    def net_mwh(self) -> pd.Series:
        """Fleet net export energy per period (MWh)."""
        return (self.net_mw * self.dt_h).rename("net_mwh")

    @property
    def energy_export_mwh(self) -> float:
        """Energy delivered to the grid over the horizon (MWh)."""
        return float(self.net_mwh.clip(lower=0).sum())

    @property
    def energy_import_mwh(self) -> float:
        """Energy drawn from the grid over the horizon (MWh, positive)."""
        return float(-self.net_mwh.clip(upper=0).sum())

    def asset_schedule_long(self) -> pd.DataFrame:
        """Per-asset schedule in long form: ``timestamp, asset_id, type, net_mw`` plus states.

        Family series (e.g. ``soc_mwh``) become columns, empty for assets without them.
        """
        long = self.asset_net_mw.stack().rename("net_mw").reset_index()
        long.columns = ["timestamp", "asset_id", "net_mw"]
        long["type"] = long["asset_id"].map(self.asset_family)
        for key, df in self.series.items():
            name = key.split(".", 1)[1]
            part = df.stack().rename(name).reset_index()
            part.columns = ["timestamp", "asset_id", name]
            if name in long.columns:
                long = long.set_index(["timestamp", "asset_id"])
                long[name] = long[name].fillna(part.set_index(["timestamp", "asset_id"])[name])
                long = long.reset_index()
            else:
                long = long.merge(part, on=["timestamp", "asset_id"], how="left")
        return long.sort_values(["asset_id", "timestamp"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ScheduleArrays:
    """The numpy-only result of a solve: what a real-time step needs, without pandas objects.

    :meth:`optimizer.solver.ModelSolver.solve_arrays` returns it (a re-solve in the backtest needs
    one period's values and the state); :meth:`to_result` builds the full :class:`ScheduleResult`
    from it (``ModelSolver.solve`` does exactly that).

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts, shape (T,).
    dt_h : np.ndarray
        Period lengths (h), shape (T,).
    price : np.ndarray
        The price optimised against (yuan/MWh), shape (T,).
    asset_ids : list of str
        Asset ids in portfolio order (rows of ``asset_net_mw``).
    asset_family : dict[str, str]
        Asset id -> family.
    net_mw : np.ndarray
        Fleet net export (MW, export +), shape (T,).
    asset_net_mw : np.ndarray
        Net export per asset (MW), shape (A, T), rows in ``asset_ids`` order.
    series : dict[str, np.ndarray]
        ``family.name`` -> (A_f, T) array, rows in ``family_ids[family]`` order.
    family_ids : dict[str, list[str]]
        Family -> its asset ids (row order of its series).
    positions : dict[str, dict[str, int]]
        Family -> asset id -> row in that family's series.
    costs_yuan : dict[str, float]
        Cost terms at the solution (yuan, costs positive), summed over families.
    stats : SolveStats
        Solver status, gap and timings.
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    price: np.ndarray
    asset_ids: list[str]
    asset_family: dict[str, str]
    net_mw: np.ndarray
    asset_net_mw: np.ndarray
    series: dict[str, np.ndarray]
    family_ids: dict[str, list[str]]
    positions: dict[str, dict[str, int]]
    costs_yuan: dict[str, float]
    stats: SolveStats

    def value(self, key: str, asset_id: str, k: int) -> float | None:
        """Value of series ``key`` (``family.name``) for ``asset_id`` in period ``k`` (None: absent)."""
        array = self.series.get(key)
        if array is None:
            return None
        row = self.positions[key.split(".", 1)[0]].get(asset_id)
        return None if row is None else float(array[row, k])

    def to_result(self) -> ScheduleResult:
        """The full pandas :class:`ScheduleResult` of the same solution."""
        index = self.index
        asset_net = pd.DataFrame(
            self.asset_net_mw.T, index=index, columns=pd.Index(self.asset_ids, name="asset_id")
        )
        net = pd.Series(self.net_mw, index=index, name="net_mw")
        net.attrs["dt_h"] = self.dt_h
        series = {
            key: pd.DataFrame(
                array.T, index=index, columns=pd.Index(self.family_ids[key.split(".", 1)[0]], name="asset_id")
            )
            for key, array in self.series.items()
        }
        revenue = float((self.price * self.dt_h * self.net_mw).sum())
        terms = {"revenue": revenue, **self.costs_yuan}
        return ScheduleResult(
            net_mw=net,
            asset_net_mw=asset_net,
            series=series,
            price=pd.Series(self.price, index=index, name="price"),
            objective_yuan=revenue - sum(self.costs_yuan.values()),
            terms_yuan=terms,
            stats=self.stats,
            asset_family=dict(self.asset_family),
        )


def as_arrays(result: ScheduleResult | ScheduleArrays) -> ScheduleArrays:
    """``result`` as :class:`ScheduleArrays` (returned as is when it already is one)."""
    if isinstance(result, ScheduleArrays):
        return result
    family_ids: dict[str, list[str]] = {}
    series: dict[str, np.ndarray] = {}
    for key, frame in result.series.items():
        family_ids.setdefault(key.split(".", 1)[0], [str(c) for c in frame.columns])
        series[key] = frame.to_numpy(dtype=float).T
    for asset_id, family in result.asset_family.items():
        family_ids.setdefault(family, [])
        if asset_id not in family_ids[family] and not any(k.startswith(f"{family}.") for k in series):
            family_ids[family].append(asset_id)
    costs = {k: float(v) for k, v in result.terms_yuan.items() if k != "revenue"}
    return ScheduleArrays(
        index=result.index,
        dt_h=np.asarray(result.dt_h, dtype=float),
        price=result.price.to_numpy(dtype=float),
        asset_ids=[str(c) for c in result.asset_net_mw.columns],
        asset_family=dict(result.asset_family),
        net_mw=result.net_mw.to_numpy(dtype=float),
        asset_net_mw=result.asset_net_mw.to_numpy(dtype=float).T,
        series=series,
        family_ids=family_ids,
        positions={f: {a: i for i, a in enumerate(ids)} for f, ids in family_ids.items()},
        costs_yuan=costs,
        stats=result.stats,
    )
