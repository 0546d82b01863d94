"""Settings of the dispatch service, passed to every job as plain data (the job store pickles them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite:///vpp.db"
"""Embedded default database (SQLite in WAL mode, in the working folder)."""


@dataclass(frozen=True)
class ServiceConfig:
    """What the service needs to run its jobs.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://user:pw@host/db``.
    portfolio : str
        Portfolio file (YAML or JSON).
    inbox, outbox : str
        Folders for incoming price/telemetry files and outgoing setpoint/bid files.
    dispatch_lead_s : float
        The real-time dispatch of a period runs this long before the period starts (s).
    ingest_lead_s : float
        Ingestion runs this long before each period boundary (s); more than ``dispatch_lead_s``.
    bid_lead_s : float
        The day-ahead bid runs this long before the market's gate closure (s).
    settle_delay_s : float
        Settlement of day D runs this long after the end of D (s).
    solver_time_limit_s : float or None
        HiGHS time limit of a dispatch solve (s); None: a quarter of the period.
    bid_time_limit_s : float
        HiGHS time limit of the day-ahead solve (s).
    inbox_settle_s : float
        An inbox file without a ``<name>.ready`` marker is read once its size and modification
        time have not changed for this long (s, wall time; README "Inbox files").
    clock : dict or None
        An accelerated clock (:meth:`vpp.service.clock.AcceleratedClock.to_dict`); None: wall time.
    forecaster : str
        Forecaster (:mod:`market.forecasting`) of the DA price when no forecast file and no cleared
        price of the day is stored; fitted on the stored prices of the last ``forecast_history_days``.
    forecast_history_days : int
        Days of stored prices the forecaster is fitted on.
    """

    db_url: str = DEFAULT_DB_URL
    portfolio: str = ""
    inbox: str = "inbox"
    outbox: str = "outbox"
    dispatch_lead_s: float = 60.0
    ingest_lead_s: float = 120.0
    bid_lead_s: float = 1800.0
    settle_delay_s: float = 1200.0
    solver_time_limit_s: float | None = None
    bid_time_limit_s: float = 120.0
    inbox_settle_s: float = 5.0
    clock: dict[str, Any] | None = field(default=None)
    forecaster: str = "persistence"
    forecast_history_days: int = 35

    def to_dict(self) -> dict[str, Any]:
        """Plain data for job arguments."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored (older job store entries)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def key(self) -> str:
        """A stable identity of these settings (cache key of a process's pipeline)."""
        return repr(sorted(self.to_dict().items()))

    def with_paths_resolved(self) -> ServiceConfig:
        """The same settings with absolute folder and portfolio paths."""
        return dataclasses.replace(
            self,
            portfolio=str(Path(self.portfolio).resolve()) if self.portfolio else "",
            inbox=str(Path(self.inbox).resolve()),
            outbox=str(Path(self.outbox).resolve()),
        )
