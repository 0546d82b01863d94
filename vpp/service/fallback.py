"""Safe dispatch when the real-time solve fails or times out.

The fallback setpoint of each asset is its day-ahead schedule for the period (``hold`` when there
is none: 0 MW), clipped to what the asset can do from its measured state:

- a family with a fallback rule (``AssetFamily.fallback``; the battery:
  ``-min(P_ch, (E_max - E) / (eta_ch dt)) <= p <= min(P_dis, (E - E_min) eta_dis / dt)`` with E
  the stored energy at the period's start (MWh), dt the period length (h)) clips it from the
  measured stored energy and reports the planned energy at the period's end;
- other assets: the day-ahead value as it is (they follow their own forecasts and limits);

and then the fleet total is scaled back inside the grid connection's import and export limits
(only the setpoints of assets with a fallback rule move).

:func:`solver_failure_status` names why a solve gave no schedule (``timeout`` or ``error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpp.assets.registry import FAMILIES
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
        Measured state at the period's start: per asset id, the family's stored-energy key
        (``AssetFamily.stored_energy``, e.g. battery ``soc_mwh``, MWh).
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
        family = FAMILIES[asset.type]
        if family.fallback is not None:  # the registry checks it has stored_energy and initial_stored_mwh
            initial = family.initial_stored_mwh(asset)
            socs[asset.id] = float(state.get(asset.id, {}).get(family.stored_energy.name, initial))
            target = family.fallback.clip(asset, socs[asset.id], target, dt_h)
        targets[asset.id] = target
    _inside_grid(portfolio, targets, set(socs))
    rows: list[dict[str, Any]] = []
    for asset in portfolio.assets:
        p_mw = targets[asset.id]
        rule = FAMILIES[asset.type].fallback
        soc_end = rule.stored_after(asset, socs[asset.id], p_mw, dt_h) if rule and asset.id in socs else None
        rows.append({"asset_id": asset.id, "setpoint_mw": p_mw, "soc_end_mwh": soc_end, "source": "fallback"})
    return rows


def _inside_grid(portfolio: Portfolio, targets: dict[str, float], movable_ids: set[str]) -> None:
    """Scale the movable setpoints back (in place) when the fleet total breaks the grid limits.

    Scaling a feasible storage setpoint towards 0 keeps it feasible.
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
