"""ARCHITECTURE.md's "Key interfaces" names real functions with their real parameters.

The entry for ``prepare_problem`` still showed ``profiles=None`` long after the function took a
``resolve`` callable: a reader copying it got a TypeError. Every call written in that section
(``name(params)`` in backticks) is rendered here from the code's own signature and must be there
as written, and nothing else written as a call may be there.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from market.presets import MarketSpec

ROOT = Path(__file__).resolve().parents[1]

# where each documented call lives ("module:qualname") -> the name the section writes it with
DOCUMENTED = {
    "market.presets:get_market": "market.presets.get_market",
    "market.presets:load_market": "load_market",
    "market.calendar:trading_day_index": "market.calendar.trading_day_index",
    "market.calendar:period_hours": "period_hours",
    "market.calendar:gate_closure": "gate_closure",
    "market.prices:read_prices": "market.prices.read_prices",
    "market.price_days:prices_for_day": "market.price_days.prices_for_day",
    "vpp.price_input:read_price_input": "vpp.price_input.read_price_input",
    "market.profiles:read_profiles": "market.profiles.read_profiles",
    "vpp.portfolio_io:load_portfolio": "vpp.portfolio_io.load_portfolio",
    "vpp.profile_refs:profile_resolver": "vpp.profile_refs.profile_resolver",
    "optimizer.problem:prepare_problem": "optimizer.problem.prepare_problem",
    "optimizer.model:build_model": "optimizer.model.build_model",
    "optimizer.solver:solve": "optimizer.solver.solve",
    "optimizer.solver:ModelSolver.carry_out": "ModelSolver.carry_out",
    "optimizer.solver:ModelSolver.restart_pinning_past": "ModelSolver.restart_pinning_past",
    "optimizer.solver:ModelSolver.past_plan": "ModelSolver.past_plan",
    "optimizer.solver:ModelSolver.price_ranging": "ModelSolver.price_ranging",
    "optimizer.highs_adapter:PersistentHighs": "PersistentHighs",
    "optimizer.highs_adapter:PersistentHighs.columns": "columns",
    "optimizer.highs_adapter:PersistentHighs.rows": "rows",
    "optimizer.highs_adapter:PersistentHighs.refreshers_by_param": "refreshers_by_param",
    "optimizer.highs_adapter:PersistentHighs.solution": "solution",
    "optimizer.highs_adapter:PersistentHighs.values": "values",
    "optimizer.highs_adapter:PersistentHighs.duals": "duals",
    "optimizer.highs_adapter:PersistentHighs.cost_ranging": "cost_ranging",
    "optimizer.highs_adapter:PersistentHighs.run": "run",
    "optimizer.highs_adapter:PersistentHighs.forget_matrix": "forget_matrix",
    "optimizer.highs_adapter:CostRanging.keeps_basis": "CostRanging.keeps_basis",
    "vpp.service.lease:SchedulerLeaseHolder": "vpp.service.lease.SchedulerLeaseHolder",
    "vpp.service.lease:SchedulerLeaseHolder.acquire": "acquire",
    "vpp.service.lease:SchedulerLeaseHolder.start_heartbeat": "start_heartbeat",
    "vpp.service.lease:SchedulerLeaseHolder.release": "release",
    "vpp.service.lease:read_lease": "read_lease",
    "vpp.service.scheduler:start_with_jobs": "start_with_jobs",
    "vpp.service.status:health_report": "vpp.service.status.health_report",
}


def _section() -> str:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    start = text.index("## Key interfaces")
    return text[start : text.index("\n## ", start + 1)]


def _resolve(target: str) -> object:
    module, _, qualname = target.partition(":")
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _default(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def rendered_call(name: str, function: object) -> str:
    """``name(a, b=None, *, c=1.0)``: the signature's parameters as a reader calls them (no self,
    no annotations; ``*`` before keyword-only ones)."""
    parts: list[str] = []
    star = False
    for p in inspect.signature(function).parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={_default(p.default)}")
    return f"{name}({', '.join(parts)})"


def test_rendering_a_signature() -> None:
    def f(self, a, b=None, *, c="start", d=5.0):
        return None

    assert rendered_call("x.f", f) == 'x.f(a, b=None, *, c="start", d=5.0)'


def test_every_call_in_key_interfaces_is_the_real_signature() -> None:
    expected = {rendered_call(name, _resolve(target)) for target, name in DOCUMENTED.items()}
    spans = re.findall(r"`([^`]*)`", _section())
    written = {m for span in spans for m in re.findall(r"(?<![\w.])[A-Za-z_][\w.]*\([^()]*\)", span)}
    assert sorted(expected - written) == [], "ARCHITECTURE.md's Key interfaces: write these as they are"
    assert sorted(written - expected) == [], "ARCHITECTURE.md's Key interfaces: no such call in the code"


def test_the_market_fields_listed_are_the_market_specs() -> None:
    section = _section()
    fields_list = section[section.index("`name`, ") : section.index("(deviation penalty")]
    listed = set(re.findall(r"`(\w+)`", fields_list))
    fields = set(MarketSpec.model_fields)
    properties = {n for n, v in vars(MarketSpec).items() if isinstance(v, property)}
    assert fields <= listed, f"fields missing from the list: {sorted(fields - listed)}"
    assert listed <= fields | properties, f"not on MarketSpec: {sorted(listed - fields - properties)}"
