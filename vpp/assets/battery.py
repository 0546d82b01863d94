"""Battery energy storage: community, commercial or utility batteries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, Efficiency, NonNegativeFloat, PositiveFloat
from vpp.assets.family import Fallback, Family, FamilyRange, Horizon, Peak, StateKey, Summary, TelemetryRange


class BatterySpec(AssetSpec):
    """A battery with charge and discharge limits, efficiencies and a state-of-charge window.

    State of charge ``soc`` is the energy stored at the END of each period (MWh);
    ``soc_initial_mwh`` is the energy at the start of the first period::

        soc[t] = soc[t-1] * (1 - self_discharge_per_hour) ** dt_h
                 + charge_efficiency * charge_mw[t] * dt_h
                 - discharge_mw[t] * dt_h / discharge_efficiency
    """

    type: Literal["battery"] = "battery"
    power_mw: PositiveFloat | None = Field(
        default=None, description="Charge and discharge power limit (MW), when both are equal."
    )
    charge_power_mw: PositiveFloat | None = Field(default=None, description="Charge limit (MW).")
    discharge_power_mw: PositiveFloat | None = Field(default=None, description="Discharge limit (MW).")
    energy_mwh: PositiveFloat = Field(description="Usable energy capacity (MWh).")
    charge_efficiency: Efficiency = Field(default=0.95, description="Grid-to-cell efficiency.")
    discharge_efficiency: Efficiency = Field(default=0.95, description="Cell-to-grid efficiency.")
    soc_initial_mwh: NonNegativeFloat = Field(description="Stored energy at the day's start (MWh).")
    soc_min_mwh: NonNegativeFloat = Field(default=0.0, description="Lowest allowed energy (MWh).")
    soc_max_mwh: NonNegativeFloat | None = Field(
        default=None, description="Highest allowed energy (MWh); defaults to energy_mwh."
    )
    soc_final_mwh: NonNegativeFloat | None = Field(
        default=None,
        description="Least energy at the day's end (MWh); defaults to soc_initial_mwh.",
    )
    self_discharge_per_hour: float = Field(
        default=0.0, ge=0, lt=1, description="Fraction of stored energy lost per hour."
    )
    degradation_cost: NonNegativeFloat = Field(
        default=0.0, description="Wear cost per MWh discharged (yuan/MWh)."
    )
    max_cycles_per_day: PositiveFloat | None = Field(
        default=None, description="Most full-equivalent discharge cycles per day."
    )

    @model_validator(mode="after")
    def _check_power_and_soc(self) -> BatterySpec:
        if self.power_mw is None and (self.charge_power_mw is None or self.discharge_power_mw is None):
            raise ValueError("give power_mw, or both charge_power_mw and discharge_power_mw")
        soc_max = self.soc_ceiling_mwh
        if soc_max > self.energy_mwh + 1e-9:
            raise ValueError(f"soc_max_mwh {soc_max} exceeds energy_mwh {self.energy_mwh}")
        if self.soc_min_mwh > soc_max:
            raise ValueError(f"soc_min_mwh {self.soc_min_mwh} exceeds soc_max_mwh {soc_max}")
        for name in ("soc_initial_mwh", "soc_final_mwh"):
            value = getattr(self, name)
            if value is not None and not self.soc_min_mwh - 1e-9 <= value <= soc_max + 1e-9:
                raise ValueError(
                    f"{name} {value} is outside [soc_min_mwh, soc_max_mwh] = [{self.soc_min_mwh}, {soc_max}]"
                )
        return self

    @property
    def charge_limit_mw(self) -> float:
        """Charge power limit (MW)."""
        return float(self.charge_power_mw if self.charge_power_mw is not None else self.power_mw)

    @property
    def discharge_limit_mw(self) -> float:
        """Discharge power limit (MW)."""
        return float(self.discharge_power_mw if self.discharge_power_mw is not None else self.power_mw)

    @property
    def soc_ceiling_mwh(self) -> float:
        """Highest allowed stored energy (MWh): ``soc_max_mwh``, else ``energy_mwh``."""
        return float(self.soc_max_mwh if self.soc_max_mwh is not None else self.energy_mwh)

    @property
    def soc_final_floor_mwh(self) -> float:
        """Least stored energy at the end of the day (MWh): ``soc_final_mwh``, else ``soc_initial_mwh``."""
        return float(self.soc_final_mwh if self.soc_final_mwh is not None else self.soc_initial_mwh)


SOC_MWH = StateKey("battery", "soc_mwh", "MWh", series="battery.soc_mwh")
"""Energy stored at the end of a period (MWh)."""
DISCHARGED_MWH = StateKey("battery", "discharged_mwh", "MWh", daily=True, accrues="export")
"""Energy discharged so far today (MWh), for the cycle budget."""


# ---------------------------------------------------------------------------------------------
# Domain rules


def battery_range(specs: Sequence[BatterySpec], horizon: Horizon) -> FamilyRange:
    """Battery: ``-charge_limit_mw <= net[t] <= discharge_limit_mw``, baseline 0 (idle).

    State of charge is ignored here (a full battery cannot charge, an empty one cannot
    discharge). Shiftable energy = ``sum(soc_ceiling_mwh - soc_min_mwh)`` (MWh).
    """
    ones = np.ones(len(horizon.index))
    charge = np.array([s.charge_limit_mw for s in specs])[:, None] * ones
    discharge = np.array([s.discharge_limit_mw for s in specs])[:, None] * ones
    shiftable = sum(s.soc_ceiling_mwh - s.soc_min_mwh for s in specs)
    return FamilyRange(-charge, discharge, np.zeros_like(charge), float(shiftable))


def battery_summary(specs: Sequence[BatterySpec], peak: Peak) -> Summary:
    """Discharge power, energy, charge power and round-trip efficiency."""
    charge = sum(s.charge_limit_mw for s in specs)
    round_trip = [s.charge_efficiency * s.discharge_efficiency for s in specs]
    notes = f"discharge; charge {charge:.2f} MW; round trip {min(round_trip):.0%}"
    if max(round_trip) - min(round_trip) > 1e-9:
        notes += f"-{max(round_trip):.0%}"
    return Summary(sum(s.discharge_limit_mw for s in specs), sum(s.energy_mwh for s in specs), notes)


def battery_telemetry(spec: BatterySpec) -> TelemetryRange:
    """``[-charge limit, discharge limit]`` MW, stored energy up to ``energy_mwh``."""
    return TelemetryRange(-spec.charge_limit_mw, spec.discharge_limit_mw, spec.energy_mwh)


def clip_battery(spec: BatterySpec, soc_mwh: float, target_mw: float, dt_h: float) -> float:
    """The setpoint closest to ``target_mw`` that the battery can hold for ``dt_h`` hours (MW)::

        -min(P_ch, (E_max - E) / (eta_ch dt)) <= p <= min(P_dis, (E - E_min) eta_dis / dt)

    with ``E = soc_mwh`` the stored energy at the period's start (MWh).
    """
    soc = min(max(soc_mwh, spec.soc_min_mwh), spec.soc_ceiling_mwh)
    discharge = min(spec.discharge_limit_mw, (soc - spec.soc_min_mwh) * spec.discharge_efficiency / dt_h)
    charge = min(spec.charge_limit_mw, (spec.soc_ceiling_mwh - soc) / (spec.charge_efficiency * dt_h))
    return float(min(max(target_mw, -max(charge, 0.0)), max(discharge, 0.0)))


def battery_after(spec: BatterySpec, soc_mwh: float, p_mw: float, dt_h: float) -> float:
    """Stored energy after one period at ``p_mw`` (MW, positive = discharge to the grid) (MWh);
    self-discharge neglected over one period."""
    if p_mw >= 0:
        return soc_mwh - p_mw * dt_h / spec.discharge_efficiency
    return soc_mwh - p_mw * dt_h * spec.charge_efficiency


FAMILY = Family(
    "battery",
    BatterySpec,
    envelope=battery_range,
    summary=battery_summary,
    telemetry=battery_telemetry,
    state_keys=(SOC_MWH, DISCHARGED_MWH),
    stored_energy=SOC_MWH,
    initial_stored_mwh=lambda spec: spec.soc_initial_mwh,
    fallback=Fallback(clip_battery, battery_after),
)
