"""Request and response models of the API (pydantic v2). Units as CONVENTIONS.md: MW (positive =
to the grid), MWh, currency/MWh, currency; timestamps ISO 8601 in the market's zone, labelling period
starts. Money and prices are in the market's currency, named by the ``currency`` field of every
response that carries them (CNY = yuan; fields named ``*_yuan`` hold that currency too).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from market.forecasting.run import DEFAULT_FORECASTER, FORECASTERS

# -- portfolio ---------------------------------------------------------------------------------


class PortfolioIn(BaseModel):
    """A portfolio file's text."""

    model_config = ConfigDict(extra="forbid")
    content: str = Field(min_length=1, description="The portfolio file (YAML or JSON text).")
    format: Literal["yaml", "json"] = "yaml"


class AssetOut(BaseModel):
    id: str
    type: str


class EnvelopeSummary(BaseModel):
    day: dt.date
    adjustable_mw: float
    shiftable_energy_mwh: float
    conflicts: list[str]


class PortfolioCheck(BaseModel):
    """Result of a validation: what the file describes."""

    valid: bool = True
    name: str
    market: str
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency: every price is per MWh in it."
    )
    assets: list[AssetOut]
    envelope: EnvelopeSummary | None = None
    envelope_error: str | None = None


class PortfolioVersionOut(BaseModel):
    id: int
    sha256: str
    name: str
    created_at: dt.datetime
    current: bool = False


class PortfolioOut(PortfolioVersionOut):
    market: str
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency: every price is per MWh in it."
    )
    assets: list[AssetOut]
    body: str


class EnvelopePeriod(BaseModel):
    period_start: str
    max_export_mw: float
    max_import_mw: float
    baseline_mw: float
    up_mw: float
    down_mw: float


class EnvelopeOut(EnvelopeSummary):
    periods: list[EnvelopePeriod]


# -- bids ----------------------------------------------------------------------------------------


class BidCreate(BaseModel):
    """Optional day-ahead price forecast to bid against (else the stored forecast or prices)."""

    model_config = ConfigDict(extra="forbid")
    forecast: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(
        default=None, description="DA price forecast per period of the day (yuan/MWh)."
    )
    time_limit_s: float = Field(default=60.0, gt=0, le=600, description="HiGHS time limit (s).")


class BidPeriod(BaseModel):
    period_start: str
    net_mw: float
    forecast_da: float | None = None


class BidSummary(BaseModel):
    day: dt.date
    periods: int
    status: Literal["awaiting_approval", "approved"]
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    stage: Literal["awaiting_approval", "approved", "dispatching", "settled"] = Field(
        description="Where the bid is: awaiting approval, approved, being dispatched (setpoints sent "
        "for some of its periods) or settled (the day's statement exists)."
    )
    dispatched_periods: int = Field(description="Periods of the day with setpoints sent.")
    settled_revenue_yuan: float | None = Field(default=None, description="The day's settled revenue (yuan).")
    export_mwh: float
    import_mwh: float


class SolveOut(BaseModel):
    """How the solve behind a bid or a dispatch ended (:func:`vpp.solve_outcome.solve_outcome`)."""

    status: str = Field(description="optimal, or feasible (a MIP stopped at its time limit, or repaired).")
    termination: str = Field(description="HiGHS's model status, or 'Repaired: ...'.")
    proven_optimal: bool
    repaired: bool = Field(description="The time limit ran out while storage still charged and "
                           "discharged at once: one LP fixed one direction per storage period.")
    mip_gap: float | None = None
    objective_yuan: float | None = None
    bound_yuan: float | None = Field(default=None, description="Proven bound of the optimum (yuan).")


class BidOut(BidSummary):
    gate_closure: str
    timezone: str = Field(description="The market's time zone (IANA), in which period starts are given.")
    portfolio_version_id: int | None
    expected_revenue_yuan: float | None = None
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency, that of every money amount."
    )
    solver_status: str | None = None
    solve: SolveOut | None = Field(default=None, description="How the bid's solve ended (None: unrecorded).")
    bid_periods: list[BidPeriod]


# -- dispatch and prices ---------------------------------------------------------------------------


class SetpointOut(BaseModel):
    period_start: str
    asset_id: str
    setpoint_mw: float
    soc_end_mwh: float | None
    source: str


class DispatchPeriod(BaseModel):
    period_start: str
    period_end: str = Field(description="When the period ends (market zone): the soc_* are states then.")
    bid_mw: float | None
    setpoint_mw: float | None
    metered_mw: float | None
    soc_planned_mwh: float | None
    soc_measured_mwh: float | None
    source: str | None = Field(description="Of the setpoints: optimal, repaired, feasible (not proven "
                               "optimal) or fallback; comma-joined when assets differ.")
    termination: str | None = Field(default=None, description="How the period's dispatch solve ended "
                                    "(HiGHS's status or 'Repaired: ...'); None for a fallback.")


class DispatchHistory(BaseModel):
    day: dt.date
    periods: list[DispatchPeriod]


class PricePeriod(BaseModel):
    period_start: str
    da_price: float | None
    rt_price: float | None
    forecast_da: float | None


class PricesOut(BaseModel):
    day: dt.date
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency: every price is per MWh in it."
    )
    periods: list[PricePeriod]


# -- settlement ----------------------------------------------------------------------------------


class StatementOut(BaseModel):
    trading_day: dt.date
    periods: int
    q_da_mwh: float
    q_actual_mwh: float
    export_mwh: float
    import_mwh: float
    da_revenue: float
    rt_revenue: float
    revenue: float
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency, that of every money amount."
    )


class SettlementPeriod(BaseModel):
    period_start: str
    period_end: str = Field(description="When the period ends (market zone): its money is earned by then.")
    q_da_mwh: float
    q_actual_mwh: float
    p_da: float
    p_rt: float
    da_revenue: float
    rt_revenue: float
    revenue: float


class DailyOut(StatementOut):
    settlement_periods: list[SettlementPeriod]


class MonthlyOut(BaseModel):
    month: str
    days: int
    periods: int
    q_da_mwh: float
    q_actual_mwh: float
    export_mwh: float
    import_mwh: float
    da_revenue: float
    rt_revenue: float
    revenue: float
    currency: str = Field(
        default="CNY", description="ISO 4217 code of the market's currency, that of every money amount."
    )
    daily: list[StatementOut]


# -- backtests and health -------------------------------------------------------------------------


ForecasterName = Literal[tuple(FORECASTERS)]  # type: ignore[valid-type]
"""A registered forecaster name (``vpp forecast list``)."""


class BacktestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date
    end: dt.date
    strategies: list[str] = Field(default=["da_rt", "da_only"], min_length=1, max_length=8)
    forecast: ForecasterName = Field(  # type: ignore[valid-type]
        default=DEFAULT_FORECASTER, description="DA price forecaster (market.forecasting registry)."
    )
    time_limit_s: float = Field(default=30.0, gt=0, le=600)


class BacktestJobOut(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str | None
    params: dict
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None


class BacktestResults(BaseModel):
    id: int
    summary: dict
    daily_revenue: dict[str, list[dict]]


class HealthOut(BaseModel):
    """``/api/health``: 200 with ``status: ok``, else 503 with ``status: unhealthy`` and why."""

    status: Literal["ok", "unhealthy"]
    problems: list[str] = []
    database: str
    schema_revision: str | None
    version: str
    lease: dict[str, Any] | None = None
    dispatch: dict[str, Any] | None = None
    alerts: list[dict[str, Any]] = []


class WhoAmI(BaseModel):
    name: str
    role: str
