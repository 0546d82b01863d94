"""The optimisation half of an asset family: what every ``optimizer/families/<name>.py`` provides.

A family module satisfies :class:`FamilyModel` with module-level functions and constants; generic
code (model assembly, the solver, day-to-day model reuse, the stochastic model, state carrying)
reads only these and never tests a family's name. :func:`check_model` verifies a module when the
registry loads it, so a missing piece fails at import with the file and the name, not mid-solve.

State carried between periods (``carry``) is written with the family's typed
:class:`vpp.assets.family.StateKey` names; ``at(series)`` reads the solved series of this family
(``series`` without the family prefix, e.g. ``soc_mwh``) for one asset at the period carried out.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import ModuleType
from typing import Any, Literal, Protocol

import pyomo.environ as pyo

from optimizer.families.common import FamilySchedule, ValueReader

SeriesAt = Callable[[str], "float | None"]
"""``at(name)``: the solved value of the family's series ``name`` for one asset at one period
(None when the schedule has no such series)."""

Restart = Literal["any_period", "day_start", "never"]
"""A family's restart capability (:attr:`FamilyModel.RESTART`)."""

Ordering = tuple[tuple[str, int], ...]
"""Variables ordered between the stochastic model's ``da_lo`` and ``da_hi`` copies:
``(variable, +1)`` means ``lo <= hi``, ``(variable, -1)`` means ``lo >= hi``."""


class FamilyModel(Protocol):
    """One asset family's Pyomo block, for all assets of the family at once (sets ``A`` x ``T``).

    Constants
    ---------
    RESTART : {"any_period", "day_start", "never"}
        What ``restart(b, data, k, state)`` supports: any ``k`` (the past is zeroed and the state
        taken from ``state``); only ``k = 0`` (within a day the solver pins the family's past
        instead: ``ModelSolver.carry_out``, ``ModelSolver.restart_pinning_past``); or nothing
        (the model is rebuilt for every solve; ``restart`` is then not provided).
    FORECAST_FIELDS : tuple of str
        Data fields ``set_forecast`` replaces (day-to-day model reuse swaps them in).
    DAY_VARYING : tuple of str or None
        Data fields a reused model takes from a new day (forecasts, or Params ``restart``
        rewrites); any other difference rebuilds the model. None: rebuild every day.
    ORDERED_VARS : Ordering or None
        The stochastic model's ordering of the DA copies; None: equal net export per asset.
    TWO_WAY : bool
        The family has simultaneous-flow pairs (charge and discharge) that
        :mod:`optimizer.exclusive` keeps apart; it then provides ``two_way``.
    """

    RESTART: Restart
    FORECAST_FIELDS: tuple[str, ...]
    DAY_VARYING: tuple[str, ...] | None
    ORDERED_VARS: Ordering | None
    TWO_WAY: bool

    def prepare(self, specs: list[Any], ctx: Any) -> Any:
        """Specs and a ``PrepareContext`` to frozen numpy data (no Pyomo)."""

    def build(self, b: pyo.Block, data: Any, m: pyo.Block) -> None:
        """Variables and constraints on ``b``; must create ``b.A``, ``b.net_mw[a, t]`` (MW,
        export positive) and ``b.cost_terms`` (yuan, costs positive)."""

    def extract(self, b: pyo.Block, data: Any, values: ValueReader) -> FamilySchedule:
        """Solved schedules: net export and named series, each (A, T), and the costs."""

    def restart(self, b: pyo.Block, data: Any, k: int, state: dict[str, dict[str, float]]) -> None:
        """Optimise periods ``k..T-1`` from ``state`` (per asset id, the family's state keys);
        only with ``RESTART`` other than ``never``."""

    def carry(self, entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
        """Update one asset's state ``entry`` in place after a period of ``dt_h`` hours."""


OPTIONAL = {"set_forecast": "FORECAST_FIELDS", "two_way": "TWO_WAY"}
"""Functions a family provides when the named constant is non-empty / true."""


def check_model(name: str, module: ModuleType) -> None:
    """Raise ``TypeError`` naming the module and what it lacks when it is no :class:`FamilyModel`."""
    required = [*FamilyModel.__annotations__, "prepare", "build", "extract", "carry"]
    if getattr(module, "RESTART", "never") != "never":
        required.append("restart")
    required += [fn for fn, flag in OPTIONAL.items() if getattr(module, flag, None)]
    missing = [attr for attr in required if not hasattr(module, attr)]
    if missing:
        raise TypeError(f"family '{name}' ({module.__name__}) lacks {', '.join(missing)} (FamilyModel)")


def no_carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """``carry`` of a family that keeps no state between periods."""


def add_energy(entry: MutableMapping[str, float], key: str, mw: float | None, dt_h: float) -> None:
    """Add ``mw * dt_h`` (MWh) to the counter ``entry[key]`` (absent: 0; ``mw`` None: 0 MW)."""
    entry[key] = entry.get(key, 0.0) + (mw or 0.0) * dt_h


__all__ = ["FamilyModel", "Ordering", "SeriesAt", "add_energy", "check_model", "no_carry"]
