"""Asset-family builders: one module per family, registered by the spec's ``type`` name.

Each module exposes

- ``prepare(specs, ctx) -> Data``: specs to frozen numpy arrays (no Pyomo);
- ``build(block, data, model) -> None``: variables and constraints for ALL assets of the family at
  once, indexed by (asset, period); it must create ``block.net_mw[a, t]`` (MW, export positive) and
  ``block.cost_terms: dict[str, pyomo Expression]`` (yuan, costs as positive numbers);
- ``extract(data, values) -> FamilySchedule``: per-asset schedules and states from solved values;
- ``net_mw(data, values) -> np.ndarray``: per-asset net export (A, T) from solved values.
"""

from __future__ import annotations

from types import ModuleType

from optimizer.families import battery, ev_hub, flexible_load, generator, heating, load, pv

FAMILIES: dict[str, ModuleType] = {
    "battery": battery,
    "pv": pv,
    "load": load,
    "flexible_load": flexible_load,
    "ev_hub": ev_hub,
    "generator": generator,
    "heating": heating,
}
"""Registry: asset type -> family module. Order is the order blocks are built."""


def register(name: str, module: ModuleType) -> None:
    """Add a family module to the registry (families that register on import: the virtual ones)."""
    FAMILIES[name] = module
