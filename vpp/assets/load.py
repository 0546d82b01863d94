"""Fixed (inflexible) consumption."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vpp.assets.base import AssetSpec, NonNegativeFloat, ProfileRef
from vpp.assets.family import Family


class LoadSpec(AssetSpec):
    """Consumption that cannot move: ``consumption_mw[t] = scale_mw * profile[t]`` (drawn from the grid)."""

    type: Literal["load"] = "load"
    profile: ProfileRef = Field(description="Consumption profile; multiplied by scale_mw (MW).")
    scale_mw: NonNegativeFloat = Field(default=1.0, description="Multiplier of the profile (MW).")

    def profile_refs(self) -> dict[str, object]:
        return {"profile": self.profile}


FAMILY = Family("load", LoadSpec)
