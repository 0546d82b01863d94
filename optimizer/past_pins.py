"""The past of a day's model in a mid-day restart (``ModelSolver.restart_pinning_past``).

Families that cannot restart at period ``k`` (EV hubs, generators, heating) restart at the day
start instead, with their variables before ``k`` pinned at the plan that was in force: a
:class:`PastPlan` taken after each solve. These are the plain-data pieces: the plan, what a
restart did (:class:`PastPinning`), the family variables of a model in build order
(:class:`FamilyVars`) and the pins one restart asks for (:class:`PastRequest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyomo.environ as pyo

from optimizer.model import family_blocks


@dataclass(frozen=True)
class PastPlan:
    """The solved value of every family variable of a day's model: the plan in force after a solve.

    Made by :meth:`ModelSolver.past_plan`; a later :meth:`ModelSolver.restart_pinning_past` pins
    the past of the families that cannot restart mid-day at these values.

    Attributes
    ----------
    keys : tuple of (str, object)
        Per variable: its component's name and index, e.g. ``("ev_hub.charge_mw", ("hub/s0", 12))``.
    values : np.ndarray
        Solved value per variable, in the variable's unit (MW, MWh, deg C, 0/1).
    """

    keys: tuple[tuple[str, object], ...]
    values: np.ndarray

    @cached_property
    def position(self) -> dict[tuple[str, object], int]:
        """Position of each key in :attr:`keys` (to read a plan made on another build of the model)."""
        return {key: i for i, key in enumerate(self.keys)}


@dataclass(frozen=True)
class PastPinning:
    """What :meth:`ModelSolver.restart_pinning_past` did with the periods before ``k``.

    Attributes
    ----------
    k : int
        First period optimised.
    families : tuple of str
        Families restarted at the day start with their past pinned (they cannot restart at ``k``).
    replanned : bool
        Some of their past variables had no planned value and were left free (re-planned).
    """

    k: int
    families: tuple[str, ...] = ()
    replanned: bool = False

    @property
    def note(self) -> str | None:
        """``pinned`` or ``re-planned`` when some family's past was handled so, else None."""
        if not self.families:
            return None
        return "re-planned" if self.replanned else "pinned"


class FamilyVars:
    """Every Var datum of the model's family blocks, in build order (computed once per model).

    Attributes
    ----------
    vars : list of VarData
    keys : tuple of (str, object)
        Component name and index per variable (the keys of a :class:`PastPlan`).
    family : np.ndarray
        Position of the variable's family in :attr:`families`.
    period : np.ndarray
        The period a variable belongs to (last index), -1 for variables of no period.
    integer : np.ndarray
        True for integer and binary variables.
    """

    def __init__(self, model: pyo.ConcreteModel, n_periods: int) -> None:
        self.families = [name for name, _ in family_blocks(model)]
        self.vars: list[pyo.Var] = []
        keys: list[tuple[str, object]] = []
        family: list[int] = []
        period: list[int] = []
        for f, (_, block) in enumerate(family_blocks(model)):
            for comp in block.component_objects(pyo.Var, active=True, descend_into=True):
                name = comp.name
                for index, var in comp.items():
                    last = index[-1] if isinstance(index, tuple) else index
                    self.vars.append(var)
                    keys.append((name, index))
                    family.append(f)
                    period.append(last if isinstance(last, int) and 0 <= last < n_periods else -1)
        self.keys = tuple(keys)
        self.family = np.asarray(family, dtype=np.int64)
        self.period = np.asarray(period, dtype=np.int64)
        self.integer = np.fromiter((v.is_integer() or v.is_binary() for v in self.vars), bool, len(self.vars))
        self._column_of: dict[int, int] | None = None
        self._cols = np.zeros(0, dtype=np.int64)

    def columns(self, column_of: dict[int, int]) -> np.ndarray:
        """HiGHS column of every variable (-1: not in HiGHS), cached per column map."""
        if self._column_of is not column_of:
            self._cols = np.fromiter((column_of.get(id(v), -1) for v in self.vars), np.int64, len(self.vars))
            self._column_of = column_of
        return self._cols

    def past(self, families: Sequence[str], k: int) -> np.ndarray:
        """Positions of the variables of ``families`` in periods ``0..k-1``."""
        chosen = [self.families.index(name) for name in families]
        return np.flatnonzero(np.isin(self.family, chosen) & (self.period >= 0) & (self.period < k))


@dataclass(frozen=True)
class PastRequest:
    """Past pins asked for by a hybrid restart: variable positions and values (NaN: left free)."""

    k: int
    positions: np.ndarray
    values: np.ndarray

    @classmethod
    def make(cls, layout: FamilyVars, k: int, families: Sequence[str], plan: PastPlan | None) -> PastRequest:
        """The past of ``families`` before ``k``, valued from ``plan`` (matched by key on a rebuild)."""
        positions = layout.past(families, k)
        if plan is None:
            values = np.full(positions.size, np.nan)
        elif plan.keys is layout.keys or plan.keys == layout.keys:
            values = plan.values[positions]
        else:  # a plan made on another build of the day's model: match by name and index
            at = plan.position
            values = np.array(
                [plan.values[at[layout.keys[i]]] if layout.keys[i] in at else np.nan for i in positions],
                dtype=float,
            )
        return cls(k, positions, values)
