"""Asset state carried through the backtest: period to period and day to day.

A state is ``{asset_id: {key: value}}`` with the initial-state keys of the family modules:
battery ``soc_mwh`` (MWh) and ``discharged_mwh`` (MWh discharged so far today, for the cycle
budget); flexible load ``energy_consumed_mwh`` (MWh consumed so far today); heating
``temperature_c`` (deg C); generator ``on`` (0/1), ``output_mw`` (MW), ``hours_in_state`` (h).
The state after period ``k`` is read from the solved schedule the assets actually followed, so it
is carried exactly (no re-simulation with other rounding).
"""

from __future__ import annotations

import numpy as np

from optimizer.result import ScheduleArrays, ScheduleResult, as_arrays

State = dict[str, dict[str, float]]
"""Per asset id, named state values."""

DAILY_KEYS = ("discharged_mwh", "energy_consumed_mwh")
"""Counters that restart at 0 with each trading day."""


def _value(result: ScheduleArrays, key: str, asset_id: str, k: int) -> float | None:
    return result.value(key, asset_id, k)


def advance(result: ScheduleResult | ScheduleArrays, k: int, state: State) -> State:
    """State after the assets carried out period ``k`` of ``result``.

    Parameters
    ----------
    result : ScheduleResult or ScheduleArrays
        The schedule whose period ``k`` the assets followed (arrays are read without pandas).
    k : int
        The period carried out.
    state : State
        State before period ``k``.

    Returns
    -------
    State
        A new dict; ``state`` is not modified.
    """
    result = as_arrays(result)
    dt_h = float(result.dt_h[k])
    new = {a: dict(v) for a, v in state.items()}
    for asset_id, family in result.asset_family.items():
        entry = new.setdefault(asset_id, {})
        if family == "battery":
            entry["soc_mwh"] = _value(result, "battery.soc_mwh", asset_id, k)
            discharged = _value(result, "battery.discharge_mw", asset_id, k) or 0.0
            entry["discharged_mwh"] = entry.get("discharged_mwh", 0.0) + discharged * dt_h
        elif family == "flexible_load":
            used = _value(result, "flexible_load.consumption_mw", asset_id, k) or 0.0
            entry["energy_consumed_mwh"] = entry.get("energy_consumed_mwh", 0.0) + used * dt_h
        elif family == "heating":
            temp = _value(result, "heating.temperature_c", asset_id, k)
            if temp is not None:
                entry["temperature_c"] = temp
        elif family == "generator":
            output = _value(result, "generator.output_mw", asset_id, k)
            on = _value(result, "generator.on", asset_id, k)
            if output is not None:
                entry["output_mw"] = output
            if on is None and output is not None:
                on = float(output > 1e-9)
            if on is not None:
                on = float(round(on))
                same = entry.get("on", on) == on
                entry["hours_in_state"] = (entry.get("hours_in_state", 0.0) if same else 0.0) + dt_h
                entry["on"] = on
    return new


def state_at_end(result: ScheduleResult | ScheduleArrays, state: State) -> State:
    """State after the last period of ``result`` when every period of it is carried out."""
    result = as_arrays(result)
    for k in range(len(result.index)):
        state = advance(result, k, state)
    return state


def start_of_day(state: State) -> State:
    """The state carried into the next trading day: daily counters reset to 0."""
    return {a: {k: v for k, v in entry.items() if k not in DAILY_KEYS} for a, entry in state.items()}


def soc_of(state: State) -> dict[str, float]:
    """Battery state of charge per asset (MWh), for records and checks."""
    return {a: float(v["soc_mwh"]) for a, v in state.items() if "soc_mwh" in v and np.isfinite(v["soc_mwh"])}
