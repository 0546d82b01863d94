"""The integer variables of one day model: those built with it and the lazy exclusivity binaries.

A family may build binaries with the model (e.g. a battery's negative-price binaries); storage
exclusivity adds more while solving (:mod:`optimizer.exclusive`). Whether a run is a MIP, and how
many binaries a result reports, counts both. :class:`ModelIntegers` counts the built ones once
(a pass over every variable) and makes the model's :class:`optimizer.exclusive.Exclusivity` once.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.exclusive import Exclusivity
from optimizer.families import FAMILIES
from optimizer.model import family_blocks
from optimizer.problem import Problem


class ModelIntegers:
    """The built and the lazily added integer variables of ``model``.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The day model.
    """

    def __init__(self, model: pyo.ConcreteModel) -> None:
        self.model = model
        self.lazy: Exclusivity | None = None
        """The model's two-way flows and lazy binaries; None until :meth:`exclusivity` is first asked."""
        self._built: int | None = None

    def exclusivity(self, problem: Problem) -> Exclusivity | None:
        """The model's two-way flows (made once, from ``problem``'s family data); None when no family
        has any."""
        if self.lazy is None:
            pairs = []
            for name, block in family_blocks(self.model):
                module = FAMILIES[name]
                if module.TWO_WAY:
                    pairs.extend((block, pair) for pair in module.two_way(block, problem.families[name]))
            self.lazy = Exclusivity(pairs)
        return self.lazy if self.lazy.pairs else None

    @property
    def built(self) -> int:
        """Integer variables built with the model (not the lazy ones), counted once."""
        if self._built is None:
            self._built = sum(
                1 for v in self.model.component_data_objects(pyo.Var) if v.is_binary() or v.is_integer()
            )
        return self._built

    @property
    def n_binaries(self) -> int:
        """Integer variables now: built with the model plus lazy binaries added so far."""
        lazy = self.lazy.n_binaries if self.lazy is not None else 0
        return self.built + lazy

    def is_mip(self) -> bool:
        """True when the model has binaries (built with it or added lazily)."""
        return self.n_binaries > 0
