"""Reading a table file (CSV or Parquet, optionally compressed) into a raw frame, one row per
data row in file order, with every failure an ``InputError`` naming the file (and the row or
column where there is one). Checks on the values: :mod:`market.table_checks`."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import TIME_MAX, TIME_MIN, time_range
from vpp.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".txt")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a raw frame, one row per data row, in file order.

    ``timestamp`` is kept as text (CSV) or as stored (Parquet; an index named ``timestamp`` becomes
    a column). Column names are stripped of blanks; blank lines at the end of a CSV are dropped.

    Raises
    ------
    InputError
        Missing file, unsupported file type, unreadable or empty file, a column name given twice
        (after stripping blanks), a Parquet time outside ``TIME_MIN`` .. ``TIME_MAX`` (row named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", file=path)
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    kind = suffixes[-1] if suffixes else ""
    try:
        if kind in PARQUET_SUFFIXES:
            raw = _read_parquet(path)
        elif kind in CSV_SUFFIXES:
            raw = _read_csv(path)
        else:
            raise InputError(f"unsupported file type {path.suffix!r}: use .csv or .parquet", file=path)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=path) from None
    except pd.errors.ParserError as exc:
        raise _parser_error(exc, path) from exc
    except Exception as exc:  # parser, encoding, Arrow and OS errors alike
        raise InputError(f"cannot read file: {type(exc).__name__}: {exc}", file=path) from exc
    raw = raw.rename(columns=lambda c: str(c).strip())
    _reject_repeated_columns(raw.columns, path)
    filled = raw.notna().any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    raw = raw.iloc[:last]
    if raw.empty:
        raise InputError("file has no data rows", file=path)
    return raw


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV file as written: a header name given twice is an error (pandas would rename the
    second ``da_price.1``), and so is a first data row longer than the header (pandas would take
    its first field as the row label and shift every column)."""
    header = pd.read_csv(path, header=None, nrows=1, dtype="string", encoding="utf-8-sig",
                         keep_default_na=False).iloc[0]
    _reject_repeated_columns([str(name).strip() for name in header], path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, dtype={"timestamp": "string"}, skip_blank_lines=False,
                               encoding="utf-8-sig", index_col=False)
        except pd.errors.ParserWarning:
            first = pd.read_csv(path, header=None, skiprows=1, nrows=1, dtype="string",
                                encoding="utf-8-sig").shape[1]
            raise InputError(f"{first} fields where the header has {len(header)}", file=path,
                             row=1) from None


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _parser_error(exc: pd.errors.ParserError, path: Path) -> InputError:
    """The CSV parser's error, with the data row when it names a line (line 1 is the header)."""
    ragged = _RAGGED.search(str(exc))
    if ragged is None:
        return InputError(f"cannot read file: ParserError: {exc}", file=path)
    expected, line, found = (int(g) for g in ragged.groups())
    return InputError(f"{found} fields where the header has {expected}", file=path, row=line - 1)


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file into a frame with a plain index (an index named ``timestamp`` becomes a column).

    Binary (not UTF-8 annotated) columns are decoded to text, undecodable bytes shown as ``\\xNN``,
    so they are judged like CSV text. Time and date columns are checked against the engine's range
    before pandas converts them (an out-of-range time would fail there without a row).

    Raises
    ------
    InputError
        A column name given twice, or a time outside ``TIME_MIN`` .. ``TIME_MAX`` (row and column).
    pyarrow.ArrowException, OSError, ValueError
        An unreadable file (``load_table`` turns these into ``InputError``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    _reject_repeated_columns([str(name).strip() for name in schema.names], path)
    types = {f.name: f.type.value_type if pa.types.is_dictionary(f.type) else f.type for f in schema}
    times = [n for n, t in types.items() if pa.types.is_timestamp(t) or pa.types.is_date(t)]
    if times:
        table = pq.read_table(path, columns=times)
        for name, column in zip(times, table.columns, strict=True):
            _check_time_column(column, types[name], name, path)
    raw = pd.read_parquet(path)
    if "timestamp" not in raw.columns and raw.index.name == "timestamp":
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    binary = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)
    for name, kind in types.items():
        if any(test(kind) for test in binary) and name in raw.columns:
            raw[name] = raw[name].astype(object).map(_decoded, na_action="ignore")
    return raw


def _decoded(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return value


def _check_time_column(column, kind, name: str, path: Path) -> None:
    """Reject the first value of an Arrow time/date column outside ``TIME_MIN`` .. ``TIME_MAX``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(kind)
    if pa.types.is_timestamp(kind):
        unit = kind.unit
    else:
        unit = "D" if pa.types.is_date32(kind) else "ms"
    ints = column.cast(pa.int32() if pa.types.is_date32(kind) else pa.int64())
    values = pc.fill_null(ints, 0).to_numpy().astype(np.int64)
    lo, hi = (np.datetime64(t.tz_localize(None), unit).astype(np.int64) for t in (TIME_MIN, TIME_MAX))
    bad = (values < lo) | (values >= hi)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        text = str(np.datetime64(int(values[first]), unit))
        if getattr(kind, "tz", None):
            text += " UTC"
        raise InputError(
            f"time is outside the supported range {time_range()}",
            file=path,
            row=first + 1,
            timestamp=text,
            field=name,
        )


def _reject_repeated_columns(names: Iterable[object], path: Path) -> None:
    seen: set[str] = set()
    for name in map(str, names):
        if name in seen:
            raise InputError(f"column '{name}' is given more than once", file=path, field=name)
        seen.add(name)
