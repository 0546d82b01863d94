"""The day-ahead bid of the service: forecast, optimal day schedule, bid rows and file.

The price forecast of day D is the ``forecasts`` table (inbox ``forecast*`` files), else the cleared
DA prices of D already stored, else the configured forecaster (``ServiceConfig.forecaster``, default
``persistence``: the cleared DA prices of D-1) fitted on the stored prices known at the gate closure
(:mod:`market.forecasting`). The schedule starts
from the state the previous day-ahead schedule planned for the end of D-1 (else the portfolio's).
The bid, the per-asset schedule, the forecast used and the portfolio version are written with the
run row in one transaction. A bid that fails for any reason (the inbox read, missing prices, the
solve, the database) records a ``failed`` run with its reason and writes nothing else; the ingest job
retries it every period until the gate closes (:func:`retry_bid`), and a day whose gate closed with
no bid is an alert (:mod:`vpp.service.alerts`). The bid file is written after the commit;
an outbox failure (full disk) is logged and returned, and the file is rewritten from the database
by a rerun or a later dispatch pass (:func:`rewrite_bid_file`). When the portfolio asks for approval
(``bid_approval: true``) the file is written only once the bid is approved
(``POST /api/bids/{day}/approve``): by the API at once into its own outbox, by the service's next
dispatch pass into the service's; a bid still unapproved at its gate closure is an alert
(:func:`vpp.service.status.alerts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from market.calendar import gate_closure, next_trading_day, trading_day_index
from vpp.assets.registry import stored_energy_frame, stored_energy_state
from vpp.errors import InputError, SolverError
from vpp.service import outbox, repository
from vpp.service.db import Bid, DayAheadSchedule, Forecast, PortfolioVersion
from vpp.service.fallback import solver_failure_status
from vpp.service.planning import INJECT_ENV, injected_failure
from vpp.solve_outcome import not_optimal_note, solve_outcome

if TYPE_CHECKING:
    from vpp.service.pipeline import Pipeline

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_bid(pipeline: Pipeline, now: pd.Timestamp) -> dict[str, Any]:
    """Ingest the inbox, then bid the trading day whose gate closes next.

    Returns
    -------
    dict
        ``day``, ``status`` (ok, failed or skipped), ``solver_status``; ``reason`` when failed;
        ``outbox_error`` when the bid file could not be written (the bid is in the database).
    """
    day = next_trading_day(pipeline.market, now)
    key = day.isoformat()
    run = {"job": "bid", "period_key": key, "period_start": None, "started_at": _utcnow()}
    try:
        return _bid(pipeline, now, day, run)
    except Exception as exc:  # any failure: recorded, retried until the gate closes
        log.error("bid %s failed: %s: %s", key, type(exc).__name__, exc)
        status = solver_failure_status(exc)
        try:
            with pipeline.sessions.begin() as s:
                repository.record_failure(
                    s,
                    dict(
                        run,
                        finished_at=_utcnow(),
                        solver_status=status,
                        fallback_reason=f"{type(exc).__name__}: {exc}"[:2000],
                    ),
                )
        except Exception:  # the database itself is down: the log is all there is
            log.exception("bid %s: the failure could not be recorded", key)
        return {"day": key, "status": "failed", "solver_status": status, "reason": str(exc)}


def bid_due(pipeline: Pipeline, now: pd.Timestamp) -> bool:
    """True when ``now`` is past the bid time of the day whose gate closes next."""
    day = next_trading_day(pipeline.market, now)
    due = gate_closure(pipeline.market, day) - pd.Timedelta(seconds=pipeline.config.bid_lead_s)
    return pd.Timestamp(now) >= due


def retry_bid(pipeline: Pipeline, now: pd.Timestamp) -> dict[str, Any] | None:
    """Bid again if the bid of the day whose gate closes next has failed and the gate is still
    open; None when there is nothing to retry (no failed run: done, not tried yet, or gate closed)."""
    day = next_trading_day(pipeline.market, now)
    with pipeline.sessions() as s:
        run = repository.find_run(s, "bid", day.isoformat())
    if run is None or run.status != "failed":
        return None
    log.warning("bid %s: retrying after a failure: %s", day, run.fallback_reason)
    return run_bid(pipeline, now)


def _bid(pipeline: Pipeline, now: pd.Timestamp, day: dt.date, run: dict[str, Any]) -> dict[str, Any]:
    key = day.isoformat()
    pipeline.ingest(now)
    with pipeline.sessions() as s:
        done = repository.run_done(s, "bid", key)
    if done:  # rewrite the file an outbox failure left missing
        try:
            rewrite_bid_file(pipeline, day)
        except OSError as exc:
            return {"day": key, "status": "skipped", "outbox_error": _outbox_failed(key, exc)}
        return {"day": key, "status": "skipped"}
    index, da, _ = pipeline.day_prices(day)
    forecast = [] if np.isfinite(da).all() else _model_forecast(pipeline, day, index)
    if forecast:
        da = np.array([f["da_price"] for f in forecast])
    if injected_failure("bid"):
        raise SolverError(f"injected solver failure ({INJECT_ENV})")
    state = _day_start_state(pipeline, index)
    result = pipeline.solve_day(day, da, state, 0, pipeline.config.bid_time_limit_s)
    utc = index.tz_convert("UTC").to_pydatetime()
    soc = stored_energy_frame(result.series)
    approval = bool(pipeline.loaded.portfolio.bid_approval)
    outcome = solve_outcome(result.stats)
    note = not_optimal_note(outcome)
    if note:  # bid all the same: a feasible schedule is no failure
        log.warning("bid %s: %s", key, note)
    run.update(
        finished_at=_utcnow(),
        status="ok",
        solver_status=result.stats.status,
        detail={
            "expected_revenue_yuan": round(result.terms_yuan["revenue"], 2),
            "solve": outcome,
            **({"approval_required": True} if approval else {}),
        },
    )
    with pipeline.sessions.begin() as s:
        if not repository.claim_run(s, run):
            return {"day": key, "status": "skipped"}
        version = _portfolio_version(pipeline, s)
        repository.insert_ignore(s, Forecast, forecast, ["period_start"])
        repository.insert_ignore(
            s,
            Bid,
            [
                {
                    "trading_day": day,
                    "period_start": t,
                    "net_mw": round(float(v), 6),
                    "portfolio_version_id": version,
                }
                for t, v in zip(utc, result.net_mw, strict=True)
            ],
            ["period_start"],
        )
        repository.insert_ignore(
            s,
            DayAheadSchedule,
            [
                {
                    "trading_day": day,
                    "period_start": t,
                    "asset_id": str(a),
                    "net_mw": float(result.asset_net_mw.iloc[i][a]),
                    "soc_mwh": float(soc.iloc[i][a]) if soc is not None and a in soc.columns else None,
                }
                for i, t in enumerate(utc)
                for a in result.asset_net_mw.columns
            ],
            ["period_start", "asset_id"],
        )
    out = {"day": key, "status": "ok", "solver_status": result.stats.status, "solve": outcome}
    if approval:  # the file waits for POST /api/bids/{day}/approve (written by a later pass)
        log.warning("bid %s awaits approval: its bid file is written once approved", key)
        return dict(out, awaiting_approval=True)
    try:
        outbox.write_bid(pipeline.config.outbox, key, result.net_mw.round(6))
    except OSError as exc:  # committed: a rerun or a later dispatch pass rewrites the file
        out["outbox_error"] = _outbox_failed(key, exc)
    return out


def _outbox_failed(key: str, exc: OSError) -> str:
    log.error("bid %s: outbox write failed (bid kept in the database): %s", key, exc)
    return f"{type(exc).__name__}: {exc}"


def rewrite_bid_file(pipeline: Pipeline, day: dt.date) -> bool:
    """Rewrite the bid file of ``day`` from the database when the bid is done and the file missing
    (:func:`write_stored_bid` into the service's outbox)."""
    return write_stored_bid(pipeline.sessions, pipeline.market, pipeline.config.outbox, day)


def write_stored_bid(sessions: Any, market: Any, outbox_dir: str | Path, day: dt.date) -> bool:
    """Write the stored bid of ``day`` to ``outbox_dir`` when it is missing there and may be sent.

    A bid may be sent when its run is done and, if its portfolio asked for approval
    (``bid_approval``, recorded in the run), once it is approved.

    Parameters
    ----------
    sessions : sessionmaker
        Sessions of the service database.
    market : MarketSpec
        The market (trading day periods, zone).
    outbox_dir : str or Path
        The outbox folder.
    day : datetime.date
        The trading day.

    Returns
    -------
    bool
        True when the file was written.

    Raises
    ------
    OSError
        The outbox is not writable.
    """
    from vpp.service.api_tables import BidApproval

    key = day.isoformat()
    if outbox.bid_path(outbox_dir, key).exists():
        return False
    with sessions() as s:
        run = repository.find_run(s, "bid", key)
        if run is None or run.status == "failed":
            return False
        if json.loads(run.detail or "{}").get("approval_required") and s.get(BidApproval, day) is None:
            return False
        stored = dict(s.execute(sa.select(Bid.period_start, Bid.net_mw).where(Bid.trading_day == day)).all())
    index = trading_day_index(market, day)
    utc = index.tz_convert("UTC").to_pydatetime()
    if not stored or any(t not in stored for t in utc):
        return False
    net = pd.Series([stored[t] for t in utc], index=index.rename("timestamp"), dtype=float)
    outbox.write_bid(outbox_dir, key, net)
    return True


def _model_forecast(pipeline: Pipeline, day: dt.date, index: pd.DatetimeIndex) -> list[dict[str, Any]]:
    """Forecast rows for ``day`` by the configured forecaster, from the stored prices before it."""
    from market.forecasting.run import forecast_day

    name = pipeline.config.forecaster
    first = trading_day_index(pipeline.market, day - dt.timedelta(days=pipeline.config.forecast_history_days))
    start = first[0].tz_convert("UTC").to_pydatetime()
    with pipeline.sessions() as s:
        end = index[0].tz_convert("UTC").to_pydatetime()
        frame = repository.price_frame(s, start, end, pipeline.market.timezone)
    before = frame.loc[frame.index >= index[0] - pd.Timedelta(days=1), "da_price"]
    if len(before) == 0 or not np.isfinite(before.to_numpy(dtype=float)).any():
        raise InputError(f"no day-ahead price forecast for {day} and no cleared prices of the day before")
    values = forecast_day(name, frame, pipeline.market, day, quantiles=False).point
    utc = index.tz_convert("UTC").to_pydatetime()
    return [
        {"trading_day": day, "period_start": t, "da_price": float(p), "source": name}
        for t, p in zip(utc, values, strict=True)
    ]


def _day_start_state(pipeline: Pipeline, index: pd.DatetimeIndex) -> dict[str, dict[str, float]]:
    """Stored energy planned for the start of the day (the previous day-ahead schedule's end)."""
    last = (index[0] - pipeline.market.period).tz_convert("UTC").to_pydatetime()
    with pipeline.sessions() as s:
        rows = repository.day_ahead_at(s, last)
    types = {a.id: a.type for a in pipeline.loaded.portfolio.assets}
    return {
        a: stored_energy_state(types[a], r.soc_mwh)
        for a, r in rows.items()
        if r.soc_mwh is not None and a in types
    }


def _portfolio_version(pipeline: Pipeline, session: Any) -> int:
    body = Path(pipeline.config.portfolio).read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode()).hexdigest()
    repository.insert_ignore(
        session,
        PortfolioVersion,
        [
            {
                "sha256": digest,
                "name": pipeline.loaded.portfolio.name,
                "path": pipeline.config.portfolio,
                "body": body,
                "created_at": _utcnow(),
            }
        ],
        ["sha256"],
    )
    return int(session.scalar(sa.select(PortfolioVersion.id).where(PortfolioVersion.sha256 == digest)))
