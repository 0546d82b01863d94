"""Parameter sweeps: backtest portfolio variants side by side, in parallel on Dask.

A parameter is a path into the portfolio file with the values to try::

    assets[bess-1].energy_mwh=1,2,4      # the asset with id bess-1 (or assets[0]: by position)
    grid.import_limit_mw=5,10

Every combination of the values is one variant (the cartesian product, in the order given). A
variant is the portfolio file's data with the values set, validated again
(:func:`vpp.portfolio_file.parse_portfolio`); its profile files are those of the original. Each
(variant, strategy) pair is one task (:mod:`simulator.distributed`: exact, the same as a serial
run); each variant also runs the perfect-foresight bound and has its own passive position, so
capture ratios are per variant.

Outputs (:func:`write_sweep`): ``sweep.csv`` (one row per variant and strategy: the parameter
values, ``total_revenue_yuan``, ``capture_ratio``, ``value_over_passive_yuan``, ``yuan_per_mwh``,
``passive_revenue_yuan``, ``perfect_foresight_revenue_yuan``), ``sweep.png`` (value over passive
and capture ratio per variant and strategy) and ``sweep.html`` (the table and the plot).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import html
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from market.forecasting.run import DEFAULT_FORECASTER
from optimizer.solver import SolveOptions
from simulator.backtest import BacktestResult, strategies_to_run, summarise
from simulator.distributed import dask_client, longest_first, map_tasks, merge_runs, progress_bar, replay_task
from simulator.replay import BacktestRun
from vpp.errors import InputError
from vpp.io_utils import write_csv_atomic, write_text_atomic
from vpp.portfolio_file import parse_portfolio, read_portfolio_data
from vpp.portfolio_io import LoadedPortfolio, load_portfolio

_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


@dataclass(frozen=True)
class SweepParam:
    """One swept parameter: ``path`` into the portfolio data and the ``values`` to try."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepResult:
    """A sweep's outcome: the comparison table and every variant's backtest.

    Attributes
    ----------
    table : pd.DataFrame
        One row per variant and strategy (the content of ``sweep.csv``).
    results : dict[str, BacktestResult]
        Per variant name, its backtest (settlements, summary).
    seconds : float
        Wall time (s).
    """

    table: pd.DataFrame
    results: dict[str, BacktestResult]
    seconds: float


def parse_param(text: str) -> SweepParam:
    """``PATH=V1,V2,...`` -> :class:`SweepParam` (values read as YAML scalars: 2, 2.5, true, abc)."""
    path, sep, values = text.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise InputError(f"'{text}' is not PATH=V1,V2,...", field="--param")
    _steps(path.strip())
    parsed = tuple(yaml.safe_load(v.strip()) for v in values.split(",") if v.strip())
    return SweepParam(path.strip(), parsed)


def _steps(path: str) -> list[str]:
    steps = [m.group(1) or m.group(2) for m in _STEP.finditer(path)]
    if not steps or "".join(_STEP.sub("", path).split(".")):
        raise InputError(f"cannot read the parameter path '{path}'", field="--param")
    if steps[0] == "profiles":
        raise InputError("profile files cannot be swept", field="--param")
    return steps


