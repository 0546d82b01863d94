"""No simultaneous charge and discharge: binaries added only where a solve shows both flows.

A storage that charges and discharges in the same period burns energy through its losses. That
pays whenever importing more (a negative price now or later in the day) or exporting less (a
binding export limit) is worth more than the lost energy, so an LP does it, and the schedule is not
physically feasible. The exact model puts a binary ``on[k]`` on every key ``k`` (asset, period)::

    charge[k]    <= charge_bound[k] * on[k]
    discharge[k] <= discharge_bound[k] * (1 - on[k])

but a MILP with a binary in every period of every asset is slow. :class:`Exclusivity` adds them
lazily: solve, find the keys where both flows exceed :data:`SIMULTANEOUS_MW`, add binaries on those
keys only, re-solve, until no key has both. If the re-solve burns elsewhere, every period of the
assets concerned gets a binary, and after a third solve that still burns, every key
(:meth:`Exclusivity.escalate`): at most four solves, never one per period. The final model is a
relaxation of the exact one (it has a subset of its binaries) whose optimum is feasible for the
exact one, so it is optimal for the exact one (to the same MIP gap); the binaries stay for later
re-solves of the model. The loop is :func:`optimizer.escalation.solve_exclusive`; when the solve's
time budget runs out before no key burns, :mod:`optimizer.repair` fixes each key's direction instead.

A family declares its opposite flows with ``two_way(block, data) -> list[TwoWay]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

SIMULTANEOUS_MW = 1e-6
"""Both flows above this (MW) in one key count as simultaneous charge and discharge."""


@dataclass(frozen=True)
class TwoWay:
    """A family's opposite flows that must not both be positive in one key.

    Attributes
    ----------
    name : str
        Short name, unique within the family's block (names the added components).
    charge, discharge : pyo.Var
        The two indexed flow variables (MW), both indexed by every key of ``keys``.
    keys : list
        The keys (e.g. ``(asset, period)``) where both flows exist and no binary was built with
        the family.
    charge_bound_mw, discharge_bound_mw : np.ndarray
        Per key, an upper bound of each flow that always holds (MW), shape (len(keys),).
    """

    name: str
    charge: pyo.Var
    discharge: pyo.Var
    keys: list
    charge_bound_mw: np.ndarray
    discharge_bound_mw: np.ndarray


ColumnsOf = Callable[[Sequence[pyo.Var]], np.ndarray]
"""``columns(vars) -> solution value of each VarData`` of the last solve."""


class Exclusivity:
    """The two-way flows of a model and the binaries added to keep them exclusive.

    Parameters
    ----------
    pairs : list of (pyo.Block, TwoWay)
        Every family's two-way flows with the block they live on.
    """

    def __init__(self, pairs: list[tuple[pyo.Block, TwoWay]]) -> None:
        self.pairs = pairs
        self._charge = [list(p.charge[k] for k in p.keys) for _, p in pairs]
        self._discharge = [list(p.discharge[k] for k in p.keys) for _, p in pairs]
        self._covered = [np.zeros(len(p.keys), dtype=bool) for _, p in pairs]
        self._groups = [_groups(p.keys) for _, p in pairs]
        self._binaries: list[pyo.Var] = []
        self._binary_flows: list[tuple[pyo.Var, pyo.Var]] = []

    @property
    def n_binaries(self) -> int:
        """Binaries added so far."""
        return int(sum(c.sum() for c in self._covered))

    @property
    def binaries(self) -> list[pyo.Var]:
        """The binary VarData added so far, in the order they were added."""
        return list(self._binaries)

    @property
    def binary_flows(self) -> tuple[list[pyo.Var], list[pyo.Var]]:
        """The charge and the discharge VarData of each binary of :attr:`binaries` (same order)."""
        return [c for c, _ in self._binary_flows], [d for _, d in self._binary_flows]

    @property
    def flows(self) -> list[tuple[list[pyo.Var], list[pyo.Var]]]:
        """Per pair, the charge and the discharge VarData of every key (in ``keys`` order)."""
        return list(zip(self._charge, self._discharge, strict=True))

    def simultaneous(self, values: ColumnsOf) -> list[np.ndarray]:
        """Per pair, the positions of uncovered keys where both flows exceed :data:`SIMULTANEOUS_MW`."""
        out = []
        for i in range(len(self.pairs)):
            both = np.minimum(values(self._charge[i]), values(self._discharge[i])) > SIMULTANEOUS_MW
            out.append(np.flatnonzero(both & ~self._covered[i]))
        return out

    def uncovered(self) -> list[np.ndarray]:
        """Per pair, every position without a binary yet."""
        return [np.flatnonzero(~c) for c in self._covered]

    def escalate(self, found: list[np.ndarray], round_: int) -> list[np.ndarray]:
        """The positions to cover after solve ``round_`` (1-based) found ``found``.

        Round 1: the found keys. Round 2: every period of the assets with a found key. Later: every
        key (the full MILP). A MILP that keeps moving the burn to an uncovered period is closed in
        at most four solves, instead of one solve per period.
        """
        if round_ == 1:
            return found
        if round_ == 2:
            return [self._neighbours(i, f, len(self._covered[i])) for i, f in enumerate(found)]
        return self.uncovered()

    def worst_mw(self, values: ColumnsOf) -> float:
        """Largest ``min(charge, discharge)`` over every key (MW): 0 for an exact schedule."""
        worst = 0.0
        for i in range(len(self.pairs)):
            both = np.minimum(values(self._charge[i]), values(self._discharge[i]))
            if both.size:
                worst = max(worst, float(both.max()))
        return worst

    def add(self, found: list[np.ndarray]) -> list[pyo.Constraint]:
        """Add a binary and its two rows at every uncovered position in ``found``; returns the new rows."""
        rows: list[pyo.Constraint] = []
        for i, positions in enumerate(found):
            positions = positions[~self._covered[i][positions]]
            if positions.size == 0:
                continue
            block, pair = self.pairs[i]
            on, cons = _components(block, pair.name)
            for n in positions.tolist():
                key = pair.keys[n]
                flag = on[key]
                self._binaries.append(flag)
                self._binary_flows.append((self._charge[i][n], self._discharge[i][n]))
                rows.append(cons.add(self._charge[i][n] <= float(pair.charge_bound_mw[n]) * flag))
                rows.append(cons.add(self._discharge[i][n] <= float(pair.discharge_bound_mw[n]) * (1 - flag)))
            self._covered[i][positions] = True
        return rows

    def _neighbours(self, i: int, positions: np.ndarray, widen: int) -> np.ndarray:
        """Uncovered positions within ``widen`` of ``positions`` that share their key's first index.

        Keys sharing a first index (an asset) are contiguous in ``keys`` (asset-major order).
        """
        start, end = self._groups[i]
        take = np.zeros(len(self._covered[i]), dtype=bool)
        for p in positions.tolist():
            take[max(start[p], p - widen) : min(end[p], p + widen + 1)] = True
        return np.flatnonzero(take & ~self._covered[i])


def _groups(keys: list) -> tuple[np.ndarray, np.ndarray]:
    """Per key, the first and one-past-last position of the run of keys with its first index."""
    n = len(keys)
    first = [k[0] if isinstance(k, tuple) else k for k in keys]
    breaks = [0, *(q for q in range(1, n) if first[q] != first[q - 1]), n]
    start, end = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for a, b in itertools.pairwise(breaks):
        start[a:b], end[a:b] = a, b
    return start, end


def _components(block: pyo.Block, name: str) -> tuple[pyo.Var, pyo.ConstraintList]:
    """The lazily grown binary Var and row list of ``name`` on ``block`` (created on first use)."""
    var_name, con_name = f"{name}_on", f"{name}_exclusive"
    if not hasattr(block, var_name):
        block.add_component(var_name, pyo.Var(pyo.Any, dense=False, domain=pyo.Binary))
        block.add_component(con_name, pyo.ConstraintList())
    return getattr(block, var_name), getattr(block, con_name)
