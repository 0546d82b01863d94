"""Problem preparation: portfolio + day + prices -> frozen numpy data, without any solver.

Every family module turns its asset specs into arrays here (``prepare``); the Pyomo builders only
read the result. Most logic is testable without a solver, and a raw-highspy twin can read the same
data (``bench.raw_highs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market.calendar import period_hours
from vpp.assets import AssetSpec
from vpp.assets.family import ProfileResolver
from vpp.errors import InputError
from vpp.portfolio import Portfolio


@dataclass(frozen=True)
class PrepareContext:
    """What a family's ``prepare`` needs besides its specs.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts of the horizon (tz-aware).
    dt_h : np.ndarray
        Length of each period (h), shape (T,).
    price : np.ndarray
        Price the objective uses (yuan/MWh), shape (T,).
    resolve : ProfileResolver
        Turns a profile reference of an asset into an array of shape (T,).
    initial_state : Mapping[str, Mapping[str, float]]
        Per asset id, state values that replace the spec's initial ones (e.g. ``soc_mwh``).
    allow_binaries : bool
        False forces a pure LP (binaries relaxed), e.g. for fast bounds.
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    price: np.ndarray
    resolve: ProfileResolver
    initial_state: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    allow_binaries: bool = True

    @property
    def n_periods(self) -> int:
        """Number of periods T."""
        return len(self.index)

    def profile(self, asset: AssetSpec, field_name: str, ref: Any) -> np.ndarray:
        """Resolve one profile of one asset to a float array of shape (T,), checked finite."""
        values = np.asarray(self.resolve(asset, field_name, ref), dtype=float)
        if values.shape != (self.n_periods,):
            raise InputError(
                f"profile has {values.size} values, expected {self.n_periods} (one per period)",
                field=f"{asset.id}.{field_name}",
            )
        if not np.isfinite(values).all():
            bad = self.index[~np.isfinite(values)][0]
            raise InputError("profile is not finite", field=f"{asset.id}.{field_name}", timestamp=bad)
        return values

    def state(self, asset_id: str, name: str, default: float) -> float:
        """Initial-state override for one asset, or ``default``."""
        return float(self.initial_state.get(asset_id, {}).get(name, default))


