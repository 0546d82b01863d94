"""Asset specs: one pydantic model per asset family, and the registry that names them.

A spec only declares data; ``optimizer.families`` builds the maths for all assets of a family.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from vpp.assets.base import AssetSpec, ProfileRef
from vpp.assets.battery import BatterySpec
from vpp.assets.ev_hub import EvFleet, EvHubSpec, EvSession
from vpp.assets.flexible_load import FlexibleLoadSpec
from vpp.assets.generator import GeneratorSpec
from vpp.assets.heating import HeatingSpec
from vpp.assets.load import LoadSpec
from vpp.assets.pv import PvSpec

ASSET_TYPES: dict[str, type[AssetSpec]] = {
    "battery": BatterySpec,
    "pv": PvSpec,
    "load": LoadSpec,
    "flexible_load": FlexibleLoadSpec,
    "ev_hub": EvHubSpec,
    "generator": GeneratorSpec,
    "heating": HeatingSpec,
}
"""Registry: asset ``type`` name -> spec class."""

AnyAsset = Annotated[
    BatterySpec | PvSpec | LoadSpec | FlexibleLoadSpec | EvHubSpec | GeneratorSpec | HeatingSpec,
    Field(discriminator="type"),
]

__all__ = [
    "ASSET_TYPES",
    "AnyAsset",
    "AssetSpec",
    "BatterySpec",
    "EvFleet",
    "EvHubSpec",
    "EvSession",
    "FlexibleLoadSpec",
    "GeneratorSpec",
    "HeatingSpec",
    "LoadSpec",
    "ProfileRef",
    "PvSpec",
]
