"""Asset-family models: one module per family, read from the one registry of families.

Every name of :data:`vpp.assets.registry.FAMILY_NAMES` has its model in
``optimizer/families/<name>.py``, a :class:`~optimizer.families.protocol.FamilyModel`:

- ``prepare(specs, ctx) -> Data``: specs to frozen numpy arrays (no Pyomo);
- ``build(block, data, model) -> None``: variables and constraints for ALL assets of the family at
  once, indexed by (asset, period); it must create ``block.A``, ``block.net_mw[a, t]`` (MW, export
  positive) and ``block.cost_terms: dict[str, pyomo Expression]`` (yuan, costs as positive numbers);
- ``extract(block, data, values) -> FamilySchedule``: per-asset schedules and costs from solved values;
- ``restart``, ``carry``, ``set_forecast``, ``two_way`` and the capability constants (see the protocol).

:data:`VIRTUAL_FAMILIES` are model-only families (aggregates made by :mod:`optimizer.aggregation`); they
follow the portfolio's families in build order. Nothing registers itself on import.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from optimizer.families.protocol import FamilyModel, check_model
from vpp.assets.registry import FAMILY_NAMES

VIRTUAL_FAMILIES: tuple[str, ...] = ("virtual_battery", "virtual_flexible_load")
"""Model-only families: aggregates of portfolio assets (:mod:`optimizer.aggregation`), no spec."""


def _load(name: str) -> ModuleType:
    module = import_module(f"optimizer.families.{name}")
    check_model(name, module)
    return module


FAMILIES: dict[str, FamilyModel] = {name: _load(name) for name in (*FAMILY_NAMES, *VIRTUAL_FAMILIES)}  # type: ignore[misc]
"""Registry: family name -> its model module. Order is the order blocks are built."""
