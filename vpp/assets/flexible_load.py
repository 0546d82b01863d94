"""Adjustable consumption: commercial HVAC, pumping, process loads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from vpp.assets.base import AssetSpec, Fraction, NonNegativeFloat, ProfileRef
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, StateKey, Summary, TelemetryRange


class FlexibleLoadSpec(AssetSpec):
    """Consumption that may move within per-period bounds while keeping its daily energy.

    With ``baseline_mw[t] = scale_mw * baseline[t]`` and consumption ``x[t]`` (MW)::

        baseline_mw[t] * (1 - down_frac) <= x[t] <= baseline_mw[t] * (1 + up_frac)
        sum_t x[t] dt_h <= E_base * (1 + energy_tolerance_frac)
        sum_t x[t] dt_h >= E_base * (1 - energy_tolerance_frac) - curtailed_mwh

    ``curtailed_mwh`` (MWh, >= 0) costs ``curtailment_cost`` yuan/MWh and is fixed to zero when
    ``curtailment_cost`` is not given.
    """

    type: Literal["flexible_load"] = "flexible_load"
    baseline: ProfileRef = Field(description="Baseline consumption profile; times scale_mw (MW).")
    scale_mw: NonNegativeFloat = Field(default=1.0, description="Multiplier of the baseline (MW).")
    up_frac: NonNegativeFloat = Field(
        default=0.3, description="Most extra consumption in a period, as a fraction of baseline."
    )
    down_frac: Fraction = Field(
        default=0.3, description="Most reduction in a period, as a fraction of baseline."
    )
    energy_tolerance_frac: Fraction = Field(
        default=0.0, description="Allowed deviation of daily energy from the baseline's (fraction)."
    )
    curtailment_cost: NonNegativeFloat | None = Field(
        default=None,
        description="Price of energy not consumed at all (yuan/MWh); None forbids curtailment.",
    )

    def profile_refs(self) -> dict[str, object]:
        return {"baseline": self.baseline}


ENERGY_CONSUMED_MWH = StateKey("flexible_load", "energy_consumed_mwh", "MWh", daily=True, accrues="import")
"""Energy consumed so far today (MWh), for the daily energy window."""


# ---------------------------------------------------------------------------------------------
# Domain rules


def flexible_load_range(specs: Sequence[FlexibleLoadSpec], horizon: Horizon) -> FamilyRange:
    """Flexible load with ``b[t] = scale_mw * baseline[t]`` (MW)::

        -b[t] * (1 + up_frac) <= net[t] <= -b[t] * (1 - down_frac),   baseline net = -b[t]

    Shiftable energy = ``E_base * up * down / (up + down)`` per load, ``E_base = sum_t b[t] dt_h``:
    the most energy taken out of some periods and put back into others when the baseline is split
    freely between the two (the daily-energy tolerance is not counted).
    """
    base = np.array([s.scale_mw for s in specs])[:, None] * horizon.stack(specs, "baseline")
    up = np.array([s.up_frac for s in specs])
    down = np.array([s.down_frac for s in specs])
    energy = base @ horizon.dt_h
    both = up + down
    share = np.divide(up * down, both, out=np.zeros_like(both), where=both > 0)
    return FamilyRange(
        -base * (1 + up[:, None]), -base * (1 - down[:, None]), -base, float(share @ energy)
    )


def flexible_load_summary(specs: Sequence[FlexibleLoadSpec], peak: Peak) -> Summary:
    """Peak baseline and the bands."""
    total = sum(s.scale_mw * peak(s.baseline) for s in specs)
    bands = sorted({f"+{s.up_frac:.0%}/-{s.down_frac:.0%}" for s in specs})
    return Summary(total, None, f"peak baseline; {', '.join(bands)}")


def flexible_load_telemetry(spec: FlexibleLoadSpec) -> TelemetryRange:
    """Draws only, up to the grid connection (no rating of its own)."""
    return TelemetryRange(None, 0.0)


FAMILY = Family(
    "flexible_load",
    FlexibleLoadSpec,
    envelope=flexible_load_range,
    summary=flexible_load_summary,
    telemetry=flexible_load_telemetry,
    state_keys=(ENERGY_CONSUMED_MWH,),
)
