"""Fixed-load family: consumption that cannot move, a constant in the fleet balance.

::

    net_mw[a,t] = -consumption_mw[a,t],   consumption_mw = scale_mw[a] * profile[a,t]

``consumption_mw`` is a mutable Param so a re-solve can swap in a new forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import FamilySchedule, ValueReader, param_init
from optimizer.problem import PrepareContext
from vpp.assets import LoadSpec


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
