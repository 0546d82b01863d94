"""Fixed (inflexible) consumption."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from vpp.assets.base import AssetSpec, NonNegativeFloat, ProfileRef
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, Summary, TelemetryRange


class LoadSpec(AssetSpec):
    """Consumption that cannot move: ``consumption_mw[t] = scale_mw * profile[t]`` (drawn from the grid)."""

    type: Literal["load"] = "load"
    profile: ProfileRef = Field(description="Consumption profile; multiplied by scale_mw (MW).")
    scale_mw: NonNegativeFloat = Field(default=1.0, description="Multiplier of the profile (MW).")

    def profile_refs(self) -> dict[str, object]:
        return {"profile": self.profile}


# ---------------------------------------------------------------------------------------------
# Domain rules


def load_range(specs: Sequence[LoadSpec], horizon: Horizon) -> FamilyRange:
    """Fixed load: ``net[t] = -scale_mw * profile[t]`` exactly. Shiftable energy 0."""
    net = -np.array([s.scale_mw for s in specs])[:, None] * horizon.stack(specs, "profile")
    return FamilyRange(net, net, net, 0.0)


def load_summary(specs: Sequence[LoadSpec], peak: Peak) -> Summary:
    """Peak consumption."""
    return Summary(sum(s.scale_mw * peak(s.profile) for s in specs), None, "peak")


def load_telemetry(spec: LoadSpec) -> TelemetryRange:
    """Draws only, up to the grid connection (no rating of its own)."""
    return TelemetryRange(None, 0.0)


FAMILY = Family(
    "load",
    LoadSpec,
    envelope=load_range,
    summary=load_summary,
    telemetry=load_telemetry,
)
