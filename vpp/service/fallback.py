"""Safe dispatch when the real-time solve fails or times out.

The fallback setpoint of each asset is its day-ahead schedule for the period (``hold`` when there
is none: 0 MW), clipped to what the asset can do from its measured state:

- battery: ``-min(P_ch, (E_max - E) / (eta_ch dt)) <= p <= min(P_dis, (E - E_min) eta_dis / dt)``
  with E the stored energy at the period's start (MWh), dt the period length (h); the planned
  energy at the end is ``E - p dt / eta_dis`` when discharging, ``E - p dt eta_ch`` when charging
  (self-discharge neglected over one period);
- other assets: the day-ahead value as it is (they follow their own forecasts and limits);

and then the fleet total is scaled back inside the grid connection's import and export limits.

:func:`solver_failure_status` names why a solve gave no schedule (``timeout`` or ``error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpp.assets.battery import BatterySpec
from vpp.portfolio import Portfolio

TIME_LIMIT_STATUS = "Time limit reached"
"""HiGHS's model status text when it stopped at its time limit (``modelStatusToString``)."""


def solver_failure_status(exc: BaseException) -> str:
    """The ``solver_status`` recorded for a solve that raised ``exc``.

    Parameters
    ----------
    exc : BaseException
        What the solve raised.

    Returns
    -------
    str
        ``timeout`` when HiGHS stopped at its time limit without a solution, else ``error``
        (another HiGHS stop such as an iteration limit, bad input, an injected failure). Every
        ``SolverError`` message quotes the configured limit, so only HiGHS's own status counts.
    """
    return "timeout" if TIME_LIMIT_STATUS in str(exc) else "error"


def battery_after(spec: BatterySpec, soc_mwh: float, p_mw: float, dt_h: float) -> float:
    """Stored energy after one period at ``p_mw`` (MW, positive = discharge to the grid) (MWh)."""
    if p_mw >= 0:
        return soc_mwh - p_mw * dt_h / spec.discharge_efficiency
    return soc_mwh - p_mw * dt_h * spec.charge_efficiency


def clip_battery(spec: BatterySpec, soc_mwh: float, target_mw: float, dt_h: float) -> float:
    """The setpoint closest to ``target_mw`` that the battery can hold for ``dt_h`` hours (MW)."""
    soc = min(max(soc_mwh, spec.soc_min_mwh), spec.soc_ceiling_mwh)
    discharge = min(spec.discharge_limit_mw, (soc - spec.soc_min_mwh) * spec.discharge_efficiency / dt_h)
    charge = min(spec.charge_limit_mw, (spec.soc_ceiling_mwh - soc) / (spec.charge_efficiency * dt_h))
    return float(min(max(target_mw, -max(charge, 0.0)), max(discharge, 0.0)))


def fallback_setpoints(
    portfolio: Portfolio,
    state: Mapping[str, Mapping[str, float]],
    day_ahead_mw: Mapping[str, float] | None,
    dt_h: float,
) -> list[dict[str, Any]]:
    """Fallback setpoints of one period.

    Parameters
    ----------
    portfolio : Portfolio
        The fleet.
    state : mapping
        Measured state at the period's start: per asset id, ``soc_mwh`` (MWh) for batteries.
    day_ahead_mw : mapping or None
        Day-ahead schedule of the period per asset id (MW); None or missing: hold (0 MW).
    dt_h : float
        Period length (h).

    Returns
    -------
    list of dict
        ``asset_id``, ``setpoint_mw`` (MW), ``soc_end_mwh`` (MWh or None), ``source="fallback"``.
    """
    plan = dict(day_ahead_mw or {})
    targets: dict[str, float] = {}
    socs: dict[str, float] = {}
    for asset in portfolio.assets:
        target = float(plan.get(asset.id, 0.0))
        if isinstance(asset, BatterySpec):
            socs[asset.id] = float(state.get(asset.id, {}).get("soc_mwh", asset.soc_initial_mwh))
            target = clip_battery(asset, socs[asset.id], target, dt_h)
        targets[asset.id] = target
    _inside_grid(portfolio, targets, set(socs))
    rows: list[dict[str, Any]] = []
    for asset in portfolio.assets:
        p_mw = targets[asset.id]
        soc_end = battery_after(asset, socs[asset.id], p_mw, dt_h) if asset.id in socs else None
        rows.append({"asset_id": asset.id, "setpoint_mw": p_mw, "soc_end_mwh": soc_end, "source": "fallback"})
    return rows


def _inside_grid(portfolio: Portfolio, targets: dict[str, float], movable_ids: set[str]) -> None:
    """Scale the batteries' setpoints back (in place) when the fleet total breaks the grid limits.

    Scaling a feasible battery setpoint towards 0 keeps it feasible.
    """
    total = sum(targets.values())
    excess = 0.0
    if total > portfolio.grid.export_limit_mw:
        excess = total - portfolio.grid.export_limit_mw
    elif total < -portfolio.grid.import_limit_mw:
        excess = total + portfolio.grid.import_limit_mw
    movable = [a for a in movable_ids if targets[a] * excess > 0]
    share = sum(targets[a] for a in movable)
    if not excess or not share:
        return
    scale = max(0.0, 1.0 - excess / share)
    for a in movable:
        targets[a] *= scale