@dataclass(frozen=True)
class Problem:
    """A frozen optimisation problem for one horizon (usually one trading day).

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts (tz-aware), name ``timestamp``.
    dt_h : np.ndarray
        Period lengths (h), shape (T,).
    price : np.ndarray
        Price of net export (yuan/MWh), shape (T,); may be negative.
    import_limit_mw, export_limit_mw : float
        Grid connection limits (MW, positive magnitudes).
    group_limits : dict[str, tuple[float, float]]
        Per group: (import limit, export limit) in MW.
    group_members : dict[str, list[tuple[str, str]]]
        Per group: (family name, asset id) of its members.
    families : dict[str, Any]
        Family name -> that family's prepared data (only non-empty families).
    asset_family : dict[str, str]
        Asset id -> family name, in portfolio order.
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    price: np.ndarray
    import_limit_mw: float
    export_limit_mw: float
    group_limits: dict[str, tuple[float, float]]
    group_members: dict[str, list[tuple[str, str]]]
    families: dict[str, Any]
    asset_family: dict[str, str]

    @property
    def n_periods(self) -> int:
        """Number of periods T."""
        return len(self.index)

    @property
    def asset_ids(self) -> list[str]:
        """Asset ids in portfolio order."""
        return list(self.asset_family)


def constant_or_list_resolver(
    profiles: pd.DataFrame | None = None,
) -> ProfileResolver:
    """A resolver for constants, per-period lists and columns of an already aligned frame.

    Parameters
    ----------
    profiles : pd.DataFrame, optional
        Profiles already aligned to the horizon (one row per period), one column per profile.
    """

    def resolve(asset: AssetSpec, field_name: str, ref: Any) -> np.ndarray:
        if isinstance(ref, int | float):
            return np.asarray([float(ref)])  # broadcast to the horizon by prepare_problem
        if isinstance(ref, str):
            if profiles is None or ref not in profiles.columns:
                raise InputError(
                    f"profile column '{ref}' is not in the portfolio's profile files",
                    field=f"{asset.id}.{field_name}",
                )
            return profiles[ref].to_numpy(dtype=float)
        return np.asarray(ref, dtype=float)

    return resolve


def prepare_problem(
    portfolio: Portfolio,
    index: pd.DatetimeIndex,
    price: Sequence[float] | np.ndarray | pd.Series,
    resolve: ProfileResolver | None = None,
    *,
    dt_h: np.ndarray | None = None,
    initial_state: Mapping[str, Mapping[str, float]] | None = None,
    allow_binaries: bool = True,
) -> Problem:
    """Turn a portfolio, a horizon and prices into a :class:`Problem`.

    Parameters
    ----------
    portfolio : Portfolio
        The validated portfolio.
    index : pd.DatetimeIndex
        Period starts of the horizon (tz-aware).
    price : array-like
        Price per period (yuan/MWh), shape (T,).
    resolve : ProfileResolver, optional
        Profile resolver; the default accepts constants and per-period lists only.
    dt_h : np.ndarray, optional
        Period lengths (h); by default :func:`market.calendar.period_hours` of the index (each period
        lasts until the next start, the last one the index frequency).
    initial_state : mapping, optional
        Per asset id, state overrides (``soc_mwh``, ``temperature_c``, ...).
    allow_binaries : bool
        False relaxes every binary (an LP bound).
    """
    from optimizer.families import FAMILIES

    if index.tz is None:
        raise InputError("the horizon's timestamps must be timezone-aware", field="index")
    n = len(index)
    price_arr = np.asarray(price, dtype=float).reshape(-1)
    if price_arr.shape != (n,):
        raise InputError(f"{price_arr.size} prices for {n} periods", field="price")
    if not np.isfinite(price_arr).all():
        raise InputError("price is not finite", field="price", timestamp=index[~np.isfinite(price_arr)][0])
    if dt_h is None:
        if n == 0:
            raise InputError("the horizon has no periods", field="index")
        try:
            dt_h = period_hours(index)
        except ValueError:  # one period, or irregular starts, and no frequency
            raise InputError(
                "the last period's length cannot be told (one period, or irregular period starts, "
                "without a frequency): give the index a frequency or pass dt_h",
                field="index",
            ) from None
    base_resolve = resolve or constant_or_list_resolver()

    def checked_resolve(asset: AssetSpec, field_name: str, ref: Any) -> np.ndarray:
        values = np.asarray(base_resolve(asset, field_name, ref), dtype=float).reshape(-1)
        return np.full(n, values[0]) if values.size == 1 and n != 1 else values

    ctx = PrepareContext(
        index=index,
        dt_h=np.asarray(dt_h, dtype=float),
        price=price_arr,
        resolve=checked_resolve,
        initial_state=initial_state or {},
        allow_binaries=allow_binaries,
    )
    families: dict[str, Any] = {}
    for name, module in FAMILIES.items():
        specs = portfolio.assets_of(name)
        if specs:
            families[name] = module.prepare(specs, ctx)
    asset_family = {a.id: a.type for a in portfolio.assets}
    group_members: dict[str, list[tuple[str, str]]] = {}
    for a in portfolio.assets:
        if a.group is not None:
            group_members.setdefault(a.group, []).append((a.type, a.id))
    return Problem(
        index=index,
        dt_h=ctx.dt_h,
        price=price_arr,
        import_limit_mw=portfolio.grid.import_limit_mw,
        export_limit_mw=portfolio.grid.export_limit_mw,
        group_limits={
            g: (lim.import_limit_mw, lim.export_limit_mw) for g, lim in portfolio.group_limits.items()
        },
        group_members=group_members,
        families=families,
        asset_family=asset_family,
    )
