"""Fixed-load family: consumption that cannot move, a constant in the fleet balance.

::

    net_mw[a,t] = -consumption_mw[a,t],   consumption_mw = scale_mw[a] * profile[a,t]

``consumption_mw`` is a mutable Param so a re-solve can swap in a new forecast
(:func:`set_forecast`) and optimise only the rest of the day (:func:`restart`: consumption 0
before period ``k``, the past being settled already) without rebuilding the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import (
    FamilySchedule,
    ValueReader,
    param_init,
    replace_forecast,
    write_forecast,
)
from optimizer.families.protocol import Ordering, Restart, no_carry
from optimizer.problem import PrepareContext
from vpp.assets import LoadSpec

RESTART: Restart = "any_period"
FORECAST_FIELDS: tuple[str, ...] = ("consumption_mw",)
DAY_VARYING: tuple[str, ...] | None = ("consumption_mw",)
ORDERED_VARS: Ordering | None = ()
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class LoadData:
    """Fixed-load arrays: consumption (A, T) in MW, positive = drawn from the grid."""

    ids: list[str]
    consumption_mw: np.ndarray


def prepare(specs: list[LoadSpec], ctx: PrepareContext) -> LoadData:
    """Load specs to a consumption array (MW)."""
    scale = np.array([s.scale_mw for s in specs])
    profile = np.vstack([ctx.profile(s, "profile", s.profile) for s in specs])
    return LoadData(ids=[s.id for s in specs], consumption_mw=scale[:, None] * profile)


def build(b: pyo.Block, data: LoadData, m: pyo.ConcreteModel) -> None:
    """Create the consumption Param and ``net_mw`` on block ``b``."""
    b.A = pyo.Set(initialize=data.ids, ordered=True)
    b.consumption_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.consumption_mw, data.ids))
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: -b.consumption_mw[a, t])
    b.cost_terms = {}


def extract(b: pyo.Block, data: LoadData, values: ValueReader) -> FamilySchedule:
    """The fixed consumption as net export (A, T)."""
    return FamilySchedule(net_mw=-data.consumption_mw, series={"consumption_mw": data.consumption_mw})


def restart(b: pyo.Block, data: LoadData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Optimise periods ``k..T-1`` only: ``consumption_mw = 0`` before ``k`` (no state).

    Parameters
    ----------
    b : pyo.Block
        The load block built by :func:`build`.
    data : LoadData
        The data it was built from.
    k : int
        First period still to optimise.
    state : dict
        Unused (a fixed load holds no state).
    """
    write_forecast(b, data, "consumption_mw", k)


def set_forecast(b: pyo.Block, data: LoadData, name: str, array: np.ndarray) -> None:
    """Replace the consumption forecast (MW, positive = drawn), shape (A, T).

    Raises
    ------
    ValueError
        Unknown ``name`` (only ``consumption_mw``) or wrong shape.
    """
    replace_forecast(b, data, "consumption_mw", name, array, family="load", clip_negative=False)


carry = no_carry
