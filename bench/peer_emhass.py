"""EMHASS half of ``bench/bench_peer_emhass.py``: one day-ahead battery-arbitrage solve by EMHASS.

Runs in the interpreter that has EMHASS installed (a separate venv: EMHASS 0.18 pins
``numpy<2.3`` and ``uvicorn==0.30.6``, which conflict with this project's lock), so it imports
only EMHASS, numpy and pandas, never the project. It reads one JSON case on standard input and
prints one line ``BENCH-RESULT {json}``.

Input (units of this project, ``CONVENTIONS.md``)::

    {"price": [yuan/MWh] * T, "dt_h": h, "start": ISO timestamp, "timezone": IANA zone,
     "grid_limit_mw": MW, "max_seconds": s, "mip_rel_gap": fraction, "threads": int (0 = all),
     "batteries": [{"power_mw", "energy_mwh", "charge_efficiency", "discharge_efficiency",
                    "soc_initial_mwh", "soc_min_mwh", "soc_max_mwh", "soc_final_mwh"}, ...]}

Mapping onto EMHASS's model (``emhass.optimization.Optimization``, cost function ``profit``):

- power in W (MW x 1e6), prices in yuan/kWh (yuan/MWh / 1000), so EMHASS's objective
  ``sum(price_kwh * export_w * 0.001 * dt_h)`` is yuan; the same price is the import cost
  (``unit_load_cost``) and the export price (``unit_prod_price``): a wholesale market;
- this project bounds both powers on the grid side (``<= power_mw``). EMHASS 0.18 bounds grid-side
  discharge by ``p_sto_pos <= eta_d * battery_discharge_power_max`` (a cell-side limit) and
  grid-side charge by two bounds, ``|p_sto_neg| <= battery_charge_power_max / eta_c`` and the
  variable's own ``|p_sto_neg| <= battery_charge_power_max``, of which the second binds: a
  grid-side limit (its own comments speak of the first only). So the same battery is
  ``battery_discharge_power_max = power_mw / eta_d`` and ``battery_charge_power_max = power_mw``
  (first measured with ``power_mw * eta_c``, which charged at ``eta_c**2`` of the power and lost
  5 % of the revenue). The state of charge moves the same way in both (``+ eta_c * charge * dt``,
  ``- discharge * dt / eta_d``, checked at the end of each period);
- state of charge as a fraction of ``energy_mwh``; the final state is EMHASS's soft equality
  (a slack priced at 100 x the dearest price), this project's is ``>=``: equal at optimum when no
  price is negative;
- no PV, no load, no deferrable loads; ``set_nodischarge_to_grid`` off (the battery may export);
  the grid limit in both directions is ``grid_limit_mw``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import resource
import sys
import tempfile
import time
from typing import Any

MARKER = "BENCH-RESULT "


def _config(case: dict[str, Any]) -> dict[str, Any]:
    """EMHASS configuration keys (its ``config.json`` names) for the case's batteries."""
    batteries = case["batteries"]
    n = len(batteries)

    def per_battery(values: list[float]) -> float | list[float]:
        return values[0] if n == 1 else values

    energy = [b["energy_mwh"] for b in batteries]
    grid_w = case["grid_limit_mw"] * 1e6
    return {
        "costfun": "profit",
        "optimization_time_step": round(case["dt_h"] * 60),
        "delta_forecast_daily": 1,
        "lp_solver_timeout": case["max_seconds"],
        "lp_solver_mip_rel_gap": case["mip_rel_gap"],
        "num_threads": case["threads"],
        "set_total_pv_sell": False,
        "set_nocharge_from_grid": False,
        "set_nodischarge_to_grid": False,
        "set_battery_first_priority": False,
        "set_battery_dynamic": False,
        "weight_battery_discharge": 0.0,
        "weight_battery_charge": 0.0,
        "number_of_deferrable_loads": 0,
        "nominal_power_of_deferrable_loads": [],
        "minimum_power_of_deferrable_loads": [],
        "cost_forecast_per_deferrable_load": [],
        "is_electric_load": [],
        "operating_hours_of_each_deferrable_load": [],
        "start_timesteps_of_each_deferrable_load": [],
        "end_timesteps_of_each_deferrable_load": [],
        "treat_deferrable_load_as_semi_cont": [],
        "set_deferrable_load_single_constant": [],
        "set_deferrable_startup_penalty": [],
        "deferrable_load_max_cost": [],
        "set_deferrable_max_startups": [],
        "def_minimum_on_time": [],
        "def_minimum_off_time": [],
        "maximum_power_from_grid": grid_w,
        "maximum_power_to_grid": grid_w,
        "set_use_pv": False,
        "compute_curtailment": False,
        "inverter_is_hybrid": False,
        "set_use_battery": True,
        "number_of_batteries": n,
        "battery_discharge_power_max": per_battery(
            [b["power_mw"] / b["discharge_efficiency"] * 1e6 for b in batteries]
        ),
        "battery_charge_power_max": per_battery([b["power_mw"] * 1e6 for b in batteries]),
        "battery_discharge_efficiency": per_battery([b["discharge_efficiency"] for b in batteries]),
        "battery_charge_efficiency": per_battery([b["charge_efficiency"] for b in batteries]),
        "battery_nominal_energy_capacity": per_battery([e * 1e6 for e in energy]),
        "battery_minimum_state_of_charge": per_battery(
            [b["soc_min_mwh"] / e for b, e in zip(batteries, energy, strict=True)]
        ),
        "battery_maximum_state_of_charge": per_battery(
            [b["soc_max_mwh"] / e for b, e in zip(batteries, energy, strict=True)]
        ),
        "battery_target_state_of_charge": per_battery(
            [b["soc_final_mwh"] / e for b, e in zip(batteries, energy, strict=True)]
        ),
        "battery_stress_cost": 0.0,
        "battery_soc_deficit_cost": 0.0,
        "battery_soc_surplus_cost": 0.0,
        "battery_soc_final_reward_factor": 0.0,
        "capacity_cost_per_kw": 0.0,
    }


