"""``optimizer.param_sync.ParamChanges`` on a small real model: which Param changes reach HiGHS."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from optimizer.highs_adapter import PersistentHighs
from optimizer.param_sync import ParamChanges, mutable_params
from optimizer.pinning import PinPolicy


def _model() -> pyo.ConcreteModel:
    """max p[0] x0 + p[1] x1, x0 + x1 <= 1, x >= 0: all on the dearer of the two."""
    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, 1)
    m.p = pyo.Param(m.T, mutable=True, initialize={0: 1.0, 1: 2.0})
    m.x = pyo.Var(m.T, bounds=(0, None))
    m.one = pyo.Constraint(expr=m.x[0] + m.x[1] <= 1)
    m.obj = pyo.Objective(expr=sum(m.p[t] * m.x[t] for t in m.T), sense=pyo.maximize)
    return m


def _costs(adapter: PersistentHighs) -> list[float]:
    cols = adapter.columns([adapter.model.x[0], adapter.model.x[1]])
    return np.asarray(adapter.highs.getLp().col_cost_)[cols].tolist()


def test_tracked_changes_push_only_what_was_reported() -> None:
    m = _model()
    adapter, changes = PersistentHighs(m), ParamChanges(m)
    pins = PinPolicy(m, 2)
    m.p[0] = 5.0
    changes.mark([m.p[0]])
    changes.push(adapter, pins, scan=False)
    assert _costs(adapter) == [5.0, 2.0]
    m.p[0], m.p[1] = 6.0, 7.0
    changes.mark([m.p[0]])  # p[1] changed too, but was not reported
    changes.push(adapter, pins, scan=False)
    assert _costs(adapter) == [6.0, 2.0]
    changes.push(adapter, pins, scan=True)  # a scan finds it
    assert _costs(adapter) == [6.0, 7.0]


def test_untracked_changes_are_found_by_a_scan() -> None:
    m = _model()
    adapter, changes = PersistentHighs(m), ParamChanges(m)
    m.p[1] = 0.5
    changes.mark(None)
    changes.push(adapter, PinPolicy(m, 2), scan=False)
    assert _costs(adapter) == [1.0, 0.5]
    adapter.highs.run()
    assert adapter.values([m.x[0], m.x[1]]) == pytest.approx([1.0, 0.0])


def test_clear_forgets_and_mutable_params_lists_every_datum() -> None:
    m = _model()
    adapter, changes = PersistentHighs(m), ParamChanges(m)
    m.p[0] = 9.0
    changes.mark([m.p[0]])
    changes.clear()
    changes.push(adapter, PinPolicy(m, 2), scan=False)
    assert _costs(adapter) == [1.0, 2.0]
    assert [p.index() for p in mutable_params(m)] == [0, 1]


def _carried(m: pyo.ConcreteModel) -> tuple[PersistentHighs, ParamChanges, PinPolicy]:
    """The model solved (all on x[1]) with period 0 carried out (x[0] pinned at 0)."""
    adapter, changes, pins = PersistentHighs(m), ParamChanges(m), PinPolicy(m, 2)
    adapter.highs.run()
    pins.carry_out(adapter, 0, np.asarray(adapter.highs.getSolution().col_value))
    return adapter, changes, pins


def test_a_scan_of_reported_changes_keeps_carried_out_periods() -> None:
    # Regression: a push with ``scan=True`` (ModelSolver's default) freed every carried-out period
    # even when only reported Params (prices) changed, so a real-time re-solve re-planned the past.
    m = _model()
    adapter, changes, pins = _carried(m)
    m.p[0] = 5.0  # period 0 is now the dearer one, but it is already carried out
    changes.mark([m.p[0]])
    changes.push(adapter, pins, scan=True)
    adapter.highs.run()
    assert _costs(adapter) == [5.0, 2.0]
    assert adapter.values([m.x[0], m.x[1]]) == pytest.approx([0.0, 1.0])


def test_an_untracked_change_still_frees_carried_out_periods() -> None:
    m = _model()
    adapter, changes, pins = _carried(m)
    m.p[0] = 5.0
    changes.mark(None)
    changes.push(adapter, pins, scan=True)
    adapter.highs.run()
    assert adapter.values([m.x[0], m.x[1]]) == pytest.approx([1.0, 0.0])
