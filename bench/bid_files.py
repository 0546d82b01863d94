"""Files for the whole-process ``vpp bid`` benchmark: a battery fleet and its price day.

``python -m bench.bid_files --batteries 1000 --out /tmp/bid1000`` writes ``portfolio.yaml``
(``N`` batteries on the Gansu market, reproducible from ``--seed``; 0.5-5 MW, 1/2/4 h,
efficiencies 0.90-0.97, self-discharge, wear cost, a third with a daily cycle limit; grid limits at
40 % of the fleet's power, so they bind) and ``prices.csv`` (the bundled Gansu days,
``bench/data/SOURCE.md``). Bid day 2024-04-16 with ``--allow-late``; the raw-highspy floor of the
same files is :mod:`bench.raw_bid`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import yaml

DATA = Path(__file__).resolve().parent / "data" / "gansu_2024-04-16_to_19_15min.csv"
DAY = "2024-04-16"


def battery_assets(n: int, seed: int) -> list[dict]:
    """``n`` battery asset mappings as a portfolio file lists them."""
    rng = np.random.default_rng(seed)
    assets = []
    for i in range(n):
        power = round(float(rng.uniform(0.5, 5.0)), 3)
        energy = round(power * float(rng.choice([1.0, 2.0, 4.0])), 3)
        asset = {
            "id": f"bess-{i + 1}",
            "type": "battery",
            "power_mw": power,
            "energy_mwh": energy,
            "soc_initial_mwh": round(0.5 * energy, 3),
            "soc_min_mwh": round(0.1 * energy, 3),
            "charge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
            "discharge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
            "self_discharge_per_hour": round(float(rng.uniform(0.0, 0.002)), 5),
            "degradation_cost": round(float(rng.uniform(0.0, 20.0)), 2),
        }
        if rng.random() < 0.3:
            asset["max_cycles_per_day"] = 1.0
        assets.append(asset)
    return assets


def write_files(n: int, out: Path, seed: int = 0) -> Path:
    """Write ``portfolio.yaml`` and ``prices.csv`` into ``out``; returns the portfolio path."""
    out.mkdir(parents=True, exist_ok=True)
    assets = battery_assets(n, seed)
    limit = round(0.4 * sum(a["power_mw"] for a in assets), 3)
    portfolio = {
        "name": f"bid-{n}-batteries-seed{seed}",
        "market": "gansu",
        "grid": {"import_limit_mw": limit, "export_limit_mw": limit},
        "assets": assets,
    }
    path = out / "portfolio.yaml"
    path.write_text(yaml.safe_dump(portfolio, sort_keys=False, default_flow_style=None, width=200))
    shutil.copyfile(DATA, out / "prices.csv")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batteries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_files(args.batteries, args.out, args.seed))


if __name__ == "__main__":
    main()
