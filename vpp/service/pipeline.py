"""The service pipeline: ``bid_day(now)``, ``dispatch_period(now)``, ``ingest(now)``, ``settle_day(now)``.

The scheduler's jobs, ``vpp dispatch`` and the simulated day all call these same methods, so a
simulation exercises production code. Each method is idempotent per (job, period): it returns at
once when the run exists, and writes its outputs with the run row in one transaction
(:mod:`vpp.service.repository`). A failed or timed-out dispatch solve sends the fallback of
:mod:`vpp.service.fallback` and records why. An outbox failure (full disk) is logged and returned,
never raised: every dispatch pass rewrites from the database the files it left missing
(:data:`OUTBOX_BACKFILL`).

Fault injection for tests and drills: ``VPP_INJECT_SOLVER_FAILURE`` = ``all``, ``bid`` or a
comma list of period positions in the day (``10,11``) makes those solves raise ``SolverError``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from market.calendar import trading_day_index
from optimizer.result import ScheduleResult
from optimizer.solver import PastPinning, PastPlan, SolveOptions
from simulator.day_model import DayModels
from simulator.strategies import within_market_bounds
from vpp.errors import InputError, SolverError
from vpp.portfolio_io import load_portfolio
from vpp.service import bidding, inbox, outbox, planning, repository, settle, storing
from vpp.service.clock import make_clock
from vpp.service.config import ServiceConfig
from vpp.service.db import (
    Setpoint,
    make_engine,
    session_factory,
)
from vpp.service.fallback import fallback_setpoints, solver_failure_status
from vpp.service.planning import INJECT_ENV, PeriodSlot, injected_failure
from vpp.solve_outcome import not_optimal_note, solve_outcome

__all__ = ["INJECT_ENV", "OUTBOX_BACKFILL", "Pipeline", "injected_failure"]

log = logging.getLogger(__name__)

OUTBOX_BACKFILL = pd.Timedelta(hours=24)
"""A dispatch pass rewrites the missing setpoint files of the periods dispatched this long before it."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Pipeline:
    """The service's work for one portfolio and database (one per process, shared by all jobs).

    Parameters
    ----------
    config : ServiceConfig
        Settings.
    engine : Engine, optional
        Database engine (default: made from ``config.db_url``).
    """

    def __init__(self, config: ServiceConfig, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine or make_engine(config.db_url)
        self.sessions = session_factory(self.engine)
        self.loaded = load_portfolio(config.portfolio)
        self.market = self.loaded.market
        self.clock = make_clock(config.clock)
        period_s = self.market.period_hours * 3600.0
        # None means the default; an explicit 0 is a limit (every solve times out), not the default
        limit = config.solver_time_limit_s
        self.dispatch_time_limit_s = period_s / 4 if limit is None else float(limit)
        # persistent hand-off at every size: the service re-solves one model all day, and only that
        # hand-off can pin the past of EV hubs, generators and heating in a mid-day restart
        self.models = DayModels(
            self.loaded,
            SolveOptions(self.dispatch_time_limit_s, handoff="persistent")  # infeasible: named,
        )
        self.telemetry_limits = inbox.physical_limits(self.loaded.portfolio)
        self._solve_lock = threading.Lock()
        self._plans: dict[dt.date, PastPlan] = {}
        """Per trading day, the plan in force: the last solve's values of every family variable."""

    # -- solving ----------------------------------------------------------------------------
    def solve_day(
        self, day: dt.date, price: np.ndarray, state: dict, k: int, limit_s: float
    ) -> ScheduleResult:
        """Optimise periods ``k..T-1`` of ``day`` at ``price`` (yuan/MWh, (T,)) from ``state``, within
        ``limit_s`` seconds: the bid job's solve (``k = 0``) and the dispatch's re-solves
        (:meth:`_solve_noting_past`'s result)."""
        return self._solve_noting_past(day, price, state, k, limit_s)[0]

    def _solve_noting_past(
        self, day: dt.date, price: np.ndarray, state: dict, k: int, limit_s: float
    ) -> tuple[ScheduleResult, PastPinning]:
        """Optimise periods ``k..T-1`` of ``day`` (persistent re-solve) and say how the past was kept.

        The day's model comes from :meth:`simulator.day_model.DayModels.use_day` (one model per
        portfolio, rebuilt only on a structure change). It is restarted at period ``k`` by
        :meth:`optimizer.solver.ModelSolver.restart_pinning_past`: families with a measured state
        (batteries, PV, loads) restart from ``state``, as after downtime or a fallback the past is
        what telemetry says. Families that cannot restart mid-day (EV hubs, generators, heating)
        restart at the day start with periods ``0..k-1`` pinned at the plan in force when each was
        dispatched: after every solve its values are kept as the day's plan (periods ``>= k`` are
        the new plan, earlier ones were pinned), so a period without a solve of its own (fallback)
        keeps the latest plan that covered it. Without any plan of the day (a process started
        mid-day) their past is re-planned; that is logged.

        Returns
        -------
        result : ScheduleResult
            Over the whole day; rows before ``k`` are not meaningful.
        past : PastPinning
            The pinned families; ``note`` is ``pinned``, ``re-planned`` or None.
        """
        with self._solve_lock:
            self.models.options = dataclasses.replace(self.models.options, time_limit_s=limit_s)
            solver = self.models.use_day(day)
            solver.options = self.models.options
            solver.release_periods()
            # a forecast is clipped to the market's bounds; storage exact (no charge and discharge at once)
            solver.set_prices(within_market_bounds(price, self.market))
            past = solver.restart_pinning_past(k, state, self._plans.get(day))
            if past.replanned:
                log.info(
                    "%s period %d: no plan of the day's past in this process: %s re-plan periods 0..%d",
                    day,
                    k,
                    ", ".join(past.families),
                    k - 1,
                )
            result = solver.solve()
            self._keep_plan(day, solver.past_plan())
            return result, past

    def _keep_plan(self, day: dt.date, plan: PastPlan | None) -> None:
        """Keep ``plan`` as ``day``'s plan in force; forget the plans of days before yesterday's."""
        if plan is None:
            return
        self._plans[day] = plan
        for old in [d for d in self._plans if d < day - dt.timedelta(days=1)]:
            del self._plans[old]

    def day_prices(self, day: dt.date) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
        """DA (cleared, else forecast) and RT prices of ``day`` (yuan/MWh; NaN where unknown)."""
        index = trading_day_index(self.market, day)
        utc = index.tz_convert("UTC").to_pydatetime()
        end = (index[-1] + self.market.period).tz_convert("UTC").to_pydatetime()
        with self.sessions() as s:
            stored = repository.prices_between(s, utc[0], end)
            forecast = repository.forecasts_for(s, day)
        da = np.array([_value(stored.get(t), "da_price", forecast.get(t)) for t in utc], dtype=float)
        rt = np.array([_value(stored.get(t), "rt_price", None) for t in utc], dtype=float)
        return index, da, rt

    # -- real-time dispatch -----------------------------------------------------------------
    def dispatch_period(self, now: pd.Timestamp) -> dict[str, Any]:
        """Dispatch the period that starts next (``now + dispatch lead`` falls in it).

        Returns
        -------
        dict
            ``period``, ``status`` (ok, fallback or skipped), ``solver_status`` (HiGHS's, else
            ``timeout`` or ``error``), ``fallback_reason``, ``state_source``; ``solve`` (also in the
            run's detail) when the solve gave the schedule: how it ended
            (:func:`vpp.solve_outcome.solve_outcome`; a schedule feasible but not proven optimal,
            e.g. repaired, is dispatched and logged as a warning, never a fallback); ``past`` (also in the
            run's detail) when families that cannot restart mid-day had their past ``pinned`` at the
            plan in force or ``re-planned`` (no plan of the day in this process); ``outbox_error`` when
            the period's files could not be written, ``outbox_rewritten`` when missing files of
            earlier periods or bids were rewritten.
        """
        slot = planning.dispatch_slot(self.market, now, self.config.dispatch_lead_s)
        with self.sessions() as s:
            done = repository.run_done(s, "dispatch", slot.key)
            if not done:
                state, source = planning.measured_state(s, self.loaded, slot)
                day_ahead = {a: r.net_mw for a, r in repository.day_ahead_at(s, slot.utc).items()}
        if done:  # rewrite what an outbox failure left missing
            out: dict[str, Any] = {"period": slot.start.isoformat(), "status": "skipped"}
            error = self._ensure_setpoint_files(slot.start)
            out.update({"outbox_error": error} if error else self._backfill_outbox(slot))
            return out
        started, clock = _utcnow(), time.perf_counter()
        solver_status, reason, past, outcome = None, None, None, None
        try:
            _, da, rt = self.day_prices(slot.day)
            with self.sessions() as s:
                history = planning.spread_history(s, self.market, slot)
            if not np.isfinite(da[slot.k :]).all():
                raise InputError(f"no day-ahead price or forecast for the rest of {slot.day}")
            if injected_failure("dispatch", slot.k):
                raise SolverError(f"injected solver failure ({INJECT_ENV})")
            result, pinning = self._solve_noting_past(
                slot.day,
                planning.dispatch_price(slot, da, rt, history),
                state,
                slot.k,
                self.dispatch_time_limit_s,
            )
            past = pinning.note
            outcome = solve_outcome(result.stats)
            solver_status = outcome["status"]
            rows = planning.result_setpoints(result, slot.start)
            note = not_optimal_note(outcome)
            if note:  # dispatched all the same: a feasible schedule is no failure
                log.warning("dispatch %s: %s", slot.start, note)
        except Exception as exc:  # any failure of the solve: send the safe fallback
            log.warning("dispatch %s: fallback after %s: %s", slot.start, type(exc).__name__, exc)
            reason = f"{type(exc).__name__}: {exc}"
            solver_status = solver_failure_status(exc)
            rows = fallback_setpoints(
                self.loaded.portfolio, state, day_ahead or None, float(slot.dt_h[slot.k])
            )
        run = {
            "job": "dispatch",
            "period_key": slot.key,
            "period_start": slot.utc,
            "started_at": started,
            "finished_at": _utcnow(),
            "status": "fallback" if reason else "ok",
            "solver_status": solver_status,
            "fallback_reason": reason,
            "detail": {
                "state_source": source,
                "seconds": round(time.perf_counter() - clock, 4),
                "now": pd.Timestamp(now).isoformat(),
                **({"past": past} if past else {}),
                **({"solve": outcome} if outcome else {}),
            },
        }
        with self.sessions.begin() as s:
            if not repository.claim_run(s, run):
                return {"period": slot.start.isoformat(), "status": "skipped"}
            repository.insert_ignore(
                s, Setpoint, [dict(r, period_start=slot.utc) for r in rows], ["period_start", "asset_id"]
            )
        outbox_error = self._write_setpoint_files(slot.start, rows)
        return {
            "period": slot.start.isoformat(),
            "status": run["status"],
            "solver_status": solver_status,
            "fallback_reason": reason,
            "state_source": source,
            **({"past": past} if past else {}),
            **({"solve": outcome} if outcome else {}),
            **({"outbox_error": outbox_error} if outbox_error else self._backfill_outbox(slot)),
        }

    def _write_setpoint_files(self, start: pd.Timestamp, rows: list[dict[str, Any]]) -> str | None:
        """Write the outbox files of the period starting at ``start``; an outbox failure (full disk,
        bad path) is logged and returned, not raised: the setpoints are in the database and a later
        dispatch pass rewrites the files."""
        try:
            outbox.write_setpoints(self.config.outbox, start, rows)
        except OSError as exc:
            log.error("dispatch %s: outbox write failed (setpoints kept in the database): %s", start, exc)
            return f"{type(exc).__name__}: {exc}"
        return None

    def _ensure_setpoint_files(self, start: pd.Timestamp) -> str | None:
        """Rewrite a done period's outbox files from the database when they are missing.

        Parameters
        ----------
        start : pd.Timestamp
            Period start (market zone).

        Returns
        -------
        str or None
            The outbox error when a rewrite failed, else None (written, present or nothing stored).
        """
        if all(p.exists() for p in outbox.setpoint_paths(self.config.outbox, start)):
            return None
        with self.sessions() as s:
            stored = repository.setpoints_at(s, start.tz_convert("UTC").to_pydatetime())
        rows = [
            {"asset_id": a, "setpoint_mw": r.setpoint_mw, "soc_end_mwh": r.soc_end_mwh, "source": r.source}
            for a, r in sorted(stored.items())
        ]
        return self._write_setpoint_files(start, rows) if rows else None

    def _backfill_outbox(self, slot: PeriodSlot) -> dict[str, int]:
        """Rewrite from the database the outbox files an outbox failure (full disk) left missing.

        Covers the setpoint files of the periods dispatched in the :data:`OUTBOX_BACKFILL` before
        ``slot`` and the bid files of ``slot``'s trading day and the next. Without a missing file
        this is file checks only; it stops at the first failed write (the outbox is still broken).

        Returns
        -------
        dict
            ``{"outbox_rewritten": n}`` (periods and bids rewritten) when ``n > 0``, else empty.
        """
        since = slot.start - OUTBOX_BACKFILL
        days = (slot.day - dt.timedelta(days=1), slot.day)
        starts = [t for d in days for t in trading_day_index(self.market, d) if since <= t < slot.start]
        missing = [
            t for t in starts if not all(p.exists() for p in outbox.setpoint_paths(self.config.outbox, t))
        ]
        rewritten = 0
        if missing:
            with self.sessions() as s:
                runs = repository.runs(s, "dispatch", missing[0].tz_convert("UTC").to_pydatetime(), slot.utc)
            done = {r.period_key for r in runs if r.status != "failed"}
            for t in missing:
                if planning.period_key(t) in done:
                    if self._ensure_setpoint_files(t) is not None:
                        return {"outbox_rewritten": rewritten} if rewritten else {}
                    rewritten += 1
        for day in (slot.day, slot.day + dt.timedelta(days=1)):
            try:
                rewritten += bidding.rewrite_bid_file(self, day)
            except OSError as exc:
                log.error("bid %s: outbox write failed (bid kept in the database): %s", day, exc)
                break
        return {"outbox_rewritten": rewritten} if rewritten else {}

    # -- day-ahead bid ----------------------------------------------------------------------
    def bid_day(self, now: pd.Timestamp) -> dict[str, Any]:
        """Ingest the inbox, then bid the trading day whose gate closes next (:mod:`~vpp.service.bidding`)."""
        return bidding.run_bid(self, now)

    # -- ingestion and settlement -----------------------------------------------------------
    def ingest(self, now: pd.Timestamp) -> inbox.IngestReport:
        """Store every complete inbox file (prices, forecasts, telemetry); reject bad ones.

        One reader at a time (the inbox's lock: the ingest and bid jobs, other processes); a
        settled day changes only through a revision file (:mod:`~vpp.service.storing`).
        """
        ids = {a.id for a in self.loaded.portfolio.assets}

        def store(kind: str, rows: list[dict[str, Any]]) -> int:
            return storing.store_rows(self, kind, rows)

        report = inbox.process_inbox(
            self.config.inbox,
            self.market,
            ids,
            store,
            settle_s=self.config.inbox_settle_s,
            limits=self.telemetry_limits,
        )
        slot = planning.slot_at(self.market, pd.Timestamp(now))
        with self.sessions.begin() as s:
            repository.claim_run(
                s,
                {
                    "job": "ingest",
                    "period_key": slot.key,
                    "period_start": slot.utc,
                    "started_at": _utcnow(),
                    "finished_at": _utcnow(),
                    "status": "ok",
                    "detail": {
                        "processed": len(report.processed),
                        "rejected": report.rejected,
                        "rows": report.rows,
                        **({"busy": True} if report.busy else {}),
                    },
                },
            )
        return report

    def settle_day(self, now: pd.Timestamp) -> dict[str, Any]:
        """Settle the trading day before the one ``now - settle delay`` falls in."""
        return settle.settle_day(self, now)

    def retry_bid(self, now: pd.Timestamp) -> dict[str, Any] | None:
        """Bid again when the bid of the day whose gate closes next failed and the gate is still
        open; None when there is nothing to retry."""
        return bidding.retry_bid(self, now)

    def catch_up(self, now: pd.Timestamp) -> dict[str, Any]:
        """After a start or downtime: ingest, dispatch the current period, bid if it is due.

        Stale periods are not replayed: only the period containing ``now + dispatch lead``.
        """
        self.ingest(now)
        out: dict[str, Any] = {"dispatch": self.dispatch_period(now)}
        if bidding.bid_due(self, now):
            out["bid"] = self.bid_day(now)
        return out


def _value(row: Any, column: str, default: float | None) -> float:
    value = getattr(row, column, None) if row is not None else None
    if value is None:
        value = default
    return float("nan") if value is None else float(value)
