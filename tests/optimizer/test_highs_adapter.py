"""``optimizer.highs_adapter.PersistentHighs`` on a small real model, against hand-computed optima.

The model (maximise)::

    max  price * x + 2 * y          price = 3 (mutable Param)
    s.t. x + y <= cap               cap = 6 (mutable Param), row ``share``
         0 <= x <= 4,  0 <= y <= 10

Optimum x = 4, y = 2, objective 16. The row's dual is 2 (one more unit of ``cap`` goes to y); the
cost of x may fall to 2 (then y is as good) or rise without limit, the cost of y may move in [0, 3].
"""

from __future__ import annotations

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest

from optimizer.highs_adapter import AdapterError, CostRanging, PersistentHighs, _private


def _model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.price = pyo.Param(mutable=True, initialize=3.0)
    m.cap = pyo.Param(mutable=True, initialize=6.0)
    m.x = pyo.Var(bounds=(0, 4))
    m.y = pyo.Var(bounds=(0, 10))
    m.share = pyo.Constraint(expr=m.x + m.y <= m.cap)
    m.obj = pyo.Objective(expr=m.price * m.x + 2 * m.y, sense=pyo.maximize)
    return m


def _run(adapter: PersistentHighs) -> tuple[np.ndarray, float]:
    adapter.highs.run()
    assert adapter.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    m = adapter.model
    return adapter.values([m.x, m.y]), adapter.highs.getInfo().objective_function_value


@pytest.fixture
def adapter() -> PersistentHighs:
    return PersistentHighs(_model())


def test_handoff_gives_the_live_highs_and_the_maps(adapter) -> None:
    m = adapter.model
    assert isinstance(adapter.highs, highspy.Highs)
    assert adapter.highs.getNumCol() == 2 and adapter.highs.getNumRow() == 1
    assert sorted(adapter.columns([m.x, m.y]).tolist()) == [0, 1]
    assert adapter.column_of[id(m.x)] == adapter.columns([m.x])[0]
    assert adapter.rows([m.share]).tolist() == [0]
    assert adapter.handoff_seconds >= 0.0
    assert adapter.columns([pyo.Var()]).tolist() == [-1]  # a variable of another model


def test_values_duals_and_solution_of_the_lp(adapter) -> None:
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [4.0, 2.0])
    assert objective == pytest.approx(16.0)
    assert adapter.duals([adapter.model.share]) == pytest.approx([2.0])
    raw = adapter.solution(seconds=0.5)
    assert raw.status == "optimal" and raw.objective == pytest.approx(16.0)
    assert raw.bound == pytest.approx(16.0) and raw.seconds == 0.5
    assert raw.col_value[raw.column_of[id(adapter.model.y)]] == pytest.approx(2.0)


def test_dual_is_the_objective_change_per_unit_of_the_bound(adapter) -> None:
    _, before = _run(adapter)
    dual = adapter.duals([adapter.model.share])[0]
    adapter.highs.changeRowBounds(0, -highspy.kHighsInf, 7.0)
    _, after = _run(adapter)
    assert after - before == pytest.approx(dual)


def test_set_costs_changes_highs_only(adapter) -> None:
    m = adapter.model
    adapter.set_costs([m.y], [4.0])
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [0.0, 6.0])
    assert objective == pytest.approx(24.0)
    assert pyo.value(m.obj.expr.args[1].args[0]) == 2  # the Pyomo model keeps its cost


def test_set_bounds(adapter) -> None:
    m = adapter.model
    adapter.set_bounds([m.y, m.x], [0.0, 0.0], [10.0, 1.0])
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [1.0, 5.0])
    assert objective == pytest.approx(13.0)


def test_refreshers_push_only_the_changed_param(adapter) -> None:
    m = adapter.model
    by_param = adapter.refreshers_by_param()
    assert set(by_param) == {id(m.price), id(m.cap)}
    m.price = 1.0
    for helper in by_param[id(m.price)]:
        helper.update()
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [0.0, 6.0])
    assert objective == pytest.approx(12.0)
    m.cap = 3.0
    for helper in by_param[id(m.cap)]:
        helper.update()
    values, _ = _run(adapter)
    np.testing.assert_allclose(values, [0.0, 3.0])


def test_update_parameters_pushes_every_param(adapter) -> None:
    m = adapter.model
    m.price, m.cap = 1.0, 3.0
    adapter.update_parameters()
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [0.0, 3.0])
    assert objective == pytest.approx(6.0)


