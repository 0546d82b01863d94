"""The one registry of asset families: their names, in model build order.

Each name ``n`` is a family made of ``vpp/assets/n.py`` (its spec and :class:`~vpp.assets.family.AssetFamily`
``FAMILY``) and ``optimizer/families/n.py`` (its optimisation block, read by
:mod:`optimizer.families`). Adding a family = those two files plus one line here. Nothing registers
itself on import: every generic loop (specs, portfolio parsing, envelope, state, models) reads
this tuple.
"""

from __future__ import annotations

from importlib import import_module

from vpp.assets.family import AssetFamily

FAMILY_NAMES: tuple[str, ...] = (
    "battery",
    "pv",
    "load",
    "flexible_load",
    "ev_hub",
    "generator",
    "heating",
)
"""Asset families a portfolio can hold, in the order their blocks are built."""


def _load(name: str) -> AssetFamily:
    family = import_module(f"vpp.assets.{name}").FAMILY
    if family.name != name or family.spec.model_fields["type"].default != name:
        raise TypeError(f"vpp/assets/{name}.py: FAMILY and its spec's type must be named {name!r}")
    return family


FAMILIES: dict[str, AssetFamily] = {name: _load(name) for name in FAMILY_NAMES}
"""Asset ``type`` -> its family (domain half)."""
