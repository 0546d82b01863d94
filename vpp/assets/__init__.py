"""Asset specs: one pydantic model per asset family, read from :mod:`vpp.assets.registry`.

A spec only declares data; ``optimizer.families`` builds the maths for all assets of a family.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from vpp.assets.base import AssetSpec, ProfileRef
from vpp.assets.battery import BatterySpec
from vpp.assets.ev_hub import EvFleet, EvHubSpec, EvSession
from vpp.assets.flexible_load import FlexibleLoadSpec
from vpp.assets.generator import GeneratorSpec
from vpp.assets.heating import HeatingSpec
from vpp.assets.load import LoadSpec
from vpp.assets.pv import PvSpec
from vpp.assets.registry import FAMILIES

ASSET_TYPES: dict[str, type[AssetSpec]] = {name: family.spec for name, family in FAMILIES.items()}
"""Asset ``type`` name -> spec class, from the registry."""

AnyAsset = Annotated[Union[tuple(ASSET_TYPES.values())], Field(discriminator="type")]  # noqa: UP007
"""Any registered asset spec, told apart by its ``type`` field."""

__all__ = [
    "ASSET_TYPES",
    "FAMILIES",
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
