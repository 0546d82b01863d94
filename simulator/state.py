"""Asset state carried through the backtest: period to period and day to day.

A state is ``{asset_id: {key: value}}`` with the state keys each family declares
(:class:`vpp.assets.family.StateKey`, e.g. battery ``soc_mwh`` and ``discharged_mwh``) and updates
with its model's ``carry`` (:class:`optimizer.families.protocol.FamilyModel`). The state after
period ``k`` is read from the solved schedule the assets actually followed, so it is carried
exactly (no re-simulation with other rounding). Daily counters (``StateKey.daily``) restart at 0
with each trading day.
"""

from __future__ import annotations

from optimizer.families import FAMILIES
from optimizer.result import ScheduleArrays, ScheduleResult, as_arrays
from vpp.assets.registry import FAMILIES as ASSET_FAMILIES

State = dict[str, dict[str, float]]
"""Per asset id, named state values."""

DAILY_KEYS = tuple(key.name for family in ASSET_FAMILIES.values() for key in family.state_keys if key.daily)
"""Counters that restart at 0 with each trading day (from the families' state keys)."""


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
    value = result.value
    for asset_id, family in result.asset_family.items():
        prefix = family + "."
        FAMILIES[family].carry(
            new.setdefault(asset_id, {}), lambda name, a=asset_id, p=prefix: value(p + name, a, k), dt_h
        )
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
