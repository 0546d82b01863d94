"""Thin scheduler jobs: build (once per process) the pipeline for the settings, take ``now`` from
the service clock, call one pipeline method. APScheduler stores them by reference with plain-data
arguments, so they survive restarts in the SQLAlchemy job store.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pandas as pd

from vpp.logs import job_context
from vpp.service.config import ServiceConfig
from vpp.service.pipeline import Pipeline

log = logging.getLogger(__name__)

_PIPELINES: dict[str, Pipeline] = {}
_LOCK = threading.Lock()


def pipeline_for(settings: dict[str, Any]) -> Pipeline:
    """The process's pipeline for ``settings`` (a :meth:`ServiceConfig.to_dict`)."""
    config = ServiceConfig.from_dict(settings)
    with _LOCK:
        if config.key() not in _PIPELINES:
            _PIPELINES[config.key()] = Pipeline(config)
        return _PIPELINES[config.key()]


def register(pipeline: Pipeline) -> None:
    """Make an existing pipeline the one the jobs use for its settings (shares its engine)."""
    with _LOCK:
        _PIPELINES[pipeline.config.key()] = pipeline


def _run(settings: dict[str, Any], method: str) -> Any:
    pipeline = pipeline_for(settings)
    return _call(pipeline, method, pipeline.clock.now())


def _call(pipeline: Pipeline, method: str, now: pd.Timestamp) -> Any:
    with job_context(*_context(pipeline, method, now)):
        try:
            return getattr(pipeline, method)(now)
        except Exception:
            log.exception("job %s at %s failed", method, now)
            raise


def _context(pipeline: Pipeline, method: str, now: pd.Timestamp) -> tuple[str, Any, Any, Any]:
    """Job name, trading day, period (market zone) and clock instant for the log lines of a call."""
    from market.calendar import next_trading_day
    from vpp.service import planning

    market = pipeline.market
    local = pd.Timestamp(now).tz_convert(market.timezone)
    if method == "dispatch_period":
        slot = planning.dispatch_slot(market, now, pipeline.config.dispatch_lead_s)
        return "dispatch", slot.day, slot.start, local
    if method in ("bid_day", "retry_bid"):
        return method.replace("_day", ""), next_trading_day(market, now), None, local
    slot = planning.slot_at(market, now)
    if method == "settle_day":
        return "settle", None, None, local
    return method, slot.day, slot.start, local


def bid_job(settings: dict[str, Any]) -> Any:
    """Day-ahead bid before the gate closure."""
    return _run(settings, "bid_day")


def dispatch_job(settings: dict[str, Any]) -> Any:
    """Real-time dispatch of the next period, after catching up the period in progress.

    A firing delayed past its period boundary, or skipped because the previous run overran
    (``max_instances=1``), would leave a period without setpoints: so the job first dispatches the
    period in progress if it has none (late, recorded as such by its ``now``), then the next one,
    and repeats both while a run overran into the following period (the period it overran into is
    dispatched late, never skipped for the one after it). Done periods are cheap no-ops.
    """
    pipeline = pipeline_for(settings)
    lead = pd.Timedelta(seconds=pipeline.config.dispatch_lead_s)
    result: Any = None
    for attempt in range(4):
        now = pipeline.clock.now()
        _call(pipeline, "dispatch_period", now - lead)
        latest = _call(pipeline, "dispatch_period", now)
        if attempt > 0 and latest.get("status") == "skipped":
            break  # nothing overran: the first pass's result stands
        result = latest
    return result


def ingest_job(settings: dict[str, Any]) -> Any:
    """Ingestion of the inbox, then a retry of the next day's bid if it failed (until the gate
    closes: :func:`vpp.service.bidding.retry_bid`)."""
    pipeline = pipeline_for(settings)
    report = _call(pipeline, "ingest", pipeline.clock.now())
    _call(pipeline, "retry_bid", pipeline.clock.now())
    return report


def settle_job(settings: dict[str, Any]) -> Any:
    """Settlement of the previous trading day."""
    return _run(settings, "settle_day")
