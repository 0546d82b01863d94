"""The bounds a backtest measures its strategies against, and the split of their value.

Three bounds, each replayed with realised prices (look-ahead) on the same fleet:

``da_optimum`` (physical day-ahead optimum)
    The schedule optimal at the realised DA prices of each day, bid and delivered exactly (no
    DA-RT bet). What a perfect DA price forecast earns with ``da_only``.
``rt_optimum`` (physical real-time optimum)
    The schedule optimal at the realised RT prices of each day, every MWh valued at the RT price
    (the settlement with ``p_da`` replaced by ``p_rt``). What perfect knowledge of RT prices earns
    physically, without a DA position.
``perfect_foresight`` (full perfect foresight)
    Bids on the realised DA-RT spread (revenue alone: the bid is never carried out) and dispatches
    on realised RT prices with the costs of running the assets (:mod:`simulator.strategies`): the
    physical value plus betting on the spread.

Capture against a bound ``B``: ``(revenue - passive) / (B - passive)``. The value over passive of a
strategy splits exactly into::

    energy_shifting_yuan = sum_t q_actual[t] p_da[t] + contract - penalty - passive
    spread_yuan          = sum_t (q_actual[t] - q_da[t]) (p_rt[t] - p_da[t])

(q in MWh): the physical dispatch valued at DA prices, and what the deviation from the DA position
earned on the RT-DA spread (0 for ``da_only``). It also splits exactly into::

    physical_rt_yuan = sum_t q_actual[t] p_rt[t] + contract - penalty - passive
    spread_bet_yuan  = sum_t q_da[t] (p_da[t] - p_rt[t])

what the assets did valued at RT prices (comparable with the physical RT optimum) and the DA
position held as a bet on the DA-RT spread.
"""

from __future__ import annotations

import pandas as pd

from simulator.strategies import STRATEGIES, Strategy

PHYSICAL_BOUNDS = {
    s.name: s
    for s in (
        Strategy(
            "da_optimum",
            "physical day-ahead optimum: bid the realised DA prices and deliver the bid",
            lambda view: _realised(view.realised_da),
            look_ahead=True,
        ),
        Strategy(
            "rt_optimum",
            "physical real-time optimum: dispatch on the realised RT prices, valued at RT prices",
            lambda view: _realised(view.realised_rt),
            look_ahead=True,
        ),
    )
}
"""The physical bounds by name (not bidding strategies: they see the realised prices)."""

BOUND_DEFINITIONS = {
    "da_optimum": PHYSICAL_BOUNDS["da_optimum"].description,
    "rt_optimum": PHYSICAL_BOUNDS["rt_optimum"].description,
    "perfect_foresight": "full perfect foresight: bid on the realised DA-RT spread (a financial position, "
    "optimised on revenue alone, no cost terms), dispatch on realised RT prices minus the costs of running "
    "the assets (physical value plus the spread bet)",
    "capture": "(revenue - passive) / (bound - passive)",
    "energy_shifting_yuan": "sum q_actual * p_da + contract - penalty - passive "
    "(physical dispatch at DA prices)",
    "spread_yuan": "sum (q_actual - q_da) * (p_rt - p_da) (deviation from the DA position, at the spread)",
    "physical_rt_yuan": "sum q_actual * p_rt + contract - penalty - passive "
    "(what the assets did, at RT prices: comparable with the physical RT optimum)",
    "spread_bet_yuan": "sum q_da * (p_da - p_rt) (the DA position as a bet on the DA-RT spread)",
    "yuan_per_mwh": "total revenue / (energy exported + energy imported), MWh at the meter",
}


def _realised(values):
    assert values is not None
    return values


def strategy_by_name(name: str) -> Strategy:
    """A strategy of :data:`simulator.strategies.STRATEGIES` or a physical bound."""
    return PHYSICAL_BOUNDS[name] if name in PHYSICAL_BOUNDS else STRATEGIES[name]


def at_rt_prices(fleet: pd.DataFrame) -> pd.DataFrame:
    """Fleet rows with ``p_da`` replaced by ``p_rt`` (every MWh valued at the RT price)."""
    out = fleet.copy()
    out["p_da"] = out["p_rt"]
    return out


def value_split(settlement: pd.DataFrame, passive_yuan: float) -> dict[str, float]:
    """``energy_shifting_yuan`` and ``spread_yuan`` of a settlement (module docstring)."""
    q_da, q_act = settlement["q_da_mwh"], settlement["q_actual_mwh"]
    p_da, p_rt = settlement["p_da"], settlement["p_rt"]
    energy = float((q_act * p_da).sum() + settlement["contract_revenue"].sum() - settlement["penalty"].sum())
    spread = float(((q_act - q_da) * (p_rt - p_da)).sum())
    return {"energy_shifting_yuan": round(energy - passive_yuan, 2), "spread_yuan": round(spread, 2)}


def physical_bet_split(settlement: pd.DataFrame, passive_yuan: float) -> dict[str, float]:
    """``physical_rt_yuan`` and ``spread_bet_yuan`` of a settlement (module docstring).

    The physical part is the settled revenue over passive minus the bet, so the two add up to the
    settlement exactly (it is settled to the fen per leg and period: the formula's sum of products
    may differ from it by up to a fen per period).
    """
    q_da, p_da, p_rt = settlement["q_da_mwh"], settlement["p_da"], settlement["p_rt"]
    bet = round(float((q_da * (p_da - p_rt)).sum()), 2)
    physical = float(settlement["revenue"].sum()) - passive_yuan - bet
    return {"physical_rt_yuan": round(physical, 2), "spread_bet_yuan": bet}
