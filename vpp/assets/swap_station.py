"""Battery-swap station: the "charge-swap-store-discharge" hub of Shanxi's urban-renewal plans.

Vehicles (e-taxis, delivery vans, e-scooters) drive in with a depleted pack and leave with a full
one. The station keeps ``packs`` packs in stock, each holding ``pack_energy_mwh`` when full, and
charges them from the grid with ``charger_power_mw`` at ``charge_efficiency``. The swap demand is a
profile in packs per period; every swapped-out pack must be full. Idle packs may also discharge
to the grid (``discharge_power_mw`` > 0).

The stock is modelled by its stored energy ``E[t]`` (MWh at the end of period ``t``), charging
one pack after the other (so ``E / pack_energy_mwh`` rounded down packs are full). The swaps of
period ``t`` are served from the packs full at its start, and each brings in an empty pack::

    ready[t] = E[t-1] - swap_demand[t] * pack_energy_mwh >= 0          (full packs meet demand)
    E[t]     = ready[t] + charge_efficiency * charge_mw[t] * dt
                        - discharge_mw[t] * dt / discharge_efficiency
    0 <= E[t] <= packs * pack_energy_mwh,   E[-1] = full_packs_initial * pack_energy_mwh
    E[T-1] >= full_packs_final * pack_energy_mwh
    net_mw[t] = discharge_mw[t] - charge_mw[t]

With an integer demand the energy condition is the pack condition: ``E[t-1] >= n * e`` holds
exactly when at least ``n`` packs are full. A fractional demand (an expected number of swaps) is
met in energy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, Efficiency, NonNegativeFloat, PositiveFloat, ProfileRef
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, StateKey, Summary, TelemetryRange


class SwapStationSpec(AssetSpec):
    """A battery-swap station: packs in stock, their chargers and the swap demand (module docstring)."""

    type: Literal["swap_station"] = "swap_station"
    packs: int = Field(ge=1, description="Packs in stock at the station (a swap exchanges one for one).")
    pack_energy_mwh: PositiveFloat = Field(description="Usable energy of a full pack (MWh).")
    charger_power_mw: PositiveFloat = Field(description="Grid power of all chargers together (MW).")
    charge_efficiency: Efficiency = Field(default=0.95, description="Grid-to-pack efficiency.")
    swap_demand: ProfileRef = Field(
        description="Full packs swapped out per period (packs; may be fractional: expected swaps)."
    )
    discharge_power_mw: NonNegativeFloat = Field(
        default=0.0, description="Power idle packs may discharge to the grid (MW); 0: never."
    )
    discharge_efficiency: Efficiency = Field(default=0.95, description="Pack-to-grid efficiency.")
    full_packs_initial: NonNegativeFloat = Field(
        description="Stored energy at the day's start, in full packs (may be fractional)."
    )
    full_packs_final: NonNegativeFloat | None = Field(
        default=None, description="Least stored energy at the day's end, in full packs; default the initial."
    )

    @model_validator(mode="after")
    def _check_stock(self) -> SwapStationSpec:
        for name in ("full_packs_initial", "full_packs_final"):
            value = getattr(self, name)
            if value is not None and value > self.packs + 1e-9:
                raise ValueError(f"{name} {value} exceeds packs {self.packs}")
        return self

    def profile_refs(self) -> dict[str, object]:
        return {"swap_demand": self.swap_demand}

    @property
    def stock_mwh(self) -> float:
        """Energy of the whole stock when every pack is full (MWh)."""
        return self.packs * self.pack_energy_mwh

    @property
    def stored_initial_mwh(self) -> float:
        """Stored energy at the day's start (MWh)."""
        return self.full_packs_initial * self.pack_energy_mwh

    @property
    def stored_final_mwh(self) -> float:
        """Least stored energy at the day's end (MWh)."""
        final = self.full_packs_initial if self.full_packs_final is None else self.full_packs_final
        return final * self.pack_energy_mwh


STORED_MWH = StateKey("swap_station", "stored_mwh", "MWh", series="swap_station.stored_mwh")
"""Energy stored in the packs in stock at the end of a period (MWh)."""


def swap_station_range(specs: Sequence[SwapStationSpec], horizon: Horizon) -> FamilyRange:
    """``-charger_power_mw <= net[t] <= discharge_power_mw``; baseline: recharge each period what
    its swaps took out, ``-min(swap_demand * e / (eta dt), charger_power_mw)``. Shiftable energy:
    the stock's energy ``packs * pack_energy_mwh`` (MWh)."""
    ones = np.ones(len(horizon.index))
    charger = np.array([s.charger_power_mw for s in specs])[:, None] * ones
    discharge = np.array([s.discharge_power_mw for s in specs])[:, None] * ones
    per_pack = np.array([s.pack_energy_mwh / s.charge_efficiency for s in specs])[:, None]
    recharge = np.minimum(horizon.stack(specs, "swap_demand") * per_pack / horizon.dt_h, charger)
    return FamilyRange(-charger, discharge, -recharge, float(sum(s.stock_mwh for s in specs)))


def swap_station_summary(specs: Sequence[SwapStationSpec], peak: Peak) -> Summary:
    """Charger power, stock energy, packs and discharge power."""
    packs = sum(s.packs for s in specs)
    discharge = sum(s.discharge_power_mw for s in specs)
    return Summary(
        sum(s.charger_power_mw for s in specs),
        sum(s.stock_mwh for s in specs),
        f"chargers; MWh in stock; {packs} packs, discharge {discharge:.2f} MW",
    )


def swap_station_telemetry(spec: SwapStationSpec) -> TelemetryRange:
    """``[-charger_power_mw, discharge_power_mw]`` MW, stored energy up to the full stock."""
    return TelemetryRange(-spec.charger_power_mw, spec.discharge_power_mw, spec.stock_mwh)


FAMILY = Family(
    "swap_station",
    SwapStationSpec,
    envelope=swap_station_range,
    summary=swap_station_summary,
    telemetry=swap_station_telemetry,
    state_keys=(STORED_MWH,),
    stored_energy=STORED_MWH,
    initial_stored_mwh=lambda spec: spec.stored_initial_mwh,
)
