"""Rows built as flat linear expressions compile to the coefficients of the model's formulas.

The battery state-of-charge balance and the fleet and group sums are built as one
``LinearExpression`` each (faster to build and to compile); these tests read the compiled rows
back from HiGHS and check every coefficient and bound against the formula, by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.linear import LinearRepnVisitor

from optimizer.families.pv import CURTAILMENT_TIEBREAK
from optimizer.highs_bridge import compile_to_highs
from optimizer.model import build_model, linear_sum
from optimizer.problem import prepare_problem
from vpp.portfolio import Portfolio


def compiled(
    assets: list[dict], freq: str, prices: list[float]
) -> tuple[pyo.ConcreteModel, dict[int, int], object]:
    """The model of ``assets`` over ``len(prices)`` periods of ``freq``, compiled to HiGHS."""
    portfolio = Portfolio.model_validate(
        {"name": "t", "grid": {"import_limit_mw": 10.0, "export_limit_mw": 10.0}, "assets": assets}
    )
    index = pd.date_range("2024-06-01", periods=len(prices), freq=freq, tz="Asia/Shanghai", name="timestamp")
    model = build_model(prepare_problem(portfolio, index, prices))
    highs, column_of = compile_to_highs(model)
    return model, column_of, highs


def two_batteries() -> tuple[pyo.ConcreteModel, dict[int, int], object]:
    b1 = {"type": "battery", "id": "b1", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0}
    b1 |= {"charge_efficiency": 0.9, "discharge_efficiency": 0.8, "self_discharge_per_hour": 0.1}
    b2 = {"type": "battery", "id": "b2", "power_mw": 2.0, "energy_mwh": 4.0, "soc_initial_mwh": 0.5}
    return compiled([b1, b2], "30min", [100.0, 300.0])


def row_of(highs, con) -> int:
    return next(i for i, (c, _) in enumerate(highs._vpp_rows) if c is con)


def coefficients(highs, column_of, row: int) -> dict[int, float]:
    lp = highs.getLp()
    start, index, value = (
        np.asarray(x) for x in (lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_)
    )
    out = {}
    for col in range(lp.num_col_):
        for k in range(start[col], start[col + 1]):
            if index[k] == row:
                out[col] = float(value[k])
    return out


def test_soc_balance_rows_are_the_formula():
    # soc[t] - retention * soc[t-1] - eta_c dt charge[t] + dt / eta_d discharge[t] = 0, and at t = 0
    # the start energy moves to the bounds: = retention * soc0. b1: dt 0.5 h, eta 0.9 / 0.8,
    # retention 0.9 ** 0.5; b2: eta 0.95 / 0.95 (defaults), no self-discharge.
    model, column_of, highs = two_batteries()
    b = model.battery
    lp = highs.getLp()
    keep = 0.9**0.5
    for a, eta_c, eta_d, r, soc0 in (("b1", 0.9, 0.8, keep, 1.0), ("b2", 0.95, 0.95, 1.0, 0.5)):
        for t in (0, 1):
            row = row_of(highs, b.soc_balance[a, t])
            want = {
                column_of[id(b.soc_mwh[a, t])]: 1.0,
                column_of[id(b.charge_mw[a, t])]: -eta_c * 0.5,
                column_of[id(b.discharge_mw[a, t])]: 0.5 / eta_d,
            }
            rhs = r * soc0 if t == 0 else 0.0
            if t == 1:
                want[column_of[id(b.soc_mwh[a, 0])]] = -r
            got = coefficients(highs, column_of, row)
            assert got.keys() == want.keys()
            for col, coef in want.items():
                assert got[col] == pytest.approx(coef, rel=1e-15)
            assert lp.row_lower_[row] == pytest.approx(rhs, rel=1e-15)
            assert lp.row_upper_[row] == pytest.approx(rhs, rel=1e-15)


def test_fleet_balance_rows_are_the_sum_of_the_batteries():
    # net[t] - sum_a (discharge[a,t] - charge[a,t]) = 0
    model, column_of, highs = two_batteries()
    b = model.battery
    lp = highs.getLp()
    for t in (0, 1):
        row = row_of(highs, model.fleet_balance[t])
        want = {column_of[id(model.net_mw[t])]: 1.0}
        for a in ("b1", "b2"):
            want[column_of[id(b.discharge_mw[a, t])]] = -1.0
            want[column_of[id(b.charge_mw[a, t])]] = 1.0
        assert coefficients(highs, column_of, row) == want
        assert lp.row_lower_[row] == lp.row_upper_[row] == 0.0


@pytest.mark.parametrize("nonlinear_form", [False, True])
def test_linear_sum_equals_the_operator_sum(nonlinear_form):
    # Named linear expressions, a bare Var, a monomial with a Param coefficient and a constant
    # Param: one flat LinearExpression. A product of a sum (not flat) makes it the plain sum.
    # Either way: the same coefficients and the same constant as Python's sum.
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(4))
    m.p = pyo.Param(mutable=True, initialize=2.5)
    m.e = pyo.Expression(range(2), rule=lambda m, i: m.x[i] - 3.0 * m.x[i + 1] + m.p)
    terms = [m.e[0], m.e[1], m.x[3], m.p * m.x[0], m.p, -m.p]
    if nonlinear_form:
        terms.append((m.x[2] + 1.0) * 2.0)
    total = linear_sum(terms)
    assert isinstance(total, LinearExpression) is not nonlinear_form
    flat = LinearRepnVisitor({}).walk_expression(total)
    plain = LinearRepnVisitor({}).walk_expression(sum(terms))
    assert flat.constant == plain.constant == 2.5 + 2.5 + 2.5 - 2.5 + (2.0 if nonlinear_form else 0.0)
    assert dict(flat.linear) == dict(plain.linear)
    assert {id(m.x[i]) for i in range(4)} == set(flat.linear)


def test_pv_spill_costs_in_the_objective():
    # One curtailable PV unit, 2 MW, curtailment cost 30 yuan/MWh, hourly prices 100 and -50:
    # objective = sum_t (price_t out_t - 30 (avail_t - out_t) - tiebreak (avail_t - out_t)) * 1 h.
    # HiGHS minimises -objective: cost of out_t = -(price_t + 30 + tiebreak), offset
    # = (30 + tiebreak) * sum_t avail_t, avail = 2 MW x profile (0.5, 1.0).
    pv = {"type": "pv", "id": "pv", "capacity_mw": 2.0, "profile": [0.5, 1.0], "curtailment_cost": 30.0}
    model, column_of, highs = compiled([pv], "h", [100.0, -50.0])
    cost = np.asarray(highs.getLp().col_cost_)
    for t, price in enumerate((100.0, -50.0)):
        assert cost[column_of[id(model.pv.output_mw["pv", t])]] == pytest.approx(
            -(30.0 + CURTAILMENT_TIEBREAK), abs=1e-12
        )
        assert cost[column_of[id(model.net_mw[t])]] == pytest.approx(-price, rel=1e-15)
    assert highs.getLp().offset_ == pytest.approx((30.0 + CURTAILMENT_TIEBREAK) * 3.0, rel=1e-12)
    highs.run()
    # Export at 100 (1 MW), spill at -50 (curtailing saves 50 > 30 + tiebreak): -(100 - 30 x 2 - tiebreak x 2)
    assert highs.getInfo().objective_function_value == pytest.approx(
        -(100.0 - 2 * (30.0 + CURTAILMENT_TIEBREAK))
    )
