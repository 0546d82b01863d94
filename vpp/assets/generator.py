"""Dispatchable generation: gas gensets and combined heat and power units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, NonNegativeFloat, PositiveFloat
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, StateKey, Summary, TelemetryRange


class GeneratorSpec(AssetSpec):
    """A generator with a minimum stable output, ramp limits and unit commitment.

    Output ``p[t]`` (MW) with commitment ``on[t]``::

        min_mw * on[t] <= p[t] <= max_mw * on[t]
        |p[t] - p[t-1]| <= ramp_mw_per_hour * dt_h          (when a ramp limit is given)
        start[t] >= on[t] - on[t-1]
        cost = marginal_cost * p dt_h + startup_cost * start

    Binaries are only added when the physics needs them (a minimum output, a start-up cost or a
    minimum up/down time); otherwise the unit is a continuous LP variable in ``[0, max_mw]``.
    """

    type: Literal["generator"] = "generator"
    min_mw: NonNegativeFloat = Field(default=0.0, description="Minimum stable output when on (MW).")
    max_mw: PositiveFloat = Field(description="Maximum output (MW).")
    ramp_mw_per_hour: PositiveFloat | None = Field(
        default=None, description="Largest change of output per hour (MW/h)."
    )
    marginal_cost: float = Field(default=0.0, description="Fuel and variable cost (yuan/MWh).")
    startup_cost: NonNegativeFloat = Field(default=0.0, description="Cost per start (yuan).")
    min_up_hours: NonNegativeFloat = Field(default=0.0, description="Minimum time on once started (h).")
    min_down_hours: NonNegativeFloat = Field(default=0.0, description="Minimum time off once stopped (h).")
    initial_on: bool = Field(default=False, description="Is the unit running before the day starts?")
    initial_output_mw: NonNegativeFloat = Field(default=0.0, description="Output before the day (MW).")
    initial_hours_in_state: NonNegativeFloat = Field(
        default=1.0e3, description="Hours the unit has been in its initial on/off state."
    )

    @model_validator(mode="after")
    def _check_limits(self) -> GeneratorSpec:
        if self.min_mw > self.max_mw:
            raise ValueError(f"min_mw {self.min_mw} exceeds max_mw {self.max_mw}")
        return self

    @property
    def needs_commitment(self) -> bool:
        """True when on/off decisions need binaries."""
        return bool(
            self.min_mw > 0 or self.startup_cost > 0 or self.min_up_hours > 0 or self.min_down_hours > 0
        )


ON = StateKey("generator", "on", "0/1", series="generator.on")
"""Committed (1) or off (0) in the last period."""
OUTPUT_MW = StateKey("generator", "output_mw", "MW", series="generator.output_mw")
"""Output in the last period (MW), for the ramp limits."""
HOURS_IN_STATE = StateKey("generator", "hours_in_state", "h")
"""Hours the unit has been on (or off) without a change, for minimum up and down times."""


# ---------------------------------------------------------------------------------------------
# Domain rules


def generator_range(specs: Sequence[GeneratorSpec], horizon: Horizon) -> FamilyRange:
    """Generator: ``0 <= net[t] <= max_mw`` (off is always allowed here; ramps, minimum output and
    run times are ignored), baseline 0 (off). Shiftable energy 0."""
    top = np.array([s.max_mw for s in specs])[:, None] * np.ones(len(horizon.index))
    return FamilyRange(np.zeros_like(top), top, np.zeros_like(top), 0.0)


def generator_summary(specs: Sequence[GeneratorSpec], peak: Peak) -> Summary:
    """Maximum and minimum output."""
    return Summary(sum(s.max_mw for s in specs), None, f"max output; min {sum(s.min_mw for s in specs):.2f}")


def generator_telemetry(spec: GeneratorSpec) -> TelemetryRange:
    """``[0, max_mw]``."""
    return TelemetryRange(0.0, spec.max_mw)


FAMILY = Family(
    "generator",
    GeneratorSpec,
    envelope=generator_range,
    summary=generator_summary,
    telemetry=generator_telemetry,
    state_keys=(ON, OUTPUT_MW, HOURS_IN_STATE),
)
