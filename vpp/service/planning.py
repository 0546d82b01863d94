"""Pure helpers of the pipeline: which period or day a job is for, the measured state, the price.

State of charge at the start of period ``k`` (MWh) comes from telemetry when there is any: the
latest measured ``soc_mwh`` (end of period ``j < k``) plus the planned change of the setpoints of
periods ``j+1 .. k-1`` that were sent since (telemetry of the period just ending is not in yet
when period ``k`` is dispatched). Without telemetry it is the planned end state of period
``k-1`` (its setpoints), else the day-ahead schedule's, else the portfolio's initial state.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from market.calendar import period_hours, trading_day_index, trading_day_of
from market.presets import MarketSpec
from optimizer.result import ScheduleResult
from simulator.rt_forecasts import SPREAD_PROFILE_DAYS, rt_forecast_spread_profile
from simulator.strategies import RtView
from vpp.assets.registry import FAMILIES, stored_energy_frame
from vpp.portfolio_io import LoadedPortfolio
from vpp.service import repository
from vpp.solve_outcome import schedule_source, solve_outcome

INJECT_ENV = "VPP_INJECT_SOLVER_FAILURE"
"""Fault injection: ``all``, ``bid`` or period positions in the day (``10,11``) whose solve raises."""

TELEMETRY_LOOKBACK = pd.Timedelta(hours=6)
"""Telemetry older than this is ignored for the measured state."""


@dataclass(frozen=True)
class PeriodSlot:
    """A period and its place in its trading day.

    Attributes
    ----------
    start : pd.Timestamp
        Period start (market zone).
    day : datetime.date
        Its trading day.
    index : pd.DatetimeIndex
        Period starts of the day.
    k : int
        Position of ``start`` in ``index``.
    dt_h : np.ndarray
        Period lengths of the day (h).
    """

    start: pd.Timestamp
    day: dt.date
    index: pd.DatetimeIndex
    k: int
    dt_h: np.ndarray

    @property
    def key(self) -> str:
        """The job-run key of the period: its start in UTC, ISO 8601."""
        return period_key(self.start)

    @property
    def utc(self) -> dt.datetime:
        """The period start as a UTC datetime (database value)."""
        return self.start.tz_convert("UTC").to_pydatetime()


def period_key(start: pd.Timestamp) -> str:
    """Job-run key of a period: ``2024-01-01T16:00:00+00:00`` (UTC)."""
    return pd.Timestamp(start).tz_convert("UTC").isoformat()


def slot_at(market: MarketSpec, instant: pd.Timestamp) -> PeriodSlot:
    """The period that contains ``instant``."""
    # floored in UTC: a local floor is ambiguous in the hour a clock change repeats
    local = pd.Timestamp(instant).tz_convert("UTC").floor("us").as_unit("us").tz_convert(market.timezone)
    day = trading_day_of(market, local)
    index = trading_day_index(market, day)
    k = int(index.searchsorted(local, side="right")) - 1
    return PeriodSlot(index[k], day, index, k, period_hours(index, market))


def dispatch_slot(market: MarketSpec, now: pd.Timestamp, lead_s: float) -> PeriodSlot:
    """The period a dispatch at ``now`` is for: the one that contains ``now + lead``."""
    return slot_at(market, pd.Timestamp(now) + pd.Timedelta(seconds=lead_s))


def measured_state(
    session: Session, loaded: LoadedPortfolio, slot: PeriodSlot
) -> tuple[dict[str, dict[str, float]], str]:
    """State of the fleet at the start of ``slot`` and where the stored energy came from.

    Returns
    -------
    state : dict
        Per asset of a family that stores energy (``AssetFamily.stored_energy``, e.g. battery
        ``soc_mwh``): the stored energy (MWh, from telemetry, else the plan, else the portfolio);
        per asset with daily energy counters (``StateKey.accrues``, e.g. battery
        ``discharged_mwh``, flexible load ``energy_consumed_mwh``): the energy exported or drawn
        so far today (MWh, from the day's setpoints: loads report no telemetry).
    source : str
        ``telemetry``, ``setpoints``, ``day_ahead`` or ``portfolio`` (the source of the first
        asset that stores energy; ``none`` without one).
    """
    assets = loaded.portfolio.assets
    family = {a.id: FAMILIES[a.type] for a in assets}
    storing = [a for a in assets if family[a.id].stored_energy is not None]
    counters = {a.id: [k for k in family[a.id].state_keys if k.accrues] for a in assets}
    counters = {a: keys for a, keys in counters.items() if keys}
    if not storing and not counters:
        return {}, "none"
    start = slot.utc
    day_start = slot.index[0].tz_convert("UTC").to_pydatetime()
    dispatched = repository.setpoints_between(session, day_start, start)
    state: dict[str, dict[str, float]] = {
        a: {k.name: 0.0 for k in keys} for a, keys in sorted(counters.items())
    }
    sources: list[str] = []
    if storing:
        step = pd.Timedelta(hours=float(slot.dt_h[slot.k]))
        previous = (slot.start - step).tz_convert("UTC").to_pydatetime()
        ids = [b.id for b in storing]
        telemetry = repository.latest_telemetry(session, ids, start, start - TELEMETRY_LOOKBACK)
        planned_prev = repository.setpoints_at(session, previous)
        day_ahead_prev = repository.day_ahead_at(session, previous)
        for b in storing:
            soc, source = _soc(session, b.id, telemetry, planned_prev, day_ahead_prev)
            if soc is None:
                soc, source = float(family[b.id].initial_stored_mwh(b)), "portfolio"
            state.setdefault(b.id, {})[family[b.id].stored_energy.name] = soc
            sources.append(source)
    for sp in dispatched:
        if sp.asset_id not in counters:
            continue
        k = slot.index.get_loc(pd.Timestamp(sp.period_start).tz_convert(slot.index.tz))
        energy = sp.setpoint_mw * float(slot.dt_h[k])  # MWh, export positive
        for key in counters[sp.asset_id]:
            state[sp.asset_id][key.name] += max(energy if key.accrues == "export" else -energy, 0.0)
    return state, sources[0] if sources else "none"


def _soc(session, asset_id, telemetry, planned_prev, day_ahead_prev) -> tuple[float | None, str]:
    measured = telemetry.get(asset_id)
    if measured is not None:
        soc = float(measured.soc_mwh)
        prev = planned_prev.get(asset_id)
        base = repository.setpoints_at(session, measured.period_start).get(asset_id)
        if prev is not None and base is not None and None not in (prev.soc_end_mwh, base.soc_end_mwh):
            soc += float(prev.soc_end_mwh) - float(base.soc_end_mwh)
        return soc, "telemetry"
    if asset_id in planned_prev and planned_prev[asset_id].soc_end_mwh is not None:
        return float(planned_prev[asset_id].soc_end_mwh), "setpoints"
    if asset_id in day_ahead_prev and day_ahead_prev[asset_id].soc_mwh is not None:
        return float(day_ahead_prev[asset_id].soc_mwh), "day_ahead"
    return None, "portfolio"


def dispatch_price(
    slot: PeriodSlot, da: np.ndarray, rt: np.ndarray, history: pd.DataFrame | None = None
) -> np.ndarray:
    """Real-time price forecast of the whole day (yuan/MWh) for a re-solve from ``slot.k``.

    The backtest's ``da_rt`` forecast (:func:`simulator.rt_forecasts.rt_forecast_spread_profile`):
    the day's DA price plus the last observed RT-DA spread fading with a one-hour time constant
    into the mean RT-DA spread of each time of day (local wall clock) over ``history``'s 28
    calendar days before the day (:func:`spread_history`). No last spread (period 0, or
    the RT or DA price of period ``k-1`` not in yet): only the profile fades in, as at the day's
    first period. Without history: the DA price plus the fading last spread.

    Parameters
    ----------
    slot : PeriodSlot
        The period dispatched.
    da, rt : np.ndarray
        The day's DA (cleared, else forecast) and RT prices (yuan/MWh; NaN where unknown).
    history : pd.DataFrame or None
        Stored ``da_price`` and ``rt_price`` (yuan/MWh) of periods before the day
        (:func:`spread_history`).
    """
    k = slot.k
    da, seen = np.asarray(da, dtype=float), np.asarray(rt[:k], dtype=float)
    return rt_forecast_spread_profile(RtView(slot.index, slot.dt_h, k, da, seen, history=history))


def spread_history(session: Session, market: MarketSpec, slot: PeriodSlot) -> pd.DataFrame:
    """Stored prices (yuan/MWh) of the ``SPREAD_PROFILE_DAYS`` calendar days before ``slot``'s day.

    What :func:`dispatch_price` averages its spread profile over; one query. The days are counted
    in the market zone, as :func:`simulator.rt_forecasts.trailing_spread_profile` counts them.
    """
    start = slot.index[0] - pd.DateOffset(days=SPREAD_PROFILE_DAYS)
    utc = [t.tz_convert("UTC").to_pydatetime() for t in (start, slot.index[0])]
    return repository.price_frame(session, *utc, market.timezone)


def result_setpoints(result: ScheduleResult, start: pd.Timestamp) -> list[dict]:
    """Setpoint rows of period ``start`` from a solved schedule (MW; stored MWh at the period end).

    Their ``source`` says how the solve ended (:func:`vpp.solve_outcome.schedule_source`):
    ``optimal``, ``repaired`` or ``feasible``.
    """
    row = result.asset_net_mw.loc[start]
    soc = stored_energy_frame(result.series)
    source = schedule_source(solve_outcome(result.stats))
    return [
        {
            "asset_id": str(asset_id),
            "setpoint_mw": float(value),
            "soc_end_mwh": float(soc.loc[start, asset_id])
            if soc is not None and asset_id in soc.columns
            else None,
            "source": source,
        }
        for asset_id, value in row.items()
    ]


def injected_failure(what: str, k: int | None = None) -> bool:
    """True when ``VPP_INJECT_SOLVER_FAILURE`` asks the solve of ``what`` (period ``k``) to fail."""
    spec = os.environ.get(INJECT_ENV, "").strip()
    if not spec:
        return False
    items = {s.strip() for s in spec.split(",")}
    return "all" in items or what in items or (k is not None and str(k) in items)
