"""Helpers shared by the family builders: typed outputs, value access, forecasts and restarts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

ValueReader = Callable[[pyo.Component], np.ndarray]
"""``values(component)`` returns the solved values of an indexed Var as a flat float array, in the
component's index order (asset-major, then period)."""


@dataclass(frozen=True)
class FamilySchedule:
    """Solved schedules of one family.

    Attributes
    ----------
    net_mw : np.ndarray
        Net export per asset and period (MW), shape (A, T).
    series : dict[str, np.ndarray]
        Named per-asset arrays of shape (A, T), e.g. ``charge_mw``, ``soc_mwh``.
    costs_yuan : dict[str, float]
        The family's cost terms evaluated at the solution (yuan), same keys as ``cost_terms``.
    """

    net_mw: np.ndarray
    series: dict[str, np.ndarray] = field(default_factory=dict)
    costs_yuan: dict[str, float] = field(default_factory=dict)


def as_matrix(values: ValueReader, component: pyo.Component, n_assets: int) -> np.ndarray:
    """Solved values of a Var indexed by (asset, period) as an (A, T) array."""
    return values(component).reshape(n_assets, -1)


def frame(array: np.ndarray, ids: list[str], index: pd.DatetimeIndex) -> pd.DataFrame:
    """An (A, T) array as a DataFrame indexed by timestamp with one column per asset."""
    return pd.DataFrame(array.T, index=index, columns=pd.Index(ids, name="asset_id"))


def param_init(array: np.ndarray, ids: list[str]) -> Callable[[pyo.Block, str, int], float]:
    """Initial values of a Param indexed by (asset, period) from an (A, T) array, as a Pyomo rule.

    A rule ``(block, a, t) -> float`` rather than a dict: Pyomo validates every key of a dict
    initializer against the index set, which made Param construction about 2.5x slower (about 1 s
    of the build of a 1,000-asset fleet).
    """
    rows = dict(zip(ids, np.asarray(array, dtype=float).tolist(), strict=True))

    def rule(block: pyo.Block, a: str, t: int) -> float:
        return rows[a][t]

    return rule


def checked_forecast(
    values: np.ndarray, expected: np.ndarray, label: str, *, clip_negative: bool
) -> np.ndarray:
    """A forecast array (A, T) of the same shape as ``expected``; negatives clipped to 0 if asked.

    Raises
    ------
    ValueError
        The shape differs (``label`` names the family and field).
    """
    array = np.asarray(values, dtype=float)
    if clip_negative:
        array = np.maximum(array, 0.0)
    if array.shape != expected.shape:
        raise ValueError(f"{label}: shape {array.shape}, expected {expected.shape}")
    return array


def write_from_period(
    param: pyo.Param, ids: list[str], values: np.ndarray, k: int, periods: range | None = None
) -> None:
    """Write ``values`` (A, T) into a Param indexed by (asset, period): 0 before period ``k``.

    Only ``periods`` are written (default all): a restart rewrites just the periods that changed
    side of ``k``.
    """
    for i, a in enumerate(ids):
        for t in periods if periods is not None else range(values.shape[1]):
            param[a, t] = 0.0 if t < k else float(values[i, t])


def restart_window(b: pyo.Block, k: int | None = None) -> tuple[int, range | None]:
    """The restart period kept on block ``b`` and the periods to rewrite, for :func:`write_from_period`.

    Parameters
    ----------
    b : pyo.Block
        A family block; its restart period is stored on it (0, the whole horizon, until a restart).
    k : int, optional
        A new restart period (first period still to optimise), stored on ``b``. None keeps the
        stored one, e.g. when a new forecast is written.

    Returns
    -------
    k : int
        The restart period in force: Params are 0 before it.
    periods : range or None
        With a new ``k``, the periods whose side of the restart period changed; else None (all).
    """
    prev = getattr(b, "_restart_k", 0)
    if k is None:
        return prev, None
    b._restart_k = int(k)
    return int(k), range(min(k, prev), max(k, prev))


def write_forecast(b: pyo.Block, data: Any, field: str, k: int | None = None) -> np.ndarray:
    """Write Param ``b.<field>`` (A, T) from the current forecast, 0 before the restart period.

    Parameters
    ----------
    b : pyo.Block
        The family block; Param ``<field>`` is indexed by (asset, period).
    data : Any
        The family's prepared data: ``ids`` and the (A, T) array ``<field>``.
    field : str
        The forecast's name, also its data field and Param, e.g. ``consumption_mw`` (MW).
    k : int, optional
        A new restart period (:func:`restart_window`): only the periods that changed side are
        written. None writes every period at the stored one.

    Returns
    -------
    np.ndarray
        The forecast written (A, T): the last one given to :func:`replace_forecast`, else
        ``data.<field>``.
    """
    values = getattr(b, f"_forecast_{field}", getattr(data, field))
    write_from_period(getattr(b, field), data.ids, values, *restart_window(b, k))
    return values


def replace_forecast(
    b: pyo.Block, data: Any, field: str, name: str, array: np.ndarray, *, family: str, clip_negative: bool
) -> None:
    """A family's ``set_forecast``: check ``array``, keep it on ``b`` and write it (:func:`write_forecast`).

    Raises
    ------
    ValueError
        ``name`` is not ``field`` (the one forecast ``family`` takes), or the shape differs from
        ``data.<field>``.
    """
    if name != field:
        raise ValueError(f"{family} forecasts: {field!r}, not {name!r}")
    checked = checked_forecast(array, getattr(data, field), f"{family} {field}", clip_negative=clip_negative)
    setattr(b, f"_forecast_{field}", checked)
    write_forecast(b, data, field)
