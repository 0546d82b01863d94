"""Which mutable Params changed since HiGHS last saw them, and pushing exactly those.

A persistent re-solve must first bring HiGHS up to date with the Pyomo model's mutable Params
(prices, states, forecasts). Callers that know what they changed report it
(:meth:`ParamChanges.mark` with the Params); anything else is found by comparing every Param with
its last pushed value (a scan). Both push through :class:`optimizer.persistent.ParamUpdater`, which
refreshes only the HiGHS entries that read a changed Param.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo

from optimizer.highs_adapter import PersistentHighs
from optimizer.persistent import ParamUpdater
from optimizer.pinning import PinPolicy


class ParamChanges:
    """The Params of one model changed since the last push into its persistent HiGHS.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The model whose mutable Params are tracked.
    """

    def __init__(self, model: pyo.ConcreteModel) -> None:
        self.model = model
        self._untracked = False
        self._changed: list[pyo.Param] = []
        self._updater: ParamUpdater | None = None

    def mark(self, params: Sequence[pyo.Param] | None) -> None:
        """Record changed Params (None: unknown, the next push scans them all)."""
        if params is None:
            self._untracked = True
        else:
            self._changed.extend(params)

    def clear(self) -> None:
        """Forget recorded changes (HiGHS was just given the model as it is)."""
        self._untracked = False
        self._changed = []

    def push(self, adapter: PersistentHighs, pins: PinPolicy, *, scan: bool) -> None:
        """Refresh HiGHS from changed Params: tracked ones directly, the rest (all with ``scan``) by a scan.

        A scan may change column bounds, so carried-out pins are freed first. After an untracked
        change (``mark(None)``: a restart, a new forecast) they stay free; a scan of reported changes
        only (the ``scan`` safety net) pins them again where no Param moved their columns' bounds.
        """
        if self._untracked or scan:
            if self._untracked:
                pins.release_carried()
            else:
                pins.suspend_carried()
            if self._updater is None:
                adapter.update_parameters()
                self._updater = ParamUpdater(adapter, mutable_params(self.model))
            else:
                self._updater.update(None)
            pins.refresh_carried_bounds()
        elif self._changed:
            if self._updater is None:
                self._updater = ParamUpdater(adapter, mutable_params(self.model))
                # The snapshot already holds the new values: push the tracked ones explicitly.
            self._updater.update(self._changed)
        self.clear()


def mutable_params(model: pyo.ConcreteModel) -> list[pyo.Param]:
    """Every mutable Param datum of ``model``."""
    return [
        p for comp in model.component_objects(pyo.Param, active=True) if comp.mutable for p in comp.values()
    ]
