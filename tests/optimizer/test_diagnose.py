"""Infeasibility explanation: a least-violation relaxation names asset, constraint and period."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.diagnose import explain_infeasibility
from optimizer.model import build_model
from optimizer.problem import prepare_problem
from optimizer.solver import SolveOptions, solve
from vpp.errors import InfeasibleError
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]
INDEX = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
PRICES = [100.0, 100.0, 500.0, 500.0]


def portfolio(
    *assets: dict, grid: tuple[float, float] = (10.0, 10.0), groups: dict | None = None
) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "t",
            "grid": {"import_limit_mw": grid[0], "export_limit_mw": grid[1]},
            "group_limits": {
                g: {"import_limit_mw": imp, "export_limit_mw": exp}
                for g, (imp, exp) in (groups or {}).items()
            },
            "assets": list(assets),
        }
    )


def unreachable_soc_final() -> Portfolio:
    # 0.1 MW x 4 h x 0.95 = 0.38 MWh is the most it can store: 1 MWh at the end is 0.62 short.
    return portfolio(
        {"type": "battery", "id": "bess-1", "power_mw": 0.1, "energy_mwh": 2.0, "soc_initial_mwh": 0.0}
        | {"soc_final_mwh": 1.0}
    )


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_unreachable_soc_final_names_battery_and_constraint(handoff):
    problem = prepare_problem(unreachable_soc_final(), INDEX, PRICES)
    with pytest.raises(InfeasibleError) as err:
        solve(problem, SolveOptions(handoff=handoff))
    message = str(err.value)
    assert "bess-1" in message
    assert "soc_final" in message
    top = err.value.violations[0]
    assert top["family"] == "battery"
    assert top["asset"] == "bess-1"
    assert top["constraint"] == "soc_final"
    assert top["name"] == "battery.soc_final[bess-1]"
    assert top["period"] is None and top["timestamp"] is None
    assert top["violation"] == pytest.approx(1.0 - 0.38, abs=1e-6)
    assert top["bound"] == pytest.approx(1.0)
    assert top["value"] == pytest.approx(0.38, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_load_above_import_limit_names_grid_limit_and_timestamp(handoff):
    # 5 MW of load in the third hour against a 3 MW import limit (PV 0.5 MW helps): 1.5 MW short.
    problem = prepare_problem(
        portfolio(
            {"type": "load", "id": "site", "profile": [1.0, 2.0, 5.0, 1.0]},
            {"type": "pv", "id": "pv-1", "capacity_mw": 1.0, "profile": 0.5},
            grid=(3.0, 10.0),
        ),
        INDEX,
        PRICES,
    )
    with pytest.raises(InfeasibleError) as err:
        solve(problem, SolveOptions(handoff=handoff))
    message = str(err.value)
    assert "grid_import_limit" in message or "fleet_balance" in message
    assert str(INDEX[2]) in message
    (v,) = err.value.violations
    assert v["family"] is None and v["asset"] is None
    assert v["constraint"] in ("grid_import_limit", "fleet_balance")
    assert v["period"] == 2
    assert v["timestamp"] == INDEX[2]
    assert v["violation"] == pytest.approx(1.5, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_a_group_import_limit_of_zero_is_named_not_the_battery_soc(handoff):
    # A battery behind a feeder that may import nothing must end 1 MWh fuller: the feeder's limit
    # stops it (1 / 0.95 MWh through it), not the target. With per-MW weights the relaxation broke
    # only soc_final (1 MWh) and the user was told the battery's state of charge was the problem.
    problem = prepare_problem(
        portfolio(
            {"type": "battery", "id": "bess-1", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 0.5}
            | {"soc_final_mwh": 1.5, "group": "feeder-1"},
            groups={"feeder-1": (0.0, 5.0)},
        ),
        INDEX,
        PRICES,
    )
    with pytest.raises(InfeasibleError) as err:
        solve(problem, SolveOptions(handoff=handoff))
    found = err.value.violations
    assert {v["constraint"] for v in found} == {"group_limit"}
    assert {v["group"] for v in found} == {"feeder-1"}
    assert sum(v["violation"] for v in found) == pytest.approx(1.0 / 0.95, abs=1e-6)  # MW x 1 h
    assert "soc" not in str(err.value)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_group_export_limit_names_group_and_period(handoff):
    # Non-curtailable PV behind feeder-a: 5 MW at 02:00 less 1 MW of load = 4 MW against a 2 MW limit.
    problem = prepare_problem(
        portfolio(
            {"type": "pv", "id": "pv-1", "capacity_mw": 5.0, "profile": [0, 0.2, 1.0, 0.2]}
            | {"curtailable": False, "group": "feeder-a"},
            {"type": "load", "id": "site", "profile": 1.0, "group": "feeder-a"},
            grid=(30.0, 30.0),
            groups={"feeder-a": (2.0, 2.0)},
        ),
        INDEX,
        PRICES,
    )
    with pytest.raises(InfeasibleError) as err:
        solve(problem, SolveOptions(handoff=handoff))
    assert "group_limit[feeder-a,2]" in str(err.value)
    assert str(INDEX[2]) in str(err.value)
    (v,) = err.value.violations
    assert (v["constraint"], v["group"], v["period"], v["asset"]) == ("group_limit", "feeder-a", 2, None)
    # Reported in the model's own terms (the load's constant is not folded into the bound).
    assert v["bound"] == pytest.approx(2.0)
    assert v["value"] == pytest.approx(4.0, abs=1e-6)
    assert v["violation"] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_group_of_fixed_loads_over_its_limit_is_infeasible_not_a_crash(handoff):
    # The group's row has no variables (fixed loads only): the compiler refuses it outright.
    problem = prepare_problem(
        portfolio(
            {"type": "load", "id": "site", "profile": [1.0, 1.0, 3.0, 1.0], "group": "feeder-a"},
            {"type": "battery", "id": "bess-1", "power_mw": 1.0, "energy_mwh": 1.0, "soc_initial_mwh": 0.5},
            groups={"feeder-a": (2.0, 2.0)},
        ),
        INDEX,
        PRICES,
    )
    with pytest.raises(InfeasibleError) as err:
        solve(problem, SolveOptions(handoff=handoff))
    (v,) = err.value.violations
    assert (v["constraint"], v["group"], v["period"]) == ("group_limit", "feeder-a", 2)
    assert v["violation"] == pytest.approx(1.0, abs=1e-9)


def test_explanations_are_sorted_and_located():
    # Two batteries short of their targets, and a load above the import limit at 00:00 and 03:00.
    # Breaking the import limit costs 0.5 per MWh let through (CONNECTION_PENALTY), less than the
    # 1/0.95 it saves at the target, so each battery charges all 4 h: 0.1 x 4 x 0.95 = 0.38 MWh,
    # and the import limit carries the 0.2 MW they draw at 00:00 and 03:00 too.
    problem = prepare_problem(
        portfolio(
            {"type": "battery", "id": "small", "power_mw": 0.1, "energy_mwh": 2.0, "soc_initial_mwh": 0.0}
            | {"soc_final_mwh": 0.5},
            {"type": "battery", "id": "big", "power_mw": 0.1, "energy_mwh": 2.0, "soc_initial_mwh": 0.0}
            | {"soc_final_mwh": 1.5},
            {"type": "load", "id": "site", "profile": [4.0, 1.0, 1.0, 3.5]},
            grid=(3.2, 10.0),
        ),
        INDEX,
        PRICES,
    )
    model = build_model(problem)
    found = explain_infeasibility(model, INDEX)
    assert [v["violation"] for v in found] == sorted((v["violation"] for v in found), reverse=True)
    by_asset = {v["asset"]: v for v in found if v["asset"] is not None}
    assert by_asset["big"]["violation"] == pytest.approx(1.5 - 0.38, abs=1e-6)
    assert by_asset["small"]["violation"] == pytest.approx(0.5 - 0.38, abs=1e-6)
    grid = {v["period"]: v["violation"] for v in found if v["constraint"] == "grid_import_limit"}
    assert grid == pytest.approx({0: 0.8 + 0.2, 3: 0.3 + 0.2}, abs=1e-6)
    assert [v["asset"] or v["period"] for v in found] == ["big", 0, 3, "small"]
    # The model is left as it was: still infeasible, still complete.
    assert explain_infeasibility(model, INDEX)[0]["violation"] == pytest.approx(found[0]["violation"])


def test_feasible_model_has_nothing_to_explain():
    problem = prepare_problem(
        portfolio({"type": "battery", "id": "b", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0}),
        INDEX,
        PRICES,
    )
    assert explain_infeasibility(build_model(problem), INDEX) == []
