"""The one registry of asset families: their names, in model build order.

Each name ``n`` is a family made of ``vpp/assets/n.py`` (its spec and :class:`~vpp.assets.family.AssetFamily`
``FAMILY``) and ``optimizer/families/n.py`` (its optimisation block, read by
:mod:`optimizer.families`). Adding a family = those two files plus one line here. Nothing registers
itself on import: every generic loop (specs, portfolio parsing, envelope, state, models) reads
this tuple.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

import pandas as pd

from vpp.assets.family import AssetFamily, StateKey

FAMILY_NAMES: tuple[str, ...] = (
    "battery",
    "pv",
    "load",
    "flexible_load",
    "ev_hub",
    "generator",
    "heating",
    "swap_station",
)
"""Asset families a portfolio can hold, in the order their blocks are built."""


def _load(name: str) -> AssetFamily:
    family = import_module(f"vpp.assets.{name}").FAMILY
    if family.name != name or family.spec.model_fields["type"].default != name:
        raise TypeError(f"vpp/assets/{name}.py: FAMILY and its spec's type must be named {name!r}")
    if (family.stored_energy is None) != (family.initial_stored_mwh is None):
        raise TypeError(f"vpp/assets/{name}.py: give both stored_energy and initial_stored_mwh, or neither")
    if family.fallback is not None and family.stored_energy is None:
        raise TypeError(f"vpp/assets/{name}.py: a fallback rule needs stored_energy")
    return family


FAMILIES: dict[str, AssetFamily] = {name: _load(name) for name in FAMILY_NAMES}
"""Asset ``type`` -> its family (domain half)."""

STORED_ENERGY_KEYS: tuple[StateKey, ...] = tuple(
    f.stored_energy for f in FAMILIES.values() if f.stored_energy is not None
)
"""The families' stored-energy state keys (battery ``soc_mwh``, swap station ``stored_mwh``)."""


def stored_energy_frame(series: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """Energy stored at each period's end (MWh), one column per asset that stores energy.

    Parameters
    ----------
    series : mapping
        A solved schedule's series (``ScheduleResult.series``), keyed ``family.name``.

    Returns
    -------
    pd.DataFrame or None
        The families' ``stored_energy`` series side by side; None when no family in ``series``
        stores energy.
    """
    frames = [series[key.series] for key in STORED_ENERGY_KEYS if key.series in series]
    return pd.concat(frames, axis=1) if frames else None


def stored_energy_state(asset_type: str, stored_mwh: float) -> dict[str, float]:
    """A state entry holding only an asset's stored energy (MWh), under its family's key."""
    key = FAMILIES[asset_type].stored_energy
    return {} if key is None else {key.name: stored_mwh}
