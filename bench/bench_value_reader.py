"""Micro-benchmark: the exclusivity check's read of charge/discharge values after a solve.

Solves the first day of the 100-asset portfolio of :mod:`bench.bench_backtest` once, then reads
the values the no-simultaneous-flow check reads after every solve (:meth:`Exclusivity.simultaneous`
through ``optimizer.highs_bridge.ColumnReader``) 50 times, with the kept column lookup cleared each time
(the old cost) and kept (now). Prints CPU ms per read.

Usage::

    python -m bench.bench_value_reader
"""

from __future__ import annotations

import time

from bench.bench_backtest import START, bench_portfolio, tiled_prices
from market.price_days import prices_for_day
from simulator.day_model import DayModels

REPEAT = 50


def main() -> None:
    loaded = bench_portfolio()
    prices = tiled_prices(2, loaded.market)
    price = prices_for_day(prices, loaded.market, START)["da_price"].to_numpy(dtype=float)
    models = DayModels(loaded)
    models.solve_arrays(START, price, {}, 0)
    solver = models.solver
    exclusivity, raw = solver._integers.exclusivity(solver.problem), solver._kept.last
    variables = 2 * sum(len(c) for c in exclusivity._charge)

    def per_read_ms(clear: bool) -> float:
        start = time.process_time()
        for _ in range(REPEAT):
            if clear:
                solver._reader.clear()
            exclusivity.simultaneous(solver._reader.values_of(raw))
        return (time.process_time() - start) / REPEAT * 1e3

    print(f"{variables} variables read per solve: looked up every time {per_read_ms(True):.2f} ms, "
          f"kept {per_read_ms(False):.2f} ms (CPU per solve)")


if __name__ == "__main__":
    main()
