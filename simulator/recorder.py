"""Collect what happened in each period of a backtest, per strategy: fleet and per asset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.result import ScheduleArrays, ScheduleResult, as_arrays


@dataclass
class StrategyRecord:
    """Per-period records of one strategy, appended day by day.

    Fleet rows: ``timestamp, bid_mw`` (q_da, MW), ``actual_mw`` (MW), ``dt_h`` (h),
    ``forecast_da`` (yuan/MWh), ``p_da``, ``p_rt`` (realised, yuan/MWh), ``resolved`` (a
    real-time re-solve ran at this period). Asset rows: ``timestamp, asset_id, type, bid_mw,
    net_mw`` plus the family series of the followed plan at that period (``soc_mwh``, ...).
    """

    name: str
    fleet: list[pd.DataFrame] = field(default_factory=list)
    assets: list[pd.DataFrame] = field(default_factory=list)
    _actual: list[float] = field(default_factory=list)
    _resolved: list[bool] = field(default_factory=list)
    _asset_rows: list[tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=list)
    _last: tuple[object, ScheduleArrays] | None = None
    solves: int = 0
    bound_gap_yuan: float = 0.0
    """Sum over the strategy's solves of HiGHS's proven bound minus the objective found (yuan):
    each solve's optimum is at most this much above what was found (0 for LPs)."""
    not_proven_optimal: int = 0
    """Solves followed whose schedule is feasible but not proven optimal (status ``feasible``)."""
    repaired: int = 0
    """Of those, the schedules repaired after the time limit (:mod:`optimizer.repair`)."""

    def solved(self, result: ScheduleResult | ScheduleArrays) -> None:
        """Count the proven gap of a solve whose plan the strategy follows, and whether it was proven
        optimal."""
        stats = result.stats
        self.not_proven_optimal += int(stats.status != "optimal")
        self.repaired += int(stats.repaired)
        if stats.bound_yuan is not None and stats.objective_yuan is not None:
            self.bound_gap_yuan += max(stats.bound_yuan - stats.objective_yuan, 0.0)

    def _arrays(self, result: ScheduleResult | ScheduleArrays) -> ScheduleArrays:
        if isinstance(result, ScheduleArrays):
            return result
        if self._last is None or self._last[0] is not result:  # convert a pandas result once
            self._last = (result, as_arrays(result))
        return self._last[1]

    def period(
        self, result: ScheduleResult | ScheduleArrays, row: int, timestamp: pd.Timestamp, resolved: bool
    ) -> None:
        """Record period ``timestamp`` as carried out from row ``row`` of ``result``."""
        arrays = self._arrays(result)
        series = {key: array[:, row].copy() for key, array in arrays.series.items()}
        self._asset_rows.append((arrays.asset_net_mw[:, row].copy(), series))
        self._actual.append(float(arrays.net_mw[row]))
        self._resolved.append(bool(resolved))
        self.solves += int(resolved)

    def end_day(
        self,
        plan: ScheduleResult | ScheduleArrays,
        forecast_da: np.ndarray,
        p_da: np.ndarray,
        p_rt: np.ndarray,
    ) -> None:
        """Close the day: ``plan`` is the day-ahead schedule (the bid)."""
        plan = self._arrays(plan)
        index = plan.index
        fleet = pd.DataFrame(
            {
                "bid_mw": plan.net_mw.round(6),
                "actual_mw": np.asarray(self._actual, dtype=float),
                "dt_h": plan.dt_h,
                "resolved": np.asarray(self._resolved, dtype=bool),
                "forecast_da": forecast_da,
                "p_da": p_da,
                "p_rt": p_rt,
            },
            index=index,
        )
        self.fleet.append(fleet)
        ids = list(plan.asset_ids)
        at = {a: i for i, a in enumerate(ids)}
        n_assets, n_periods = len(ids), len(index)
        frame = pd.DataFrame(
            {
                "timestamp": index.repeat(n_assets),
                "asset_id": np.tile(np.asarray(ids, dtype=object), n_periods),
                "bid_mw": plan.asset_net_mw.T.round(6).reshape(-1),
                "net_mw": np.concatenate([net for net, _ in self._asset_rows]),
            }
        )
        for key in plan.series:
            family = key.split(".", 1)[0]
            columns = [at[a] for a in plan.family_ids[family]]
            values = np.full((n_periods, n_assets), np.nan)
            values[:, columns] = np.vstack([row[key] for _, row in self._asset_rows])
            values = values.reshape(-1)
            name = key.split(".", 1)[1]  # e.g. load.consumption_mw and flexible_load.consumption_mw
            frame[name] = np.where(np.isnan(values), frame[name], values) if name in frame else values
        self.assets.append(frame)
        self._actual, self._resolved, self._asset_rows, self._last = [], [], [], None

    def fleet_frame(self) -> pd.DataFrame:
        """All days' fleet rows, index ``timestamp``."""
        return pd.concat(self.fleet) if self.fleet else pd.DataFrame()

    def asset_frame(self) -> pd.DataFrame:
        """All days' asset rows (long form)."""
        return pd.concat(self.assets, ignore_index=True) if self.assets else pd.DataFrame()