def test_add_a_binary_makes_the_flows_exclusive(adapter) -> None:
    """x and y exclusive: x = 4 alone earns 12, y = 6 alone 12 at price 3 and 2; with price 4, x wins 16."""
    m = adapter.model
    m.price = 4.0
    adapter.update_parameters()
    _, relaxed = _run(adapter)
    assert relaxed == pytest.approx(20.0)  # x = 4, y = 2
    m.on = pyo.Var(domain=pyo.Binary)
    m.only_x = pyo.Constraint(expr=m.x <= 4 * m.on)
    m.only_y = pyo.Constraint(expr=m.y <= 10 * (1 - m.on))
    adapter.add_constraints([m.only_x, m.only_y])
    assert adapter.highs.getNumCol() == 3 and adapter.highs.getNumRow() == 3
    values, objective = _run(adapter)
    np.testing.assert_allclose(values, [4.0, 0.0], atol=1e-9)
    assert objective == pytest.approx(16.0)
    assert adapter.values([m.on]) == pytest.approx([1.0])
    assert adapter.cost_ranging([m.x]) is None  # a MIP has no basis to range
    with pytest.raises(AdapterError, match="no dual solution"):
        adapter.duals([m.share])


def test_cost_ranging_of_the_lp(adapter) -> None:
    m = adapter.model
    assert adapter.cost_ranging([m.x]) is None  # not solved yet
    _run(adapter)
    ranging = adapter.cost_ranging([m.x, m.y])
    np.testing.assert_allclose(ranging.cost, [3.0, 2.0])
    np.testing.assert_allclose(ranging.lower, [2.0, 0.0])
    np.testing.assert_allclose(ranging.upper, [np.inf, 3.0])
    np.testing.assert_allclose(ranging.value, [4.0, 2.0])


def test_warm_resolve_inside_the_range_keeps_the_solution_without_iterations(adapter) -> None:
    m = adapter.model
    adapter.highs.setOptionValue("presolve", "off")  # else presolve alone solves this small model
    _run(adapter)
    assert adapter.highs.getInfo().simplex_iteration_count > 0  # cold
    ranging = adapter.cost_ranging([m.x, m.y])
    basis = list(adapter.highs.getBasis().col_status)
    assert ranging.keeps_basis([2.5, 2.5])
    adapter.set_costs([m.x, m.y], [2.5, 2.5])
    values, objective = _run(adapter)  # warm: HiGHS keeps its basis between runs
    assert adapter.highs.getInfo().simplex_iteration_count == 0
    assert list(adapter.highs.getBasis().col_status) == basis
    np.testing.assert_allclose(values, [4.0, 2.0])
    assert objective == pytest.approx(4 * 2.5 + 2 * 2.5)
    # Beyond y's range the basis changes: y takes the whole cap.
    assert not ranging.keeps_basis([3.0, 3.5])
    adapter.set_costs([m.y], [3.5])
    values, _ = _run(adapter)
    assert list(adapter.highs.getBasis().col_status) != basis  # x leaves its upper bound
    np.testing.assert_allclose(values, [0.0, 6.0])


@pytest.mark.parametrize(
    ("new_cost", "keeps"),
    [
        ([3.0, 2.0], True),  # no change
        ([1e9, 2.0], True),  # x's range is unbounded above
        ([2.5, 2.5], True),  # half of x's room down + half of y's room up = 1
        ([2.5, 2.6], False),  # 0.5 + 0.6 > 1
        ([1.9, 2.0], False),  # beyond x's range
        ([3.0, -0.1], False),
    ],
)
def test_keeps_basis_is_the_100_percent_rule(new_cost, keeps) -> None:
    cost, lower, upper = np.array([3.0, 2.0]), np.array([2.0, 0.0]), np.array([np.inf, 3.0])
    ranging = CostRanging(cost=cost, lower=lower, upper=upper, value=np.zeros(2))
    assert ranging.keeps_basis(new_cost) is keeps


def test_keeps_basis_refuses_a_move_without_room() -> None:
    one = np.array([1.0])
    ranging = CostRanging(cost=one, lower=one, upper=np.array([2.0]), value=np.zeros(1))
    assert not ranging.keeps_basis([0.999])
    assert ranging.keeps_basis([2.0])
    with pytest.raises(ValueError, match="2 costs for 1"):
        ranging.keeps_basis([1.0, 1.0])


def test_unknown_variables_are_named(adapter) -> None:
    stranger = pyo.ConcreteModel()
    stranger.z = pyo.Var()
    with pytest.raises(AdapterError, match="'z' is not in HiGHS"):
        adapter.set_costs([stranger.z], [1.0])
    with pytest.raises(AdapterError, match="no dual solution"):
        adapter.duals([adapter.model.share])


def test_a_missing_pyomo_attribute_names_itself_and_the_tested_release() -> None:
    with pytest.raises(AdapterError, match=r"has no '_solver_model'.*tested with pyomo 6\.10"):
        _private(object(), "_solver_model")


def test_param_values_reads_what_value_reads() -> None:
    from optimizer.highs_adapter import param_values

    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, 2)
    m.p = pyo.Param(m.T, mutable=True, initialize={0: 1.5, 1: -2.0, 2: 0.0})
    m.p[2] = 7.25
    params = list(m.p.values())
    assert param_values(params).tolist() == [p.value for p in params] == [1.5, -2.0, 7.25]
    assert param_values([]).size == 0
