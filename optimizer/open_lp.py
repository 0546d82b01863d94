"""The open part of a warm LP: fixed columns and the rows only they touch dropped, the basis kept.

A real-time re-solve of a kept day model fixes every column of the periods already carried out
(:mod:`optimizer.pinning`); with a warm basis HiGHS skips presolve, so those columns and the rows
of those periods stay in every simplex iteration (pricing, factorisation, row choice). Here the LP
HiGHS holds is cut down to what is still open, solved warm in a second HiGHS instance, and the
solution and basis are mapped back:

- every fixed column (``lower == upper``) that is nonbasic is dropped: its value moves into the
  row bounds and the objective's constant;
- a row whose every column is fixed is dropped, and with the dropped rows the fixed basic
  columns (and basic slacks) a maximum matching pairs them with. A fixed basic column left
  unpaired stays in the open LP (fixed) with every row it touches (which may unpair others:
  repeated until none is left). The basis matrix is then block triangular: no kept basic column
  touches a dropped row, and the dropped block is square, so the kept block is square and
  nonsingular, and it gives the kept rows the duals of the full basis. The warm start is the same
  vertex with the same duals, only smaller.

The open LP is the same LP with the fixed columns substituted: the same optimum (objective equal
up to rounding), and its basis, extended by the dropped part, is a basis of the full LP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from optimizer.highs_bridge import RawSolution, apply_options
from optimizer.highs_setup import new_highs
from optimizer.options import SolveOptions

BASIC = int(highspy.HighsBasisStatus.kBasic)
_STATUS = {int(s): s for s in highspy.HighsBasisStatus.__members__.values()}
_STATUS_LIST = [_STATUS[i] for i in range(max(_STATUS) + 1)]


def statuses(values: list) -> np.ndarray:
    """HiGHS basis statuses (a list of ``HighsBasisStatus``) as int8 codes."""
    return np.fromiter(map(int, values), dtype=np.int8, count=len(values))


def status_list(codes: np.ndarray) -> list:
    """int8 codes back to the ``HighsBasisStatus`` list ``HighsBasis`` takes."""
    lut = _STATUS_LIST
    return [lut[c] for c in codes.tolist()]


@dataclass(frozen=True)
class OpenLp:
    """An LP cut down to its open part, and how to map its solution and basis back.

    Attributes
    ----------
    lp : highspy.HighsLp
        The open LP (same sense; offset includes the dropped columns' costs).
    basis : highspy.HighsBasis
        The full basis restricted to the open LP (square and nonsingular by construction).
    kept_cols, kept_rows : np.ndarray
        Columns and rows of the full LP in the open LP, in order.
    full_value : np.ndarray
        Column values of the full LP with the dropped columns at their fixed value.
    col_status, row_status : np.ndarray
        The full basis as int8 codes (the dropped part stays as it was).
    """

    lp: highspy.HighsLp
    basis: highspy.HighsBasis
    kept_cols: np.ndarray
    kept_rows: np.ndarray
    full_value: np.ndarray
    col_status: np.ndarray
    row_status: np.ndarray

    @property
    def n_dropped_cols(self) -> int:
        """Columns the open LP does not hold."""
        return self.full_value.size - self.kept_cols.size

    def full_solution(self, col_value: np.ndarray) -> np.ndarray:
        """Column values of the full LP from those of the open LP."""
        out = self.full_value.copy()
        out[self.kept_cols] = col_value
        return out

    def full_codes(self, basis: highspy.HighsBasis) -> tuple[np.ndarray, np.ndarray]:
        """The full LP's basis (int8 codes): the open LP's ``basis``, the dropped part as it was."""
        col_status, row_status = self.col_status.copy(), self.row_status.copy()
        col_status[self.kept_cols] = statuses(basis.col_status)
        row_status[self.kept_rows] = statuses(basis.row_status)
        return col_status, row_status


def make_basis(col_status: np.ndarray, row_status: np.ndarray) -> highspy.HighsBasis:
    """A valid ``HighsBasis`` from int8 status codes."""
    basis = highspy.HighsBasis()
    basis.col_status = status_list(col_status)
    basis.row_status = status_list(row_status)
    basis.valid = True
    return basis


@dataclass(frozen=True)
class LpData:
    """What :func:`open_part` reads of an LP: the matrix and the current costs and bounds.

    Attributes
    ----------
    matrix : scipy.sparse.csc_array
        Constraint matrix, rows x columns.
    cost, lower, upper : np.ndarray
        Column costs and bounds, shape (n_col,).
    row_lower, row_upper : np.ndarray
        Row bounds, shape (n_row,).
    offset : float
        Objective constant.
    sense : highspy.ObjSense
        Objective sense.
    """

    matrix: sp.csc_array
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float
    sense: highspy.ObjSense


def lp_matrix(highs: highspy.Highs) -> sp.csc_array:
    """The constraint matrix HiGHS holds (a copy; rows x columns)."""
    n_col = highs.getNumCol()
    status, start, index, value = highs.getColsEntries(n_col, np.arange(n_col, dtype=np.int32))
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS getColsEntries failed: {status}")
    indptr = np.append(np.asarray(start, dtype=np.int64), len(index))
    return sp.csc_array(
        (np.asarray(value, dtype=float), np.asarray(index), indptr), shape=(highs.getNumRow(), n_col)
    )


def lp_data(highs: highspy.Highs, matrix: sp.csc_array | None = None) -> LpData:
    """The LP HiGHS holds (costs and bounds read now; ``matrix`` if given, else read too)."""
    n_col, n_row = highs.getNumCol(), highs.getNumRow()
    _, _, cost, lower, upper, _ = highs.getCols(n_col, np.arange(n_col, dtype=np.int32))
    _, _, row_lower, row_upper, _ = highs.getRows(n_row, np.arange(n_row, dtype=np.int32))
    _, offset = highs.getObjectiveOffset()
    _, sense = highs.getObjectiveSense()
    return LpData(
        matrix=lp_matrix(highs) if matrix is None else matrix,
        cost=np.asarray(cost, dtype=float),
        lower=np.asarray(lower, dtype=float),
        upper=np.asarray(upper, dtype=float),
        row_lower=np.asarray(row_lower, dtype=float),
        row_upper=np.asarray(row_upper, dtype=float),
        offset=float(offset),
        sense=sense,
    )


def open_part(
    lp: LpData, col_status: np.ndarray, row_status: np.ndarray, *, min_dropped: float = 0.0
) -> OpenLp | None:
    """Cut ``lp`` down to its open part (module docstring), or None when nothing can be dropped.

    Parameters
    ----------
    lp : LpData
        The full LP.
    col_status, row_status : np.ndarray
        A valid basis of ``lp`` as int8 codes (:func:`statuses`).
    min_dropped : float
        None unless at least this share of the columns is fixed (checked first: cheap).
    """
    lower, upper, a = lp.lower, lp.upper, lp.matrix
    n_row, n_col = a.shape
    fixed = lower == upper
    n_fixed = int(fixed.sum())
    if n_fixed == 0 or n_fixed < min_dropped * n_col:
        return None
    col_of_entry = np.repeat(np.arange(n_col), np.diff(a.indptr))
    open_rows = np.zeros(n_row, dtype=bool)
    open_rows[a.indices[~fixed[col_of_entry]]] = True
    dropped_rows = ~open_rows
    stays_fixed = _surplus_basics(a, fixed & (col_status == BASIC), row_status == BASIC, dropped_rows)
    kept_col_mask = ~fixed | stays_fixed
    if kept_col_mask.all():
        return None
    kept_cols = np.flatnonzero(kept_col_mask)
    kept_rows = np.flatnonzero(~dropped_rows)
    basic = int((col_status[kept_cols] == BASIC).sum() + (row_status[kept_rows] == BASIC).sum())
    if basic != kept_rows.size:  # not a basis of the full LP after all: keep the full LP
        return None
    value = np.where(fixed, lower, 0.0)
    value[kept_cols] = 0.0
    activity = a @ value
    cost = lp.cost
    sub = a[:, kept_cols][kept_rows, :].tocsc()
    out = highspy.HighsLp()
    out.num_col_, out.num_row_ = kept_cols.size, kept_rows.size
    out.col_cost_ = cost[kept_cols]
    out.col_lower_, out.col_upper_ = lower[kept_cols], upper[kept_cols]
    out.row_lower_ = (lp.row_lower - activity)[kept_rows]
    out.row_upper_ = (lp.row_upper - activity)[kept_rows]
    out.offset_ = lp.offset + float(cost @ value)
    out.sense_ = lp.sense
    out.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    out.a_matrix_.start_ = sub.indptr.astype(np.int32)
    out.a_matrix_.index_ = sub.indices.astype(np.int32)
    out.a_matrix_.value_ = sub.data
    full_value = np.where(fixed, lower, 0.0)
    return OpenLp(
        lp=out,
        basis=make_basis(col_status[kept_cols], row_status[kept_rows]),
        kept_cols=kept_cols,
        kept_rows=kept_rows,
        full_value=full_value,
        col_status=col_status,
        row_status=row_status,
    )


def _surplus_basics(
    a: sp.csc_array, fixed_basic: np.ndarray, basic_slack: np.ndarray, dropped_rows: np.ndarray
) -> np.ndarray:
    """Fixed basic columns to keep in the open LP; un-drops (in place) every row they touch.

    One maximum matching pairs the dropped rows with fixed basic columns and basic slacks; the
    columns left unpaired are kept with every dropped row they touch, which frees the columns
    paired with those rows, kept in turn (a breadth-first closure). What stays dropped is paired
    one to one, and no kept column touches it.

    Parameters
    ----------
    a : scipy.sparse.csc_array
        The constraint matrix (rows x columns).
    fixed_basic : np.ndarray
        Columns fixed and basic (bool per column).
    basic_slack : np.ndarray
        Rows whose slack is basic (bool per row).
    dropped_rows : np.ndarray
        Rows every column of which is fixed (bool per row); rows kept back are set False.

    Returns
    -------
    np.ndarray
        Bool per column: kept although fixed. All True when the dropped rows cannot be paired
        (then nothing may be dropped).
    """
    n_col = a.shape[1]
    rows = np.flatnonzero(dropped_rows)
    cols = np.flatnonzero(fixed_basic)
    slacks = np.flatnonzero(basic_slack[rows])  # positions in ``rows``
    block = sp.hstack(
        [
            a[rows][:, cols],
            sp.csc_array(
                (np.ones(slacks.size), (slacks, np.arange(slacks.size))), shape=(rows.size, slacks.size)
            ),
        ],
        format="csc",
    )
    keep = np.zeros(n_col, dtype=bool)
    if rows.size == 0:
        keep[cols] = True
        return keep
    pair_of_row = maximum_bipartite_matching(block.tocsr(), perm_type="column")
    if (pair_of_row < 0).any():  # a dropped row without a basic of its own: not a square block
        return np.ones(n_col, dtype=bool)
    paired = np.zeros(block.shape[1], dtype=bool)
    paired[pair_of_row] = True
    in_closure = np.zeros(block.shape[1], dtype=bool)
    back = np.zeros(rows.size, dtype=bool)
    frontier = np.flatnonzero(~paired)
    while frontier.size:
        in_closure[frontier] = True
        touched = np.unique(block[:, frontier].indices)
        new_rows = touched[~back[touched]]
        back[new_rows] = True
        freed = pair_of_row[new_rows]
        frontier = np.unique(freed[~in_closure[freed]])
    keep[cols[in_closure[: cols.size]]] = True
    dropped_rows[rows[back]] = False
    return keep


class OpenLpRuns:
    """The open-LP re-solves of one full HiGHS instance (what
    :class:`optimizer.highs_adapter.PersistentHighs` runs when ``SolveOptions.open_lp``).

    Holds a second HiGHS for the open LP, the constraint matrix it is cut from (kept between runs
    until ``matrix`` is reset to None) and the full basis of the last open run, not yet given back.

    Parameters
    ----------
    min_dropped : float
        Share of the columns that must be droppable before a run is cut.
    """

    def __init__(self, min_dropped: float) -> None:
        self.min_dropped = min_dropped
        self.matrix: sp.csc_array | None = None
        self.solves = 0
        self._sub: highspy.Highs | None = None
        self._basis_codes: tuple[np.ndarray, np.ndarray] | None = None

    def run(
        self,
        highs: highspy.Highs,
        column_of: dict[int, int],
        options: SolveOptions,
        time_limit_s: float,
        start: float,
    ) -> RawSolution | None:
        """Solve the open part of ``highs``'s LP warm; None (nothing run) when it is not worth it
        or not optimal (the full LP then runs and explains)."""
        data = lp_data(highs, self.matrix)  # costs and bounds now, the matrix kept
        self.matrix = data.matrix
        fixed = int(np.count_nonzero(data.lower == data.upper))
        if fixed < self.min_dropped * data.lower.size:
            return None
        codes = self._basis_codes
        if codes is None:
            basis = highs.getBasis()
            if not basis.valid:
                return None
            codes = (statuses(basis.col_status), statuses(basis.row_status))
        part = open_part(data, *codes, min_dropped=self.min_dropped)
        if part is None:
            return None
        if self._sub is None:
            self._sub = new_highs()
        sub = self._sub
        sub.passModel(part.lp)
        sub.setBasis(part.basis)
        apply_options(sub, options, time_limit_s=time_limit_s, mip=False)
        sub.run()
        if sub.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        self._basis_codes = part.full_codes(sub.getBasis())
        self.solves += 1
        col_value = part.full_solution(np.asarray(sub.getSolution().col_value, dtype=float))
        objective = float(sub.getInfo().objective_function_value)
        return RawSolution(
            col_value=col_value,
            column_of=column_of,
            status="optimal",
            termination=sub.modelStatusToString(sub.getModelStatus()),
            objective=objective,
            mip_gap=None,
            seconds=time.perf_counter() - start,
            bound=objective,
        )

    def give_back(self, highs: highspy.Highs, *, run: bool = True) -> None:
        """Give ``highs`` the basis of the last open run (and, with ``run``, its optimum)."""
        codes = self._basis_codes
        if codes is None:
            return
        self._basis_codes = None
        highs.setBasis(make_basis(*codes))
        if run:  # from an optimal basis: a factorisation, no pivot; solution and duals as HiGHS's own
            highs.run()
