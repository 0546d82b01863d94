"""Collect what happened in each period of a backtest, per strategy: fleet and per asset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.result import ScheduleResult


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
    _rows: list[dict[str, float]] = field(default_factory=list)
    _asset_rows: list[tuple[pd.Timestamp, np.ndarray, dict[str, np.ndarray]]] = field(default_factory=list)
    solves: int = 0

    def period(self, result: ScheduleResult, row: int, timestamp: pd.Timestamp, resolved: bool) -> None:
        """Record period ``timestamp`` as carried out from row ``row`` of ``result``."""
        series = {key: frame.iloc[row] for key, frame in result.series.items()}
        self._asset_rows.append((timestamp, result.asset_net_mw.iloc[row].to_numpy(), series))
        self._rows.append({"actual_mw": float(result.net_mw.iloc[row]), "resolved": resolved})
        self.solves += int(resolved)

    def end_day(
        self,
        plan: ScheduleResult,
        forecast_da: np.ndarray,
        p_da: np.ndarray,
        p_rt: np.ndarray,
    ) -> None:
        """Close the day: ``plan`` is the day-ahead schedule (the bid)."""
        index = plan.index
        fleet = pd.DataFrame(self._rows, index=index)
        fleet.insert(0, "bid_mw", plan.net_mw.round(6).to_numpy())
        fleet.insert(2, "dt_h", plan.dt_h)
        fleet["forecast_da"] = forecast_da
        fleet["p_da"] = p_da
        fleet["p_rt"] = p_rt
        self.fleet.append(fleet)
        ids = list(plan.asset_net_mw.columns)
        n_assets, n_periods = len(ids), len(index)
        frame = pd.DataFrame(
            {
                "timestamp": np.repeat(index.to_numpy(), n_assets),
                "asset_id": np.tile(np.asarray(ids, dtype=object), n_periods),
                "bid_mw": plan.asset_net_mw.round(6).to_numpy().reshape(-1),
                "net_mw": np.concatenate([net for _, net, _ in self._asset_rows]),
            }
        )
        frame["timestamp"] = frame["timestamp"].dt.tz_convert(index.tz) if frame["timestamp"].dt.tz else (
            pd.DatetimeIndex(frame["timestamp"]).tz_localize("UTC").tz_convert(index.tz)
        )
        for key in plan.series:
            values = np.concatenate([row[key].reindex(ids).to_numpy() for _, _, row in self._asset_rows])
            name = key.split(".", 1)[1]  # e.g. load.consumption_mw and flexible_load.consumption_mw
            frame[name] = np.where(np.isnan(values), frame[name], values) if name in frame else values
        self.assets.append(frame)
        self._rows, self._asset_rows = [], []

    def fleet_frame(self) -> pd.DataFrame:
        """All days' fleet rows, index ``timestamp``."""
        return pd.concat(self.fleet) if self.fleet else pd.DataFrame()

    def asset_frame(self) -> pd.DataFrame:
        """All days' asset rows (long form)."""
        return pd.concat(self.assets, ignore_index=True) if self.assets else pd.DataFrame()
