"""The fleet's flexibility envelope: how far the VPP's net position can move in each period.

Each asset family has one small function (``AssetFamily.envelope``, in ``vpp/assets/<type>.py``)
that returns, for all assets of the family at once, the net power range ``[min_net_mw,
max_net_mw]`` and the ``baseline_mw`` of every asset in every period (arrays of shape
``(n_assets, T)``, MW, export positive as in CONVENTIONS.md). The fleet envelope sums them, clips
each limited group to its ``group_limits`` and the total to the grid connection.

The envelope is a per-period bound: it ignores what links periods (battery state of charge, daily
energy of flexible loads and EVs, indoor temperature, generator ramps and minimum run times). The
scalar ``shiftable_energy_mwh`` summarises those energy limits instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.calendar import period_hours
from vpp.assets.family import FamilyRange, Horizon
from vpp.assets.registry import FAMILIES
from vpp.portfolio import GridConnection
from vpp.portfolio_io import LoadedPortfolio
from vpp.profile_refs import profile_resolver

__all__ = ["ENVELOPE_COLUMNS", "FAMILY_RANGES", "Envelope", "FamilyRange", "Horizon", "flexibility_envelope"]

ENVELOPE_COLUMNS = ("max_export_mw", "max_import_mw", "baseline_mw", "up_mw", "down_mw")
"""Columns of :attr:`Envelope.per_period`."""


@dataclass(frozen=True)
class Envelope:
    """The fleet's flexibility envelope over a horizon.

    Attributes
    ----------
    per_period : pd.DataFrame
        Index = the horizon's period starts; columns (MW): ``max_export_mw`` and ``max_import_mw``
        (positive magnitudes: the most the fleet can deliver to / draw from the grid; 0 when it
        cannot export, resp. import, at all), ``baseline_mw`` (net position with no flexibility
        used, export positive, kept within what the grid and groups allow), ``up_mw`` and
        ``down_mw`` (adjustable capacity above and below the baseline).
    shiftable_energy_mwh : float
        Energy the fleet can move in time (MWh): battery ``soc_ceiling_mwh - soc_min_mwh``, flexible-load,
        EV and heating shifting, summed over assets.
    adjustable_mw : float
        Largest one-way adjustment from the baseline in any period: ``max_t max(up, down)`` (MW).
    conflicts : tuple of str
        Periods where the assets' forced net position breaks a group or grid limit (the day is
        infeasible there), one message per limit.
    """

    per_period: pd.DataFrame
    shiftable_energy_mwh: float
    adjustable_mw: float
    conflicts: tuple[str, ...] = ()


FAMILY_RANGES: dict[str, Callable[[Sequence, Horizon], FamilyRange]] = {
    name: family.envelope for name, family in FAMILIES.items()
}
"""Asset ``type`` -> its family's range function (``AssetFamily.envelope``, in ``vpp/assets/<type>.py``)."""


# ---------------------------------------------------------------------------------------------
# Fleet


def flexibility_envelope(loaded: LoadedPortfolio, index: pd.DatetimeIndex) -> Envelope:
    """The fleet's flexibility envelope over ``index`` (usually one trading day).

    Per period, with ``lo``/``hi``/``b`` the summed asset ranges and baselines (MW, export +)::

        per limited group g:  lo_g, hi_g clipped to [-import_limit_mw, export_limit_mw]
                              b_g clipped to [lo_g, hi_g]
        fleet: L, H = sum of group and ungrouped lo, hi, clipped to the grid limits; B = sum b
               clipped to [L, H]
        max_export_mw = max(H, 0); max_import_mw = max(-L, 0); baseline_mw = B
        up_mw = H - B;  down_mw = B - L

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio with its profiles.
    index : pd.DatetimeIndex
        Period starts (tz-aware), e.g. ``market.calendar.trading_day_index(market, day)``.

    Returns
    -------
    Envelope

    Raises
    ------
    InputError
        A profile cannot be resolved for ``index`` (list of the wrong length, no data).
    """
    portfolio = loaded.portfolio
    horizon = Horizon(index, period_hours(index, loaded.market), profile_resolver(loaded, index))
    lows, highs, bases, groups, shiftable = [], [], [], [], 0.0
    for asset_type in FAMILIES:
        specs = portfolio.assets_of(asset_type)
        if not specs:
            continue
        family = FAMILY_RANGES[asset_type](specs, horizon)
        lows.append(family.min_net_mw)
        highs.append(family.max_net_mw)
        bases.append(family.baseline_mw)
        groups.extend(s.group for s in specs)
        shiftable += family.shiftable_mwh
    low, high, base = np.vstack(lows), np.vstack(highs), np.vstack(bases)
    member = np.array(groups, dtype=object)

    conflicts: list[str] = []
    limited = np.isin(member, list(portfolio.group_limits))
    L, H, B = low[~limited].sum(axis=0), high[~limited].sum(axis=0), base[~limited].sum(axis=0)
    for name, limit in portfolio.group_limits.items():
        rows = member == name
        lo, hi, b = _clip(low[rows].sum(axis=0), high[rows].sum(axis=0), base[rows].sum(axis=0),
                          limit, f"group {name}", index, conflicts)
        L, H, B = L + lo, H + hi, B + b
    L, H, B = _clip(L, H, B, portfolio.grid, "grid", index, conflicts)

    per_period = pd.DataFrame(
        {
            "max_export_mw": np.maximum(H, 0.0),
            "max_import_mw": np.maximum(-L, 0.0),
            "baseline_mw": B,
            "up_mw": H - B,
            "down_mw": B - L,
        },
        index=index,
    )
    adjustable = float(np.maximum(H - B, B - L).max()) if len(index) else 0.0
    return Envelope(per_period, float(shiftable), adjustable, tuple(conflicts))


def _clip(
    low: np.ndarray,
    high: np.ndarray,
    base: np.ndarray,
    limit: GridConnection,
    name: str,
    index: pd.DatetimeIndex,
    conflicts: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip a net range and baseline to ``[-import_limit_mw, export_limit_mw]``; note conflicts."""
    floor, cap = -limit.import_limit_mw, limit.export_limit_mw
    exporting, importing = low > cap + 1e-9, high < floor - 1e-9
    if exporting.any():
        first = int(np.flatnonzero(exporting)[0])
        conflicts.append(_conflict(
            f"{name} must export at least {low[first]:.3f} MW, above its export limit {cap} MW",
            exporting, index))
    if importing.any():
        first = int(np.flatnonzero(importing)[0])
        conflicts.append(_conflict(
            f"{name} must import at least {-high[first]:.3f} MW, above its import limit "
            f"{-floor} MW", importing, index))
    low, high = np.clip(low, floor, cap), np.clip(high, floor, cap)
    return low, high, np.clip(base, low, high)


def _conflict(what: str, broken: np.ndarray, index: pd.DatetimeIndex) -> str:
    first, more = int(np.flatnonzero(broken)[0]), int(broken.sum()) - 1
    return f"{what} at {index[first]}" + (f" (and {more} more periods)" if more else "")
