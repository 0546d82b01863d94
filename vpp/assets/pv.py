"""Rooftop or ground-mounted photovoltaics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from vpp.assets.base import AssetSpec, NonNegativeFloat, PositiveFloat, ProfileRef
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, Summary, TelemetryRange


class PvSpec(AssetSpec):
    """PV generation: ``available_mw[t] = capacity_mw * profile[t]`` (profile per unit, 0..1).

    A curtailable unit may produce anything in ``[0, available_mw[t]]``, paying
    ``curtailment_cost`` per MWh it spills; a non-curtailable unit produces exactly what is available.
    """

    type: Literal["pv"] = "pv"
    capacity_mw: PositiveFloat = Field(description="AC peak capacity (MW).")
    profile: ProfileRef = Field(description="Per-unit availability profile (0..1).")
    curtailable: bool = Field(default=True, description="May output be reduced below available?")
    curtailment_cost: NonNegativeFloat = Field(
        default=0.0, description="Cost of each MWh spilled (yuan/MWh)."
    )

    def profile_refs(self) -> dict[str, object]:
        return {"profile": self.profile}


# ---------------------------------------------------------------------------------------------
# Domain rules


def pv_range(specs: Sequence[PvSpec], horizon: Horizon) -> FamilyRange:
    """PV: ``available[t] = capacity_mw * profile[t]``; net in ``[0, available]`` if curtailable,
    else exactly ``available``. Baseline = available. Shiftable energy 0."""
    available = np.array([s.capacity_mw for s in specs])[:, None] * horizon.stack(specs, "profile")
    curtailable = np.array([s.curtailable for s in specs])[:, None]
    lowest = np.where(curtailable, np.minimum(available, 0.0), available)
    return FamilyRange(lowest, available, available, 0.0)


def pv_summary(specs: Sequence[PvSpec], peak: Peak) -> Summary:
    """AC capacity and how many may curtail."""
    curtailable = sum(s.curtailable for s in specs)
    return Summary(sum(s.capacity_mw for s in specs), None, f"AC capacity; {curtailable} curtailable")


def pv_telemetry(spec: PvSpec) -> TelemetryRange:
    """``[0, capacity_mw]``."""
    return TelemetryRange(0.0, spec.capacity_mw)


FAMILY = Family(
    "pv",
    PvSpec,
    envelope=pv_range,
    summary=pv_summary,
    telemetry=pv_telemetry,
)
