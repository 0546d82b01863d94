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
        ``optimal``, ``feasible`` (a MIP incumbent within the time limit) or ``no_solution``.
    termination : str
        HiGHS model status, e.g. ``Optimal``, ``Time limit reached``.
    mip_gap : float or None
        Relative MIP gap of the returned solution (None for an LP).
    build_seconds, handoff_seconds, solve_seconds : float
        Pyomo model build, hand-off to HiGHS, and HiGHS run time (s).
    handoff : str
        ``persistent`` or ``compiled``.
    n_variables, n_constraints, n_binaries : int
        Size of the model HiGHS solved.
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
