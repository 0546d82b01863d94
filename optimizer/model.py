"""Model assembly: one Pyomo model per problem, built as an ordered list of family blocks.

::

    build_model(problem):
        sets T, period lengths dt[t] (h), prices price[t] (mutable, yuan/MWh) and cost_weight (mutable)
        one block per asset family (optimizer.families), all assets of the family at once
        fleet_balance:  net_mw[t] = sum over families and assets of block.net_mw[a,t]
        grid limits:    -import_limit <= net_mw[t] <= export_limit   (bounds of net_mw)
        group_limit:    -group_import[g] <= sum_{a in g} net_mw[a,t] <= group_export[g]
        objective:      max  sum_t price[t] * net_mw[t] * dt[t]
                             - cost_weight * (sum of every family cost and tiebreak term)
"""

from __future__ import annotations

from collections.abc import Iterable

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.base.expression import ExpressionData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer.families import FAMILIES
from optimizer.problem import Problem


def build_model(problem: Problem) -> pyo.ConcreteModel:
    """Build the Pyomo model of ``problem``.

    Returns
    -------
    pyo.ConcreteModel
        With ``T``, ``dt_h``, ``price`` and ``cost_weight`` (mutable), one block per non-empty
        family (named after it), ``net_mw[t]`` (MW, export positive), ``revenue_yuan`` and
        ``cost_yuan`` expressions and the objective ``total_yuan`` (maximised).

    Notes
    -----
    Python's cyclic garbage collector is paused while the model is built: the build allocates
    hundreds of thousands of Pyomo objects, none of them garbage, and the collector's repeated
    passes over them doubled the build time of a 1,000-asset fleet (bench/bench_day_ahead.py).
    """
    with PauseGC():
        return _build_model(problem)


def _build_model(problem: Problem) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="vpp")
    n = problem.n_periods
    m.T = pyo.Set(initialize=range(n), ordered=True)
    m.dt_h = pyo.Param(m.T, initialize=dict(enumerate(problem.dt_h.tolist())))
    m.price = pyo.Param(m.T, mutable=True, initialize=dict(enumerate(problem.price.tolist())))
    for name, module in FAMILIES.items():
        data = problem.families.get(name)
        if data is None:
            continue
        block = pyo.Block()
        m.add_component(block_name(name), block)
        module.build(block, data, m)
    define_fleet_balance(m, problem)
    define_group_limits(m, problem)
    define_objective(m)
    return m


def block_name(family: str) -> str:
    """Name of a family's block on the model (``load`` is a reserved Block attribute)."""
    return "fixed_load" if family == "load" else family


def family_blocks(m: pyo.ConcreteModel) -> list[tuple[str, pyo.Block]]:
    """The model's family blocks as (family name, block), in build order."""
    return [(name, getattr(m, block_name(name))) for name in FAMILIES if hasattr(m, block_name(name))]


def define_fleet_balance(m: pyo.ConcreteModel, problem: Problem) -> None:
    """``net_mw[t] = sum of every asset's net_mw[a,t]``, bounded by the grid connection.

    Creates ``m.net_mw`` (Var, MW) and ``m.fleet_balance`` (Constraint over T).
    """
    m.net_mw = pyo.Var(m.T, bounds=(-problem.import_limit_mw, problem.export_limit_mw))
    blocks = family_blocks(m)

    def balance(m, t):
        return m.net_mw[t] == linear_sum(blk.net_mw[a, t] for _, blk in blocks for a in blk.A)

    m.fleet_balance = pyo.Constraint(m.T, rule=balance)


def define_group_limits(m: pyo.ConcreteModel, problem: Problem) -> None:
    """Per group ``g`` with a limit: ``-import[g] <= sum_{a in g} net_mw[a,t] <= export[g]``.

    Creates ``m.group_limit[g, t]``.
    """
    limited = [g for g in problem.group_limits if problem.group_members.get(g)]
    if not limited:
        return

    def group_limit(m, g, t):
        imp, exp = problem.group_limits[g]
        total = linear_sum(getattr(m, block_name(fam)).net_mw[a, t] for fam, a in problem.group_members[g])
        return pyo.inequality(-imp, total, exp)

    m.G = pyo.Set(initialize=limited, ordered=True)
    m.group_limit = pyo.Constraint(m.G, m.T, rule=group_limit)


def linear_sum(terms: Iterable[object]) -> object:
    """The sum of ``terms`` (named Expressions, Vars, linear expressions, constants) as one flat expression.

    When every term is linear (a Var, a monomial, a :class:`LinearExpression` such as a battery's
    ``discharge - charge``, a constant or Param expression, or a named Expression holding one of
    these) the sum is a single :class:`LinearExpression` of all their terms, in order: the
    standard-form compiler then reads a fleet-balance row in one pass instead of descending into a
    thousand sub-expressions (1.2 of the 6 CPU s of compiling a 1,000-battery model). The compiled
    row is the same: the same coefficients of the same columns, the same constant added in the same
    order. Otherwise the plain ``sum(terms)``.
    """
    terms = list(terms)
    flat: list[object] = []
    for term in terms:
        expr = term.expr if isinstance(term, ExpressionData) else term
        cls = expr.__class__
        if cls is LinearExpression:
            flat.extend(expr.args)
        elif cls is MonomialTermExpression or cls in native_numeric_types:
            flat.append(expr)
        elif expr.is_variable_type() or not expr.is_potentially_variable():
            flat.append(expr)  # a Var, or a constant (Param) expression
        else:
            return sum(terms)
    return LinearExpression(flat)


def define_objective(m: pyo.ConcreteModel) -> None:
    """Maximise revenue at ``price`` minus ``cost_weight`` times every family's cost terms (yuan).

    Creates ``m.cost_weight`` (mutable Param, dimensionless, 1), ``m.revenue_yuan``,
    ``m.cost_yuan`` (Expressions) and ``m.total_yuan`` (Objective). A family block's
    ``tiebreak_yuan`` (e.g. PV spilling at a price of 0) enters the objective only, weighted as
    the costs. ``cost_weight`` 1 is the physical objective (revenue minus what running the assets
    costs); 0 is revenue alone, for a schedule that is a financial position and is never carried
    out (:meth:`optimizer.solver.ModelSolver.set_cost_weight`). At 1 every objective coefficient
    is the number it was without the weight (``1.0 * c == c``).
    """
    m.cost_weight = pyo.Param(mutable=True, initialize=1.0, within=pyo.NonNegativeReals)
    m.revenue_yuan = pyo.Expression(expr=sum(m.price[t] * m.dt_h[t] * m.net_mw[t] for t in m.T))
    terms = [term for _, blk in family_blocks(m) for term in blk.cost_terms.values()]
    m.cost_yuan = pyo.Expression(expr=sum(terms) if terms else 0.0)
    m.total_yuan = pyo.Objective(
        expr=m.revenue_yuan - m.cost_weight * m.cost_yuan - m.cost_weight * tiebreak(m), sense=pyo.maximize
    )


def tiebreak(m: pyo.Block) -> object:
    """Sum of the family blocks' objective-only ``tiebreak_yuan`` terms of ``m`` (yuan)."""
    terms = [blk.tiebreak_yuan for _, blk in family_blocks(m) if hasattr(blk, "tiebreak_yuan")]
    return sum(terms) if terms else 0.0
