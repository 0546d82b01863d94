"""Helpers shared by the family builders: typed outputs and value access."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
