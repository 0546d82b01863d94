"""The passive position of a portfolio: what it earns with no flexibility used.

A load-type VPP (a net consumer) has a negative revenue under every strategy, so
``revenue / perfect_foresight`` means nothing. The capture ratio is measured from the passive
position instead (:func:`simulator.metrics.capture_ratio`)::

    capture_ratio = (revenue - passive) / (perfect_foresight - passive)

The passive position of day D is the fleet baseline of the flexibility envelope,
``vpp.envelope.flexibility_envelope(loaded, index).per_period["baseline_mw"]`` (MW, export
positive), bid in the DA market and delivered exactly (``q_da = q_actual``: the RT leg is 0), settled
at realised prices with the portfolio's contract like any strategy.

Why the baseline is a physical position, family by family (``vpp/envelope.py``):

- ``battery``: idle (0 MW). State of charge stays put (self-discharge lets it drift down, which
  costs nothing at the meter).
- ``pv``: all the available power, no curtailment.
- ``load``: the fixed consumption, exactly.
- ``flexible_load``: its baseline consumption; the daily energy is the baseline energy, inside
  ``[energy_min, energy_max]`` by construction of the family.
- ``heating``: the demand-neutral power ``Q / cop``: the indoor temperature stays at
  ``temp_initial_c``. Not physical where ``Q / cop`` exceeds ``rated_power_mw`` (capped: the
  building cools): reported by :func:`baseline_notes`.
- ``ev_hub``: each session charges evenly over its stay, the fleet in proportion to its available
  power; short where a session cannot get its energy at full power (reported).
- ``generator``: off.

Then the fleet baseline is clipped to group and grid limits: any clipping (and any envelope
conflict) is reported as well. :func:`baseline_notes` returns these findings (empty for the
bundled portfolio on the bundled days).

The perfect-foresight bound is at least the passive revenue when the baseline is feasible in the
optimisation model and costs nothing there (idle batteries, no curtailment): bidding and
delivering the baseline is one of the schedules the bound maximises over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from market.calendar import period_hours, trading_day_index
from market.price_days import prices_for_day
from simulator.metrics import settle
from vpp.assets.registry import FAMILIES as ASSET_FAMILIES
from vpp.envelope import FAMILY_RANGES, Horizon, flexibility_envelope
from vpp.portfolio_io import LoadedPortfolio
from vpp.profile_refs import profile_resolver

_TOL_MW = 1e-9


def passive_fleet(loaded: LoadedPortfolio, prices: pd.DataFrame, days: Iterable[dt.date]) -> pd.DataFrame:
    """Fleet rows of the passive position over ``days`` (the columns :func:`settle` reads).

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio with its profiles.
    prices : pd.DataFrame
        Realised ``da_price`` and ``rt_price`` (yuan/MWh), index ``timestamp``.
    days : iterable of datetime.date
        Trading days.

    Returns
    -------
    pd.DataFrame
        Index ``timestamp``; ``bid_mw`` = ``actual_mw`` = the envelope baseline (MW, export +),
        ``dt_h`` (h), ``p_da``, ``p_rt`` (yuan/MWh).
    """
    market = loaded.market
    frames = []
    for day in days:
        index = trading_day_index(market, day)
        base = flexibility_envelope(loaded, index).per_period["baseline_mw"].to_numpy().round(6)
        realised = prices_for_day(prices, market, day)
        frames.append(
            pd.DataFrame(
                {
                    "bid_mw": base,
                    "actual_mw": base,
                    "dt_h": period_hours(index, market),
                    "p_da": realised["da_price"].to_numpy(dtype=float),
                    "p_rt": realised["rt_price"].to_numpy(dtype=float),
                },
                index=index,
            )
        )
    return pd.concat(frames)


def passive_settlement(
    loaded: LoadedPortfolio, prices: pd.DataFrame, days: Iterable[dt.date]
) -> pd.DataFrame:
    """Settlement per period of the passive position (see :func:`simulator.metrics.settle`)."""
    return settle(passive_fleet(loaded, prices, days), loaded)


def passive_revenue(loaded: LoadedPortfolio, prices: pd.DataFrame, days: Iterable[dt.date]) -> float:
    """Revenue of the passive position over ``days`` (yuan)."""
    return float(passive_settlement(loaded, prices, days)["revenue"].sum())


def baseline_notes(loaded: LoadedPortfolio, index: pd.DatetimeIndex) -> list[str]:
    """Where the envelope baseline over ``index`` is not a physical position (empty list: it is).

    Checks: envelope conflicts; the fleet baseline clipped to group or grid limits; each asset's
    baseline outside its own range; the family's own notes (``AssetFamily.baseline_notes``: heating
    demand above the rated power, EV sessions that cannot receive their energy during their stay).
    """
    envelope = flexibility_envelope(loaded, index)
    notes = list(envelope.conflicts)
    horizon = Horizon(index, period_hours(index, loaded.market), profile_resolver(loaded, index))
    total = np.zeros(len(index))
    for asset_type, function in FAMILY_RANGES.items():
        specs = loaded.portfolio.assets_of(asset_type)
        if not specs:
            continue
        family = function(specs, horizon)
        total += family.baseline_mw.sum(axis=0)
        outside = (family.baseline_mw < family.min_net_mw - _TOL_MW) | (
            family.baseline_mw > family.max_net_mw + _TOL_MW
        )
        for row in np.flatnonzero(outside.any(axis=1)):
            count = int(outside[row].sum())
            notes.append(f"{specs[row].id}: baseline outside its own range in {count} periods")
        rule = ASSET_FAMILIES[asset_type].baseline_notes
        if rule is not None:
            notes.extend(rule(specs, family))
    clipped = np.abs(total - envelope.per_period["baseline_mw"].to_numpy()) > 1e-6
    if clipped.any():
        notes.append(f"fleet baseline clipped to group/grid limits in {int(clipped.sum())} periods")
    return notes
