"""Solver settings shared by every way of solving (one-shot, re-solves, stochastic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Handoff = Literal["auto", "persistent", "compiled"]

COMPILED_ABOVE_VARIABLES = 50_000
"""``auto`` hand-off threshold: models with more variables go through the compiled path."""


@dataclass(frozen=True)
class SolveOptions:
    """HiGHS settings.

    Attributes
    ----------
    time_limit_s : float
        Wall-clock limit for HiGHS (s).
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops.
    mip_max_nodes : int or None
        Branch-and-bound nodes after which a MIP run stops with its best solution and proven
        bound (HiGHS ``mip_max_nodes``; the root counts as one). Unlike the time limit it stops
        at the same point on any machine and under any load. None: no node limit.
    threads : int or None
        HiGHS threads (None: HiGHS default).
    handoff : {"auto", "persistent", "compiled"}
        How the Pyomo model reaches HiGHS.
    explain_infeasible : bool
        On infeasibility, run a least-violation relaxation to name the broken constraints.
    warm_start : bool
        Let a persistent re-solve start from the previous basis. Faster, but among tied optima
        the answer then depends on the solve history; off by default so that every result is
        reproducible (the same as a fresh solve of the same model).
    open_lp : bool
        With ``warm_start``, solve an LP re-solve whose carried-out periods fixed enough columns as
        its open part only (:mod:`optimizer.open_lp`): the same LP and optimum, a smaller simplex.
    highs_options : tuple of (name, value) pairs
        Further HiGHS options set before every solve, e.g. ``(("presolve", "off"),)`` or
        ``(("simplex_strategy", 4),)`` (``bench/RESULTS.md`` measured some for re-solves).
    """

    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-4
    mip_max_nodes: int | None = None
    threads: int | None = None
    handoff: Handoff = "auto"
    explain_infeasible: bool = True
    warm_start: bool = False
    open_lp: bool = False
    highs_options: tuple[tuple[str, object], ...] = ()