def set_value(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` (``a.b``, ``assets[id].field``, ``assets[0].field``) in ``data`` to ``value``."""
    steps = _steps(path)
    node: Any = data
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(node, list):
            node_index = _list_index(node, step, path)
            if last:
                node[node_index] = value
            else:
                node = node[node_index]
        elif isinstance(node, dict):
            if last:
                node[step] = value
            else:
                if step not in node:
                    node[step] = {}
                node = node[step]
        else:
            raise InputError(f"'{path}': '{step}' is inside a value, not a mapping or list", field="--param")


def _list_index(items: list[Any], step: str, path: str) -> int:
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == step:
            return i
    if step.lstrip("-").isdigit() and -len(items) <= int(step) < len(items):
        return int(step)
    raise InputError(f"'{path}': no item with id or position '{step}'", field="--param")


def variants(params: list[SweepParam]) -> list[dict[str, Any]]:
    """Every combination of the parameter values: one ``{path: value}`` per variant."""
    return [dict(zip([p.path for p in params], combo, strict=True))
            for combo in itertools.product(*[p.values for p in params])]


def variant_name(assignment: dict[str, Any]) -> str:
    """A readable, file-safe name of a variant, e.g. ``bess-1.energy_mwh=2``."""
    def short(path: str) -> str:
        return re.sub(r"^assets\[([^\]]+)\]", r"\1", path).replace("[", ".").replace("]", "")

    return ",".join(f"{short(p)}={v}" for p, v in assignment.items()) or "base"


def load_variant(path: Path, assignment: dict[str, Any]) -> LoadedPortfolio:
    """The portfolio at ``path`` with ``assignment`` applied and validated (same profiles)."""
    base = load_portfolio(path)
    if not assignment:
        return base
    data = copy.deepcopy(read_portfolio_data(Path(path)))
    for key, value in assignment.items():
        set_value(data, key, value)
    return dataclasses.replace(base, portfolio=parse_portfolio(data, file=path))


def run_sweep(
    portfolio: Path,
    params: list[SweepParam],
    prices: pd.DataFrame,
    days: list[dt.date],
    strategies: list[str] | str,
    *,
    forecast: str = DEFAULT_FORECASTER,
    options: SolveOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Backtest every variant for ``strategies`` (plus the bound): one task per variant and strategy.

    Parameters
    ----------
    portfolio : Path
        The base portfolio file.
    params : list of SweepParam
        Swept parameters (:func:`parse_param`).
    prices, days, strategies, forecast, options
        As :func:`simulator.backtest.run_backtest`.
    workers, scheduler
        Local processes (:func:`simulator.distributed.map_tasks`) or an existing Dask scheduler
        (neither: run here, serially).
    progress : bool, optional
        A progress bar over variant-strategy-days on stderr; default: only on a terminal.
    """
    start = time.perf_counter()
    names, to_run = strategies_to_run(strategies)
    assignments = variants(params)
    loaded = {variant_name(a): load_variant(portfolio, a) for a in assignments}  # validate before any work
    calls = [(name, s) for name in loaded for s in to_run]
    order = longest_first([s for _, s in calls])
    with (
        dask_client(workers, scheduler) as client,
        progress_bar("sweep (variant-strategy-days)", len(calls) * len(days), progress) as step,
    ):
        done = map_tasks(client, _variant_task, [(loaded[calls[i][0]], calls[i][1].name) for i in order],
                         {"prices": prices, "days": days, "forecast": forecast, "options": options},
                         on_step=step, steps_per_call=len(days), workers=workers)
    runs = [run for _, run in sorted(zip(order, done, strict=True), key=lambda pair: pair[0])]
    by_variant: dict[str, list[BacktestRun]] = {}
    for (name, _), run in zip(calls, runs, strict=True):
        by_variant.setdefault(name, []).append(run)
    results = {name: summarise(loaded[name], prices, days, names, merge_runs(parts))
               for name, parts in by_variant.items()}
    rows = []
    for assignment in assignments:
        name = variant_name(assignment)
        summary = results[name].summary
        for strategy in names:
            block = summary["strategies"][strategy]
            rows.append({
                "variant": name, **assignment, "strategy": strategy,
                "total_revenue_yuan": block["total_revenue_yuan"],
                "capture_ratio": block["capture_ratio"],
                "value_over_passive_yuan": block["value_over_passive_yuan"],
                "yuan_per_mwh": block["yuan_per_mwh"],
                "passive_revenue_yuan": summary["passive_revenue_yuan"],
                "perfect_foresight_revenue_yuan": summary["perfect_foresight_revenue_yuan"],
            })
    return SweepResult(pd.DataFrame(rows), results, time.perf_counter() - start)


def _variant_task(
    loaded: LoadedPortfolio, strategy: str, *, prices: pd.DataFrame, days: list[dt.date], forecast: str,
    options: SolveOptions | None, on_day: Callable[[dt.date], None] | str | None = None,
) -> BacktestRun:
    return replay_task(loaded, prices, days, strategy, forecast, options, on_day)


def write_sweep(
    result: SweepResult, out: Path, title: str = "Parameter sweep", money: str = "yuan"
) -> list[Path]:
    """Write ``sweep.csv``, ``sweep.png`` and ``sweep.html`` into ``out``; return their paths.

    ``money`` names the market's currency in the plot and page (columns keep their ``_yuan`` names).
    """
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    table = result.table
    written = [write_csv_atomic(table, out / "sweep.csv")]
    value = table.pivot(index="variant", columns="strategy", values="value_over_passive_yuan")
    capture = table.pivot(index="variant", columns="strategy", values="capture_ratio").astype(float)
    order = list(dict.fromkeys(table["variant"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    value.loc[order].plot.bar(ax=axes[0], width=0.8)
    axes[0].set_ylabel(money)
    axes[0].set_title("Value over passive (revenue - passive revenue)")
    capture.loc[order].plot.bar(ax=axes[1], width=0.8, legend=False)
    axes[1].axhline(0, color="black", lw=0.5)
    axes[1].set_title("Capture ratio (revenue - passive) / (bound - passive)")
    for ax in axes:
        ax.set_xticks(ax.get_xticks(), [str(v) for v in order], rotation=30, ha="right")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    png = buffer.getvalue()
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.png").write_bytes(png)
    written.append(out / "sweep.png")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>VPP sweep</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(order)} variants, {result.seconds:.1f} s. "
        f"Money in {html.escape(money)}; "
        "capture ratio = (revenue - passive) / (perfect foresight - passive).</p>"
        + table.to_html(border=0, index=False, na_rep="-", float_format=lambda v: f"{v:,.4g}")
        + f"<img alt='sweep' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"
        "</body></html>"
    )
    written.append(write_text_atomic(page, out / "sweep.html"))
    return written
