"""CPU seconds of each phase of a ``vpp bid``'s model, in one process: build, then compile.

``python bench/bid_phases.py DIR [--solve]`` reads ``DIR/portfolio.yaml`` and ``DIR/prices.csv``
(written by :mod:`bench.bid_files`), prepares the 2024-04-16 problem as ``vpp bid`` does, then
times (``time.process_time``, so a loaded machine's waiting is not counted) the Pyomo build
(``optimizer.model.build_model``) and the standard-form compile and hand-off to HiGHS
(``optimizer.highs_bridge.compile_to_highs``), with the cyclic garbage collector off as in
``vpp bid``. ``--solve`` also runs HiGHS and prints the objective (yuan, 6 decimals as raw_bid prints it)
to compare with ``python -m bench.raw_bid DIR``.

Run by path, it times whichever engine is first on ``PYTHONPATH``: the same script measures a
checkout of an older commit (``PYTHONPATH=/path/to/old python bench/bid_phases.py DIR``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time
from pathlib import Path

DAY = dt.date(2024, 4, 16)


def main() -> None:
    """Print the CPU seconds of imports, preparation, build and compile (and HiGHS with --solve)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder written by python -m bench.bid_files")
    parser.add_argument("--solve", action="store_true", help="also run HiGHS and print the objective")
    args = parser.parse_args()
    clock = time.process_time
    start = clock()
    from market.prices import read_prices
    from optimizer.highs_bridge import compile_to_highs
    from optimizer.model import build_model
    from simulator.day_ahead import day_problem, prices_for_day
    from vpp.portfolio_io import load_portfolio

    imported = clock()
    gc.disable()
    loaded = load_portfolio(args.folder / "portfolio.yaml")
    prices = prices_for_day(read_prices(args.folder / "prices.csv", loaded.market), loaded.market, DAY)
    problem = day_problem(loaded, DAY, prices["da_price"].to_numpy())
    prepared = clock()
    model = build_model(problem)
    built = clock()
    highs, _ = compile_to_highs(model)
    compiled = clock()
    print(
        f"CPU s: imports {imported - start:.2f}, prepare {prepared - imported:.2f}, "
        f"build {built - prepared:.2f}, compile {compiled - built:.2f} "
        f"({highs.getNumCol()} columns, {highs.getNumRow()} rows)"
    )
    if args.solve:
        highs.run()
        # The compiled model minimises -objective.
        objective = -highs.getInfo().objective_function_value
        print(f"HiGHS {clock() - compiled:.2f} CPU s, objective {objective:.6f} yuan")


if __name__ == "__main__":
    main()
