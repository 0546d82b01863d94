"""Backtests in the background: a thread pool, with status and progress rows in ``backtest_jobs``.

A job moves ``queued -> running -> done | failed``. Progress is by phase (load 0.05, replay 0.1,
settle 0.9, done 1.0): the replay loop itself reports no progress to callers. Results (the
``summary.json`` content and each strategy's revenue per day) are stored as JSON in the row. Jobs
found queued or running when the application starts were cut off by a stop: they are marked failed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from vpp.api.store import PortfolioStore
from vpp.service.api_tables import BacktestJob
from vpp.service.db import PortfolioVersion

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _plain(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class BacktestRunner:
    """Runs backtests on ``workers`` threads and records them in the database."""

    def __init__(
        self, sessions: sessionmaker, store: PortfolioStore, data_dir: Path, prices: Path, workers: int = 1
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.data_dir = data_dir
        self.prices_path = prices
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="backtest")
        self._prices: dict[Any, pd.DataFrame] = {}  # keyed by the (hashable) MarketSpec
        self._lock = threading.Lock()

    def prices(self, market: Any) -> pd.DataFrame:
        """The realised prices for backtests in ``market`` (read once per market), labelled as the
        market publishes them unless they are the bundled prices (``vpp.price_input``)."""
        from vpp.price_input import read_price_input

        with self._lock:
            if market not in self._prices:  # the whole spec: a user market may reuse a preset's name
                self._prices[market] = read_price_input(self.prices_path, market)
            return self._prices[market]

    def submit(self, params: dict[str, Any], by: str) -> int:
        """Record a queued job and start it; return its id."""
        with self.sessions.begin() as session:
            job = BacktestJob(status="queued", progress=0.0, message="queued",
                              params=json.dumps(params, default=str), created_by=by, created_at=_now())
            session.add(job)
            session.flush()
            job_id = job.id
        self._pool.submit(self._run, job_id)
        return job_id

    def _update(self, job_id: int, **values: Any) -> None:
        with self.sessions.begin() as session:
            session.execute(sa.update(BacktestJob).where(BacktestJob.id == job_id).values(**values))

    def _run(self, job_id: int) -> None:
        from optimizer.solver import SolveOptions
        from simulator.backtest import run_backtest

        try:
            self._update(job_id, status="running", progress=0.05, message="loading", started_at=_now())
            with self.sessions() as session:
                params = json.loads(session.get(BacktestJob, job_id).params)
                version = session.get(PortfolioVersion, params["portfolio_version_id"])
                loaded = self.store.load(version)
            prices = self.prices(loaded.market)
            first, last = dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
            days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
            self._update(job_id, progress=0.1, message=f"replaying {len(days)} day(s)")
            options = SolveOptions(time_limit_s=float(params["time_limit_s"]))
            replayed: list[dt.date] = []

            def on_day(day: dt.date) -> None:  # progress per day: 0.1 .. 0.9 while replaying
                replayed.append(day)
                self._update(job_id, progress=round(0.1 + 0.8 * len(replayed) / len(days), 4),
                             message=f"replayed {len(replayed)} of {len(days)} day(s), last {day}")

            result = run_backtest(loaded, prices, days, list(params["strategies"]),
                                  forecast=params["forecast"], options=options, progress=False, on_day=on_day)
            self._update(job_id, progress=0.9, message="settling")
            daily = {}
            for name, frame in result.settlements.items():
                local = frame["revenue"].groupby(frame.index.tz_convert(loaded.market.timezone).date).sum()
                daily[name] = [{"day": str(d), "revenue_yuan": round(float(v), 2)} for d, v in local.items()]
            payload = json.dumps({"summary": result.summary, "daily_revenue": daily}, default=_plain)
            self._update(job_id, status="done", progress=1.0, message="done", finished_at=_now(),
                         result=payload)
        except Exception as exc:  # a job reports its failure in its row
            log.exception("backtest job %s failed", job_id)
            self._update(job_id, status="failed", message="failed", finished_at=_now(),
                         error=f"{type(exc).__name__}: {exc}")

    def recover(self) -> int:
        """Mark jobs left queued or running by a previous process as failed; return how many."""
        with self.sessions.begin() as session:
            result = session.execute(
                sa.update(BacktestJob)
                .where(BacktestJob.status.in_(("queued", "running")))
                .values(status="failed", message="failed", finished_at=_now(),
                        error="interrupted: the server stopped before the job finished")
            )
            return int(result.rowcount or 0)

    def shutdown(self) -> None:
        """Stop taking jobs; cancel queued ones (a running replay finishes in its thread)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
