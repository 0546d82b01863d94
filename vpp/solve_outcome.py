"""How a solve ended, as an operator reads it: proven optimal, or feasible and not proven optimal.

A schedule can be feasible without being proven optimal in two ways: a MIP stopped at its time
limit with an incumbent (status ``feasible``, a MIP gap), or the time limit was reached while storage
still charged and discharged at once and :mod:`optimizer.repair` fixed one direction per storage
period in one LP (status ``feasible``, termination ``Repaired: ...``). Both schedules are carried out
(a bid, a dispatch); every place that shows or records a solve says which it was
(:func:`solve_outcome`), and :func:`not_optimal_note` gives the sentence to log or print.
"""

from __future__ import annotations

from typing import Any, Protocol


class SolveEnd(Protocol):
    """What a solve reports (``optimizer.result.SolveStats``, ``optimizer.stochastic.StochasticResult``)."""

    @property
    def status(self) -> str: ...
    @property
    def termination(self) -> str: ...
    @property
    def mip_gap(self) -> float | None: ...
    @property
    def repaired(self) -> bool: ...
    @property
    def objective_yuan(self) -> float | None: ...
    @property
    def bound_yuan(self) -> float | None: ...


def solve_outcome(end: SolveEnd) -> dict[str, Any]:
    """JSON-ready figures of how a solve ended.

    Returns
    -------
    dict
        ``status`` (``optimal`` or ``feasible``), ``termination`` (HiGHS's, or ``Repaired: ...``),
        ``proven_optimal`` (status optimal: within the requested MIP gap), ``repaired`` (bool),
        ``mip_gap`` (relative, None for an LP or a repaired schedule), ``objective_yuan`` and
        ``bound_yuan`` (the proven bound of the optimum, yuan; the optimum lies between the two),
        rounded to the fen; None when unknown.
    """
    return {
        "status": str(end.status),
        "termination": str(end.termination),
        "proven_optimal": end.status == "optimal",
        "repaired": bool(end.repaired),
        "mip_gap": None if end.mip_gap is None else float(end.mip_gap),
        "objective_yuan": _fen(end.objective_yuan),
        "bound_yuan": _fen(end.bound_yuan),
    }


def not_optimal_note(outcome: dict[str, Any]) -> str | None:
    """The sentence an operator reads when the schedule is not proven optimal (None when it is).

    Parameters
    ----------
    outcome : dict
        :func:`solve_outcome`'s figures.
    """
    if outcome["proven_optimal"]:
        return None
    if outcome["repaired"]:
        what = (
            "repaired after the solver's time limit ran out while storage still charged and discharged "
            "at once (one LP fixed one direction per storage period)"
        )
    else:
        gap = outcome["mip_gap"]
        gap_text = "" if gap is None else f", MIP gap {gap:.2%}"
        what = f"HiGHS stopped ({outcome['termination']}{gap_text})"
    bound, objective = outcome["bound_yuan"], outcome["objective_yuan"]
    if bound is not None and objective is not None:
        what += f"; objective {objective:,.2f}, proven bound of the optimum {bound:,.2f}"
    return f"schedule is feasible but not proven optimal: {what}"


def schedule_source(outcome: dict[str, Any]) -> str:
    """The ``source`` of setpoints from a solved schedule: ``optimal`` (proven), ``repaired``, or
    ``feasible`` (a MIP incumbent at the time limit); a safe dispatch's is ``fallback``."""
    if outcome["proven_optimal"]:
        return "optimal"
    return "repaired" if outcome["repaired"] else "feasible"


def _fen(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
