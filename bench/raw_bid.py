"""The floor of ``vpp bid`` for a battery fleet: the same LP built from arrays, straight to highspy.

``python -m bench.raw_bid DIR`` reads ``DIR/portfolio.yaml`` and ``DIR/prices.csv`` (written by
:mod:`bench.bid_files`), builds the day-ahead LP of 2024-04-16 with numpy and scipy.sparse, hands
it to HiGHS in one ``passModel`` call, solves it and writes ``DIR/raw_bid.csv``
(``timestamp,net_mw``); it prints the objective (yuan). No project code: this is what a minimal
program doing the same job costs, start-up included. Per battery ``i`` and period ``t`` (dt h)::

    max  sum_t price[t] dt sum_i (d[i,t] - c[i,t])  -  sum_i wear_i dt sum_t d[i,t]
    s[i,t] = r_i^dt s[i,t-1] + eta_c_i dt c[i,t] - dt d[i,t] / eta_d_i      (s[i,-1] = soc0_i)
    soc_min_i <= s[i,t] <= soc_max_i,  s[i,T-1] >= soc_final_i,  0 <= c, d <= P_i
    sum_t dt d[i,t] <= cycles_i E_i T dt / 24                      (where a cycle limit is set)
    -import <= sum_i (d[i,t] - c[i,t]) <= export

the LP the engine solves (``optimizer/families/battery.py``, ``optimizer/model.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import highspy
import numpy as np
import yaml
from scipy import sparse

DAY = "2024-04-16"


def main(folder: Path) -> float:
    """Solve the bid of ``folder``'s fleet; returns the objective (yuan)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load((folder / "portfolio.yaml").read_text(), Loader=loader)
    stamps, price = [], []
    for line in (folder / "prices.csv").read_text().splitlines()[1:]:
        fields = line.split(",")
        if fields[0].startswith(DAY):
            stamps.append(fields[0])
            price.append(float(fields[1]))
    price = np.array(price)
    n_t, dt = price.size, 0.25
    bats = spec["assets"]
    n = len(bats)

    def col(key: str, default: float | None = None) -> np.ndarray:
        return np.array([default if b.get(key) is None else b[key] for b in bats], dtype=float)

    power, energy = col("power_mw"), col("energy_mwh")
    eta_c, eta_d = col("charge_efficiency", 0.95), col("discharge_efficiency", 0.95)
    soc_min, soc_max = col("soc_min_mwh", 0.0), col("soc_max_mwh", np.nan)
    soc_max = np.where(np.isnan(soc_max), energy, soc_max)
    soc0 = np.clip(col("soc_initial_mwh"), soc_min, soc_max)
    soc_final = col("soc_final_mwh", np.nan)
    soc_final = np.where(np.isnan(soc_final), col("soc_initial_mwh"), soc_final)
    keep = (1.0 - col("self_discharge_per_hour", 0.0)) ** dt
    wear, cycles = col("degradation_cost", 0.0), col("max_cycles_per_day", np.inf)

    # Columns: c[i,t], d[i,t], s[i,t] (block per kind, i-major); rows: balance[i,t], cycles, fleet[t].
    k = n * n_t
    ci, di, si = np.arange(k), k + np.arange(k), 2 * k + np.arange(k)
    tt = np.tile(np.arange(n_t), n)
    ii = np.repeat(np.arange(n), n_t)
    rows = [np.arange(k)] * 3
    cols = [si, ci, di]
    vals = [np.ones(k), -(eta_c[ii] * dt), np.full(k, dt) / eta_d[ii]]
    later = tt > 0
    rows.append(np.arange(k)[later])
    cols.append(si[later] - 1)
    vals.append(-keep[ii[later]])
    limited = np.flatnonzero(np.isfinite(cycles))
    cyc_rows = k + np.repeat(np.arange(limited.size), n_t)
    rows.append(cyc_rows)
    cols.append((di.reshape(n, n_t)[limited]).ravel())
    vals.append(np.full(cyc_rows.size, dt))
    fleet0 = k + limited.size
    rows += [fleet0 + tt, fleet0 + tt]
    cols += [di, ci]
    vals += [np.ones(k), -np.ones(k)]
    n_rows = fleet0 + n_t
    a = sparse.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, 3 * k)
    )
    first = np.where(tt == 0, keep[ii] * soc0[ii], 0.0)
    budget = cycles[limited] * energy[limited] * n_t * dt / 24.0
    limit = spec["grid"]
    row_lo = np.concatenate([first, np.full(limited.size, -np.inf), np.full(n_t, -limit["import_limit_mw"])])
    row_hi = np.concatenate([first, budget, np.full(n_t, limit["export_limit_mw"])])
    s_lo = soc_min[ii].copy()
    last = tt == n_t - 1
    s_lo[last] = np.maximum(s_lo[last], soc_final[ii[last]])
    cost = np.concatenate([-price[tt] * dt, price[tt] * dt - wear[ii] * dt, np.zeros(k)])

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 3 * k, n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = np.concatenate([np.zeros(2 * k), s_lo])
    lp.col_upper_ = np.concatenate([power[ii], power[ii], soc_max[ii]])
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SystemExit(f"HiGHS: {h.modelStatusToString(h.getModelStatus())}")
    x = np.asarray(h.getSolution().col_value)
    net = (x[di] - x[ci]).reshape(n, n_t).sum(axis=0)
    text = "timestamp,net_mw\n" + "".join(f"{s},{v:.6f}\n" for s, v in zip(stamps, net, strict=True))
    (folder / "raw_bid.csv").write_text(text)
    objective = float(h.getInfo().objective_function_value)
    print(f"objective {objective:.6f} yuan")
    return objective


if __name__ == "__main__":
    main(Path(sys.argv[1]))