def _emhass_confs(case: dict[str, Any], workdir: pathlib.Path, logger: logging.Logger) -> tuple:
    """``(retrieve_hass_conf, optim_conf, plant_conf, emhass_conf)`` built the way EMHASS builds them."""
    import emhass
    from emhass import utils

    data = pathlib.Path(emhass.__file__).parent / "data"
    emhass_conf = {
        "root_path": pathlib.Path(emhass.__file__).parent,
        "data_path": workdir,
        "defaults_path": data / "config_defaults.json",
        "associations_path": data / "associations.csv",
    }
    config = asyncio.run(utils.build_config(emhass_conf, logger, emhass_conf["defaults_path"]))
    config.update(_config(case))
    params = asyncio.run(utils.build_params(emhass_conf, {"time_zone": case["timezone"]}, config, logger))
    retrieve_hass_conf, optim_conf, plant_conf = utils.get_yaml_parse(params, logger)
    return retrieve_hass_conf, optim_conf, plant_conf, emhass_conf


def run(case: dict[str, Any]) -> dict[str, Any]:
    """Solve the case with EMHASS; timings (s), status, per-battery grid-side power (MW)."""
    import numpy as np
    import pandas as pd
    from emhass.optimization import Optimization

    logger = logging.getLogger("emhass-peer")
    logger.setLevel(logging.ERROR)
    price = np.asarray(case["price"], dtype=float)
    n_periods = price.size
    index = pd.date_range(
        pd.Timestamp(case["start"]).tz_convert(case["timezone"]),
        periods=n_periods,
        freq=pd.Timedelta(hours=case["dt_h"]),
    )
    batteries = case["batteries"]
    energy = np.array([b["energy_mwh"] for b in batteries])
    soc_init = (np.array([b["soc_initial_mwh"] for b in batteries]) / energy).tolist()
    soc_final = (np.array([b["soc_final_mwh"] for b in batteries]) / energy).tolist()
    price_kwh = price / 1000.0
    frame = pd.DataFrame({"unit_load_cost": price_kwh, "unit_prod_price": price_kwh}, index=index)
    zeros = pd.Series(np.zeros(n_periods), index=index)

    with tempfile.TemporaryDirectory() as tmp:
        cpu_start = time.process_time()
        start = time.perf_counter()
        retrieve_hass_conf, optim_conf, plant_conf, emhass_conf = _emhass_confs(
            case, pathlib.Path(tmp), logger
        )
        config_s = time.perf_counter() - start
        opt = Optimization(
            retrieve_hass_conf,
            optim_conf,
            plant_conf,
            "unit_load_cost",
            "unit_prod_price",
            "profit",
            emhass_conf,
            logger,
            num_timesteps=n_periods,
        )
        stages: dict[str, float] = {}
        result = opt.perform_dayahead_forecast_optim(
            frame,
            zeros,
            zeros,
            soc_init=soc_init if len(batteries) > 1 else soc_init[0],
            soc_final=soc_final if len(batteries) > 1 else soc_final[0],
            stage_times=stages,
        )
        total_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start

    def values(var: Any) -> list[float]:
        v = var.value
        return [0.0] * n_periods if v is None else (np.asarray(v, dtype=float).ravel() / 1e6).tolist()

    discharge = [values(v) for v in opt.vars["p_sto_pos"]]
    charge = [(-np.asarray(values(v))).tolist() for v in opt.vars["p_sto_neg"]]
    objective = opt.prob.value if opt.prob is not None else None
    solver_stats = getattr(opt.prob, "solver_stats", None)
    return {
        "route": "emhass",
        "status": str(opt.optim_status),
        "cvxpy_status": str(opt.prob.status) if opt.prob is not None else None,
        "config_s": config_s,
        "build_s": stages.get("optim_solve.build"),
        "solve_s": stages.get("optim_solve.solve"),
        "extract_s": stages.get("optim_solve.extract"),
        "cvxpy_compile_s": getattr(opt.prob, "compilation_time", None),
        "highs_s": getattr(solver_stats, "solve_time", None),
        "mip_gap": _finite(getattr(getattr(solver_stats, "extra_stats", None), "mip_gap", None)),
        "total_s": total_s,
        "cpu_s": cpu_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "objective_yuan": None if objective is None else float(objective),
        "discharge_mw": discharge,
        "charge_mw": charge,
        "net_mw_fleet": (result["P_batt"].to_numpy(dtype=float) / 1e6).tolist(),
        "version": _version(),
    }


def _finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (HiGHS reports an unknown gap as inf)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) != float("inf") and number == number else None


def _version() -> str:
    from importlib.metadata import version

    return version("emhass")


def main() -> int:
    """Read the case from standard input, print ``BENCH-RESULT {json}``; exit 3 without EMHASS."""
    try:
        import emhass.optimization  # noqa: F401  (imported before the clock, like the engine's warm-up)
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as exc:
        print(f"EMHASS is not importable in {sys.executable}: {exc}", file=sys.stderr)
        return 3
    case = json.loads(sys.stdin.read())
    print(MARKER + json.dumps(run(case)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
