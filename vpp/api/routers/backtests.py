"""Backtests: start one in the background, list and follow jobs, read results."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from simulator.strategies import STRATEGIES
from vpp.api.auth import Operator, Reader
from vpp.api.deps import api, conflict, not_found
from vpp.api.schemas import BacktestCreate, BacktestJobOut, BacktestResults
from vpp.api.store import current_version
from vpp.service.api_tables import BacktestJob

router = APIRouter(prefix="/backtests", tags=["backtests"])

JobId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="Backtest job id (a 64-bit database key).")]
"""A job id path parameter: larger ids cannot be database keys (422, not a 500 from the driver)."""

MAX_DAYS = 31


def _out(job: BacktestJob) -> BacktestJobOut:
    return BacktestJobOut(
        id=job.id, status=job.status, progress=job.progress, message=job.message,
        params=json.loads(job.params), created_by=job.created_by, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at, error=job.error,
    )


def _invalid(field: str, msg: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", field], "field": f"body.{field}", "msg": msg,
                                "type": "value_error"}])


@router.post("", response_model=BacktestJobOut, status_code=202)
def start(request: Request, body: BacktestCreate, principal: Operator) -> BacktestJobOut:
    """Start a backtest of the current portfolio on the server's price history (operators only)."""
    for i, name in enumerate(body.strategies):
        if name not in STRATEGIES:
            raise HTTPException(422, [{"loc": ["body", "strategies", i], "field": f"body.strategies[{i}]",
                                       "msg": f"unknown strategy '{name}'; known: {', '.join(STRATEGIES)}",
                                       "type": "value_error"}])
    if len(set(body.strategies)) != len(body.strategies):
        raise _invalid("strategies", "a strategy is listed twice")
    if body.end < body.start:
        raise _invalid("end", f"end {body.end} is before start {body.start}")
    if (body.end - body.start).days + 1 > MAX_DAYS:
        raise _invalid("end", f"at most {MAX_DAYS} days per job")
    state = api(request)
    with state.sessions() as session:
        version = current_version(session)
    if version is None:
        raise conflict("no portfolio stored: PUT /api/portfolio first")
    market = state.store.load(version).market
    prices = state.jobs.prices(market)
    first = prices.index[0].tz_convert(market.timezone).date()
    last = prices.index[-1].tz_convert(market.timezone).date()
    if body.start - dt.timedelta(days=1) < first:
        raise _invalid("start", f"prices start {first}: the first day needs the day before for its forecast")
    if body.end > last:
        raise _invalid("end", f"prices end {last}")
    params = {**body.model_dump(mode="json"), "portfolio_version_id": version.id}
    job_id = state.jobs.submit(params, principal.name)
    return read(request, job_id, principal)


@router.get("", response_model=list[BacktestJobOut])
def list_jobs(request: Request, _: Reader) -> list[BacktestJobOut]:
    """Backtest jobs, newest first (at most 50)."""
    with api(request).sessions() as session:
        rows = session.scalars(sa.select(BacktestJob).order_by(BacktestJob.id.desc()).limit(50))
        return [_out(r) for r in rows]


def _job(session: Session, job_id: int) -> BacktestJob:
    """The job with id ``job_id``, else a 404."""
    job = session.get(BacktestJob, job_id)
    if job is None:
        raise not_found(f"backtest job {job_id}")
    return job


@router.get("/{job_id}", response_model=BacktestJobOut)
def read(request: Request, job_id: JobId, _: Reader) -> BacktestJobOut:
    """A job's status and progress (0..1)."""
    with api(request).sessions() as session:
        return _out(_job(session, job_id))


@router.get("/{job_id}/results", response_model=BacktestResults)
def results(request: Request, job_id: JobId, _: Reader) -> BacktestResults:
    """A finished job's summary and each strategy's revenue per day (409 until it is done)."""
    with api(request).sessions() as session:
        job = _job(session, job_id)
        if job.status != "done":
            raise conflict(f"backtest job {job_id} is {job.status}" + (f": {job.error}" if job.error else ""))
        data = json.loads(job.result)
    return BacktestResults(id=job_id, **data)
