"""Fuzzed Parquet input for the readers: prices, profiles, inbox telemetry, and ``vpp bid``.

A valid Parquet file is built from the same valid data the CSV fuzzers use (pyarrow), then mutated:
broken files (corrupted bytes, truncated, zero length, a CSV renamed ``.parquet``), wrong column
types (text, bool, integers and their overflow, decimal, float32, binary, nested list / map /
struct, dates and durations in number columns, a null-typed column), NaN / inf / None cells,
missing, extra, renamed and repeated columns, duplicate rows, interior gaps, off-grid times, timestamps
naive / aware / in another zone / as text / as epoch integers / as dates or times of day / as the
index / dictionary-encoded / beyond 2262, unsorted rows, an empty table, other row groups and
codecs. Every reader must either accept the file or raise ``vpp.errors.InputError`` naming the
file; a mutation that certainly breaks the file must raise it, naming the row and field where the
mutation makes them knowable; a harmless one (shuffled rows, another timestamp encoding) must give
the same result as the valid file. Never another exception.

Per reader: every mutation once, then ``40 x VPP_HARDENING_SCALE`` hypothesis draws (mutation and
seed; deterministic at the CI size).
"""

from __future__ import annotations

import decimal
import io
import random
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from market.presets import get_market
from market.prices import read_prices
from market.profiles import read_profiles
from vpp.cli import app
from vpp.errors import InputError
from vpp.service.inbox import parse_telemetry, process_inbox

from ._scale import ROOT, fuzz_settings, record, scaled

PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
PV = ROOT / "tests" / "data" / "pv_nrel_system50_2012-06-02_15min.csv"
MINIMAL = ROOT / "vpp" / "examples" / "minimal.yaml"
SHANXI = get_market("shanxi")
PV_ZONE = "America/Denver"
EXAMPLES = scaled(40, 5)

FUZZ = fuzz_settings()

BAD_NUMBERS = ["abc", "NaN", "", "inf", "-inf", "1e400", "--5", "0x1F", "None", "1,5", "nan nan", "True"]
FAR_STAMPS = ["3000-01-02T00:00:00+08:00", "2263-01-01 00:00", "1600-01-01T00:00:00Z", "9999-12-31 23:45"]


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One reader under test and its valid data.

    ``values`` are the required number columns (a bad cell there must be rejected); ``regular``:
    gaps are errors (not for telemetry); ``bounded``: absurd values are out of bounds (prices).
    """

    name: str
    frame: pd.DataFrame
    read: Callable[[Path], object]
    values: tuple[str, ...]
    zone: str
    regular: bool
    bounded: bool
    prefix: str
    no_value_field: str | None


def _price_frame() -> pd.DataFrame:
    frame = pd.read_csv(PRICES)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_convert(SHANXI.timezone)
    return frame


def _pv_frame() -> pd.DataFrame:
    frame = pd.read_csv(PV)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_convert(PV_ZONE)
    return frame


def _telemetry_frame() -> pd.DataFrame:
    stamps = pd.date_range("2024-01-02", periods=16, freq="15min", tz=SHANXI.timezone)
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "asset_id": ["bess-1"] * 16,
            "metered_mw": [round(0.1 * i, 2) for i in range(16)],
            "soc_mwh": [round(1 + 0.01 * i, 2) for i in range(16)],
        }
    )


TARGETS = {
    "prices": Target(
        "prices", _price_frame(), lambda p: read_prices(p, SHANXI), ("da_price", "rt_price"),
        SHANXI.timezone, regular=True, bounded=True, prefix="prices", no_value_field="da_price",
    ),
    "profiles": Target(
        "profiles", _pv_frame(), lambda p: read_profiles(p, PV_ZONE), ("pv_ac_w",),
        PV_ZONE, regular=True, bounded=False, prefix="pv", no_value_field=None,
    ),
    "telemetry": Target(
        "telemetry", _telemetry_frame(), lambda p: parse_telemetry(p, SHANXI, {"bess-1"}), ("metered_mw",),
        SHANXI.timezone, regular=False, bounded=False, prefix="telemetry", no_value_field="metered_mw",
    ),
}


# ---------------------------------------------------------------- mutations


@dataclass
class Case:
    """A mutated file and what the reader must do with it.

    ``expect``: "reject" (InputError naming ``row`` / ``field`` when set), "accept" (with the valid
    file's result when ``same``) or "either".
    """

    payload: pa.Table | bytes
    expect: str
    row: int | None = None
    field: str | None = None
    same: bool = False
    write: dict | None = None


def _table(frame: pd.DataFrame, *, index: bool = False) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=index)


def _bytes(table: pa.Table, **options) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def _set(table: pa.Table, name: str, array: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Replace column ``name``; the file then has no pandas metadata (as from Spark, DuckDB, polars):
    stale metadata would give the new column the old one's zone."""
    return table.set_column(table.schema.get_field_index(name), name, array).replace_schema_metadata(None)


def _numbers(frame: pd.DataFrame, name: str) -> list[float]:
    return [float(v) for v in frame[name]]


def _stamps(frame: pd.DataFrame) -> pd.Series:
    return frame["timestamp"]


def _epoch(stamps: pd.Series, unit: str) -> list[int]:
    """Integer time since 1970-01-01 UTC in ``unit``."""
    utc = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return [int(x) for x in utc.astype(f"datetime64[{unit}]").astype("int64")]


def _mutate(t: Target, kind: str, rnd: random.Random) -> Case:
    """Mutation ``kind`` of the valid file of ``t`` (one branch per mutation)."""
    frame = t.frame.copy()
    n = len(frame)
    r = rnd.randrange(1, n - 1)  # an interior row, 0-based; its file row is r + 1
    v = rnd.choice(t.values)
    table = _table(frame)
    good = _bytes(table)

    # -- broken files
    if kind == "zero_length":
        return Case(b"", "reject")
    if kind == "truncated":
        return Case(good[: rnd.randrange(1, len(good))], "reject")
    if kind == "csv_renamed":
        return Case(frame.to_csv(index=False).encode(), "reject")
    if kind == "garbage":
        return Case(b"PAR1" + rnd.randbytes(rnd.randrange(8, 400)) + b"PAR1", "reject")
    if kind == "flipped_bytes":
        data = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        return Case(bytes(data), "either")

    # -- wrong column types in a required number column
    numbers = _numbers(frame, v)
    if kind == "text_cell":
        texts = [repr(x) for x in numbers]
        texts[r] = rnd.choice(BAD_NUMBERS)
        return Case(_set(table, v, pa.array(texts)), "reject", r + 1, v)
    if kind == "text_column":
        return Case(_set(table, v, pa.array([repr(x) for x in numbers])), "accept", same=True)
    if kind == "bool_column":
        return Case(_set(table, v, pa.array([x > np.median(numbers) for x in numbers])), "reject", 1, v)
    if kind == "int_column":
        return Case(_set(table, v, pa.array([round(x) for x in numbers], pa.int64())), "accept")
    if kind == "int_overflow":
        big = pa.array([2**64 - 1 if i == r else round(x) for i, x in enumerate(numbers)], pa.uint64())
        return Case(_set(table, v, big), "reject" if t.bounded else "either", r + 1, v)
    if kind == "decimal_column":
        cells = [decimal.Decimal(repr(x)) for x in numbers]
        return Case(_set(table, v, pa.array(cells, pa.decimal128(38, 18))), "accept", same=True)
    if kind == "float32_column":
        return Case(_set(table, v, pa.array(numbers, pa.float32())), "accept")
    if kind == "list_column":
        return Case(_set(table, v, pa.array([[x] for x in numbers])), "reject", 1, v)
    if kind == "map_column":
        cells = [[("value", x)] for x in numbers]
        return Case(_set(table, v, pa.array(cells, pa.map_(pa.string(), pa.float64()))), "reject", 1, v)
    if kind == "struct_column":
        return Case(_set(table, v, pa.array([{"value": x} for x in numbers])), "reject", 1, v)
    if kind == "datetime_column":
        return Case(_set(table, v, pa.array(_stamps(frame))), "reject", 1, v)
    if kind == "duration_column":
        return Case(_set(table, v, pa.array(_stamps(frame) - _stamps(frame).iloc[0])), "reject", 1, v)
    if kind == "date_column":
        return Case(_set(table, v, pa.array(list(_stamps(frame).dt.date))), "reject", 1, v)
    if kind == "binary_cell":
        cells = [repr(x).encode() for x in numbers]
        cells[r] = rnd.choice([b"\xff\xfe", b"\x80", b"1\xc3"])
        return Case(_set(table, v, pa.array(cells, pa.binary())), "reject", r + 1, v)
    if kind == "binary_column":
        cells = [repr(x).encode() for x in numbers]
        return Case(_set(table, v, pa.array(cells, pa.binary())), "accept", same=True)
    if kind == "null_column":
        return Case(_set(table, v, pa.nulls(n)), "reject", 1, v)
    if kind == "dictionary_column":
        return Case(_set(table, v, pa.array(numbers).dictionary_encode()), "accept", same=True)

    # -- bad cells
    if kind in ("nan_cell", "inf_cell", "none_cell"):
        cells: list = list(numbers)
        bad = {"nan_cell": float("nan"), "inf_cell": rnd.choice([np.inf, -np.inf]), "none_cell": None}
        cells[r] = bad[kind]
        return Case(_set(table, v, pa.array(cells, pa.float64(), from_pandas=True)), "reject", r + 1, v)

    # -- columns
    if kind == "drop_timestamp":
        return Case(table.drop_columns(["timestamp"]), "reject", field="timestamp")
    if kind == "drop_values":
        return Case(table.drop_columns(list(t.values)), "reject", field=t.no_value_field)
    if kind == "rename_timestamp":
        new = rnd.choice(["Timestamp", "time", "ts", "timestamp_utc"])
        return Case(table.rename_columns([new if c == "timestamp" else c for c in table.column_names]),
                    "reject", field="timestamp")
    if kind == "blank_names":
        return Case(table.rename_columns([f" {c} " for c in table.column_names]), "accept", same=True)
    if kind == "repeated_column":
        name = rnd.choice([v, f"{v} ", f" {v}"])
        return Case(table.append_column(name, table.column(v)), "reject", field=v)
    if kind == "extra_numeric":
        return Case(table.append_column("extra_mw", pa.array(np.linspace(0, 1, n))), "accept", same=True)
    if kind == "extra_text":
        notes = pa.array([rnd.choice(["holiday", "", "x"]) for _ in range(n)])
        return Case(table.append_column("note", notes), "reject" if t.name == "profiles" else "accept",
                    field="note", same=True)
    if kind == "extra_nested":
        tags = pa.array([[rnd.choice(["a", "b"])] for _ in range(n)])
        return Case(table.append_column("tags", tags), "reject" if t.name == "profiles" else "accept",
                    field="tags", same=True)
    if kind == "extra_far_time":  # a time column beside the data, beyond pandas' nanosecond range
        far = pa.array([rnd.choice([10**16, -(10**16)])] * n, pa.timestamp("ms"))
        return Case(table.append_column("issued", far), "reject", 1, "issued")
    if kind == "rename_value":
        renamed = table.rename_columns([c.upper() if c == v else c for c in table.column_names])
        if t.name == "telemetry":
            return Case(renamed, "reject", field=v)
        return Case(renamed, "accept" if t.name == "profiles" else "either")

    # -- rows
    if kind == "duplicate_row":
        rows = list(range(n))
        rows.insert(r + 1, r)
        return Case(table.take(rows), "reject", r + 2, "timestamp" if t.regular else "asset_id")
    if kind == "drop_row":
        return Case(table.take([i for i in range(n) if i != r]), "reject" if t.regular else "accept",
                    field="timestamp" if t.regular else None)
    if kind == "off_grid":
        stamps = _stamps(frame).copy()
        stamps.iloc[r] += rnd.choice([pd.Timedelta(minutes=m) for m in (1, 7, 14)] + [pd.Timedelta("1us")])
        return Case(_set(table, "timestamp", pa.array(stamps)), "reject", r + 1, "timestamp")
    if kind == "nat_timestamp":
        stamps = pa.array(_stamps(frame)).to_pylist()
        stamps[r] = None
        return Case(_set(table, "timestamp", pa.array(stamps, table.schema.field("timestamp").type)),
                    "reject", r + 1, "timestamp")
    if kind == "shuffle":
        rows = list(range(n))
        rnd.shuffle(rows)
        return Case(table.take(rows), "accept", same=True)
    if kind == "reverse":
        return Case(table.take(list(range(n))[::-1]), "accept", same=True)
    if kind == "empty_table":
        return Case(table.slice(0, 0), "reject")
    if kind == "null_tail":  # an all-null last row is dropped like a blank CSV line
        nulls = pa.table({c: pa.nulls(1, table.schema.field(c).type) for c in table.column_names})
        return Case(pa.concat_tables([table, nulls]), "accept", same=True)
    if kind == "null_row":
        nulls = pa.table({c: pa.nulls(1, table.schema.field(c).type) for c in table.column_names})
        rows = pa.concat_tables([table.slice(0, r), nulls, table.slice(r)])
        return Case(rows, "reject", r + 1, "timestamp")

    # -- timestamp encodings
    stamps = _stamps(frame)
    if kind == "ts_naive":
        return Case(_set(table, "timestamp", pa.array(stamps.dt.tz_localize(None))), "accept", same=True)
    if kind == "ts_utc":
        return Case(_set(table, "timestamp", pa.array(stamps.dt.tz_convert("UTC"))), "accept", same=True)
    if kind == "ts_other_zone":
        zone = rnd.choice(["Europe/Berlin", "America/New_York", "Pacific/Kiritimati"])
        return Case(_set(table, "timestamp", pa.array(stamps.dt.tz_convert(zone))), "accept", same=True)
    if kind == "ts_text":
        text = [s.isoformat() for s in stamps]
        kind_of_text = rnd.choice([pa.string(), pa.large_string()])
        return Case(_set(table, "timestamp", pa.array(text, kind_of_text)), "accept", same=True)
    if kind == "ts_text_naive":
        text = list(stamps.dt.strftime("%Y-%m-%d %H:%M"))
        return Case(_set(table, "timestamp", pa.array(text)), "accept", same=True)
    if kind == "ts_unit":
        unit = rnd.choice(["ms", "us", "ns"])
        array = pa.array(_epoch(stamps, unit), pa.timestamp(unit, tz=t.zone))
        return Case(_set(table, "timestamp", array), "accept", same=True)
    if kind == "ts_epoch":
        unit = rnd.choice(["s", "ms", "us", "ns"])
        epoch = pa.array(_epoch(stamps, unit), pa.int64())
        return Case(_set(table, "timestamp", epoch), "reject", 1, "timestamp")
    if kind == "ts_float":
        seconds = [float(x) for x in _epoch(stamps, "s")]
        return Case(_set(table, "timestamp", pa.array(seconds)), "reject", 1, "timestamp")
    if kind == "ts_date":
        return Case(_set(table, "timestamp", pa.array(list(stamps.dt.date))), "reject", 2, "timestamp"
                    if t.regular else "asset_id")
    if kind == "ts_time":
        return Case(_set(table, "timestamp", pa.array(list(stamps.dt.time))), "reject", 1, "timestamp")
    if kind == "ts_index":
        return Case(_table(frame.set_index("timestamp"), index=True), "accept", same=True)
    if kind == "ts_dictionary":
        text = pa.array([s.isoformat() for s in stamps]).dictionary_encode()
        return Case(_set(table, "timestamp", text), "accept", same=True)
    if kind == "ts_overflow":  # beyond pandas' nanosecond range, stored as Arrow milliseconds
        ms = _epoch(stamps, "ms")
        ms[r] = rnd.choice([10**16, -(10**16), 9_300_000_000_000, 2**62])
        array = pa.array(ms, pa.timestamp("ms", tz=rnd.choice([t.zone, None])))
        return Case(_set(table, "timestamp", array), "reject", r + 1, "timestamp")
    if kind == "ts_far_text":
        text = [s.isoformat() for s in stamps]
        text[r] = rnd.choice(FAR_STAMPS)
        return Case(_set(table, "timestamp", pa.array(text)), "reject", r + 1, "timestamp")

    # -- how the file is written
    if kind == "row_groups":
        return Case(table, "accept", same=True, write={"row_group_size": rnd.randint(1, 10)})
    if kind == "codec":
        codec = rnd.choice(["none", "gzip", "zstd", "brotli", "lz4"])
        return Case(table, "accept", same=True, write={"compression": codec, "use_dictionary": False})
    if kind == "no_pandas_metadata":
        return Case(table.replace_schema_metadata(None), "accept", same=True)
    if kind == "bad_pandas_metadata":
        junk = rnd.choice([b"{not json", b"[]", b'{"index_columns": ["nope"], "columns": []}'])
        return Case(table.replace_schema_metadata({b"pandas": junk}), "either")
    raise AssertionError(kind)


KINDS = [
    "zero_length", "truncated", "csv_renamed", "garbage", "flipped_bytes",
    "text_cell", "text_column", "bool_column", "int_column", "int_overflow", "decimal_column",
    "float32_column", "list_column", "map_column", "struct_column", "datetime_column", "duration_column",
    "date_column", "binary_cell", "binary_column", "null_column", "dictionary_column",
    "nan_cell", "inf_cell", "none_cell",
    "drop_timestamp", "drop_values", "rename_timestamp", "blank_names", "repeated_column",
    "extra_numeric", "extra_text", "extra_nested", "extra_far_time", "rename_value",
    "duplicate_row", "drop_row", "off_grid", "nat_timestamp", "shuffle", "reverse", "empty_table",
    "null_tail", "null_row",
    "ts_naive", "ts_utc", "ts_other_zone", "ts_text", "ts_text_naive", "ts_unit", "ts_epoch",
    "ts_float", "ts_date", "ts_time", "ts_index", "ts_dictionary", "ts_overflow", "ts_far_text",
    "row_groups", "codec", "no_pandas_metadata", "bad_pandas_metadata",
]  # fmt: skip


# ---------------------------------------------------------------- the check


def _write(folder: Path, t: Target, case: Case) -> Path:
    path = folder / f"{t.prefix}_{uuid.uuid4().hex[:8]}.parquet"
    data = case.payload if isinstance(case.payload, bytes) else _bytes(case.payload, **(case.write or {}))
    path.write_bytes(data)
    return path


def _comparable(t: Target, result) -> object:
    if t.name == "telemetry":
        return sorted(result, key=lambda row: (row["period_start"], row["asset_id"]))
    return result


def _check_invariants(t: Target, result) -> None:
    """What every accepted result must satisfy, whatever the mutation."""
    if t.name == "telemetry":
        assert all(np.isfinite(row["metered_mw"]) for row in result)
        assert all(row["period_start"].tzinfo is not None for row in result)
        return
    index = result.index
    assert isinstance(index, pd.DatetimeIndex) and index.tz is not None and index.name == "timestamp"
    assert index.is_monotonic_increasing and index.is_unique
    required = list(t.values) if t.name == "prices" else list(result.columns)
    assert np.isfinite(result[required].to_numpy(dtype=float)).all()


def _check(t: Target, folder: Path, kind: str, case: Case, baseline, counts: dict[str, int]) -> None:
    """The reader accepts the file or raises InputError naming it; as ``case`` demands."""
    path = _write(folder, t, case)
    counts["cases"] += 1
    try:
        result = t.read(path)
    except InputError as exc:
        message = str(exc)
        assert path.name in message, (kind, message)
        assert case.expect != "accept", f"{t.name}/{kind}: rejected a harmless file: {message}"
        if case.expect == "reject" and case.row is not None:
            assert f"row {case.row}" in message, (kind, case.row, message)
        if case.expect == "reject" and case.field is not None:
            assert case.field in message, (kind, case.field, message)
        counts["rejected"] += 1
        return
    except Exception as exc:  # the contract: never another exception
        pytest.fail(f"{t.name}/{kind}: {type(exc).__name__} (not InputError) for {path.name}: {exc}")
    finally:
        path.unlink()
    assert case.expect != "reject", f"{t.name}/{kind}: accepted a broken file ({case.row=}, {case.field=})"
    _check_invariants(t, result)
    if case.same:
        if t.name == "telemetry":
            assert _comparable(t, result) == _comparable(t, baseline), kind
        else:
            pd.testing.assert_frame_equal(result[list(baseline.columns)], baseline, obj=f"{t.name}/{kind}")
    counts["accepted"] += 1


def _fuzz(tmp_path: Path, name: str) -> dict[str, int]:
    t = TARGETS[name]
    valid = _write(tmp_path, t, Case(_table(t.frame), "accept"))
    baseline = t.read(valid)
    counts = {"cases": 0, "rejected": 0, "accepted": 0, "other_exception": 0}

    for i, kind in enumerate(KINDS):  # every mutation once
        _check(t, tmp_path, kind, _mutate(t, kind, random.Random(i)), baseline, counts)
    swept = counts["cases"]

    @FUZZ
    @given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
    def run(kind: str, seed: int) -> None:
        _check(t, tmp_path, kind, _mutate(t, kind, random.Random(seed)), baseline, counts)

    run()
    assert counts["cases"] >= swept + EXAMPLES
    record(f"fuzz_parquet_{name}", {**counts, "kinds": len(KINDS), "drawn": counts["cases"] - swept})
    return counts


@pytest.mark.parametrize("name", ["prices", "profiles", "telemetry"])
def test_fuzzed_parquet_files_raise_input_error_naming_file_row_and_field(tmp_path, name):
    counts = _fuzz(tmp_path, name)
    assert counts["rejected"] and counts["accepted"]


# ---------------------------------------------------------------- the command line


def _bid_args(prices: Path, folder: Path) -> list[str]:
    return [
        "bid", "--portfolio", str(MINIMAL), "--prices", str(prices), "--day", "2024-01-02",
        "--out", str(folder / "bid.csv"), "--no-plot", "--allow-late",
    ]  # fmt: skip


def test_cli_bid_exits_1_without_traceback_on_broken_parquet_prices(tmp_path):
    t = TARGETS["prices"]
    cases = {
        "truncated": _mutate(t, "truncated", random.Random(3)),
        "ts_overflow": _mutate(t, "ts_overflow", random.Random(4)),
        "bool_column": _mutate(t, "bool_column", random.Random(5)),
    }
    runner = CliRunner()
    paths = {}
    for kind, case in cases.items():
        paths[kind] = _write(tmp_path, t, case)
        result = runner.invoke(app, _bid_args(paths[kind], tmp_path))
        assert result.exit_code == 1, (kind, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (kind, result.exception)
        assert "error: " in result.output and "Traceback" not in result.output, (kind, result.output)
        assert paths[kind].name in result.output, (kind, result.output)
    proc = subprocess.run(
        [sys.executable, "-m", "vpp.cli", *_bid_args(paths["truncated"], tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "error: " in proc.stderr + proc.stdout and "Traceback" not in proc.stderr + proc.stdout
    record("fuzz_parquet_cli", {"in_process": len(cases), "subprocess": 1, "exit_1": len(cases) + 1})


# ---------------------------------------------------------------- regressions (bugs the fuzzer found)


def _price_table(**columns) -> pa.Table:
    frame = _price_frame()[["timestamp", "da_price", "rt_price"]]
    table = _table(frame)
    for name, array in columns.items():
        table = _set(table, name, array) if name in table.column_names else table.append_column(name, array)
    return table


def _write_table(folder: Path, table: pa.Table, name: str = "prices") -> Path:
    path = folder / f"{name}_{uuid.uuid4().hex[:6]}.parquet"
    pq.write_table(table, path)
    return path


READERS = {
    "prices": lambda p: read_prices(p, SHANXI),
    "profiles": lambda p: read_profiles(p, SHANXI.timezone),
    "telemetry": lambda p: parse_telemetry(p, SHANXI, {"bess-1"}),
}


def _small_frame(reader: str) -> pd.DataFrame:
    """16 valid rows for ``reader``: the telemetry frame, or its timestamps with ``da_price``."""
    frame = _telemetry_frame()
    if reader == "telemetry":
        return frame
    return frame[["timestamp", "metered_mw"]].rename(columns={"metered_mw": "da_price"})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("stamp", FAR_STAMPS)
def test_timestamps_beyond_the_engine_range_are_rejected_naming_the_row(tmp_path, stamp, reader, suffix):
    # bug 1: year-3000 / 1600 text timestamps raised OutOfBoundsDatetime (prices, profiles: from
    # the nanosecond sort) or were accepted (telemetry); CSV files had the same bug
    frame = _small_frame(reader)
    frame["timestamp"] = [s.isoformat() for s in frame["timestamp"]]
    frame.loc[5, "timestamp"] = stamp
    path = tmp_path / f"telemetry_far{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(_table(frame), path)
    with pytest.raises(InputError, match=r"row 6, .*field 'timestamp': timestamp is outside the supported"):
        READERS[reader](path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_naive_year_9999_time_in_a_daylight_saving_zone_is_rejected_not_a_crash(tmp_path, suffix):
    # bug 6 (found at scale 25): pandas cannot localize a naive 9999-12-31 23:45 in a zone with
    # daylight saving time: NotImplementedError from read_profiles(..., "America/Denver")
    frame = _pv_frame()
    frame["timestamp"] = list(frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M"))
    frame.loc[40, "timestamp"] = "9999-12-31 23:45"
    path = tmp_path / f"pv{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(_table(frame), path)
    expected = r"row 41, timestamp 9999-12-31 23:45, field 'timestamp': timestamp is outside the supported"
    with pytest.raises(InputError, match=expected):
        read_profiles(path, PV_ZONE)


@pytest.mark.parametrize("metadata", [True, False])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_parquet_times_beyond_2262_are_rejected_naming_row_and_column(tmp_path, reader, metadata):
    # bug 2: a Parquet timestamp beyond pandas' nanosecond range failed inside pandas: "cannot read
    # file: ArrowInvalid" without a row, or (no pandas metadata) an OutOfBoundsDatetime escaped
    frame = _small_frame(reader)
    ms = _epoch(frame["timestamp"], "ms")
    ms[3] = 10**16
    table = _table(frame).set_column(0, "timestamp", pa.array(ms, pa.timestamp("ms", tz="UTC")))
    if not metadata:
        table = table.replace_schema_metadata(None)
    path = _write_table(tmp_path, table, "telemetry")
    with pytest.raises(InputError, match=r"row 4, timestamp 318857-.* UTC, field 'timestamp': time is out"):
        READERS[reader](path)


def test_undecodable_binary_cells_are_rejected_naming_row_and_column_not_unicode_errors(tmp_path):
    # bug 3: a Parquet BINARY column with bytes that are not UTF-8 raised UnicodeDecodeError (in a
    # price column, in the timestamp column and even in a notes column that is dropped)
    prices = [repr(x).encode() for x in _price_frame()["da_price"]]
    prices[7] = b"\xff\xfe"
    path = _write_table(tmp_path, _price_table(da_price=pa.array(prices, pa.binary())))
    with pytest.raises(InputError, match=r"row 8, .*field 'da_price': not a number: '\\\\xff\\\\xfe'"):
        read_prices(path, SHANXI)
    stamps = [s.isoformat().encode() for s in _price_frame()["timestamp"]]
    stamps[2] = b"2024-01-02T00:\xff"
    path = _write_table(tmp_path, _price_table(timestamp=pa.array(stamps, pa.binary())))
    with pytest.raises(InputError, match=r"row 3, .*field 'timestamp': cannot parse timestamp"):
        read_prices(path, SHANXI)
    # legacy writers store text as BINARY: valid UTF-8 is read as text, a blob column is a note
    good = _price_table(
        timestamp=pa.array([s.isoformat().encode() for s in _price_frame()["timestamp"]], pa.binary()),
        blob=pa.array([b"\x00\xff"] * 96, pa.binary()),
    )
    read = read_prices(_write_table(tmp_path, good), SHANXI)
    assert list(read.columns) == ["da_price", "rt_price"] and len(read) == 96


@pytest.mark.parametrize(
    ("suffix", "names", "repeated"),
    [
        (".parquet", ["da_price", "da_price"], "da_price"),
        (".parquet", ["da_price", " da_price"], "da_price"),
        (".parquet", ["da_price", "note", "note "], "note"),
        (".csv", ["da_price", "da_price "], "da_price"),
        (".csv", [" timestamp", "da_price"], "timestamp"),
    ],
)
def test_a_column_given_twice_is_rejected_naming_it(tmp_path, suffix, names, repeated):
    # bug 4: names equal after stripping blanks (Parquet and CSV) raised AttributeError / ValueError;
    # exactly repeated Parquet names were "cannot read file: ArrowInvalid" without the column
    frame = _price_frame()
    stamps = [s.isoformat() for s in frame["timestamp"]]
    columns = [pa.array(stamps)] + [
        pa.array(stamps) if name.strip() == "timestamp" else pa.array(frame["da_price"]) for name in names
    ]
    table = pa.table(columns, names=["timestamp", *names])
    path = tmp_path / f"prices{suffix}"
    if suffix == ".csv":
        lines = [",".join(table.column_names)]
        lines += [",".join(str(v) for v in row.values()) for row in table.to_pylist()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        pq.write_table(table, path)
    with pytest.raises(InputError, match=rf"field '{repeated}': column '{repeated}' is given more than once"):
        read_prices(path, SHANXI)


@pytest.mark.parametrize("kind", ["bool", "datetime", "duration"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_booleans_dates_and_durations_are_not_numbers(tmp_path, reader, kind):
    # bug 5: Parquet booleans were read as 0/1 prices, profile values and metered MW; datetimes and
    # durations as nanosecond counts (profiles and telemetry of 1.7e18 accepted; prices rejected
    # only as "above the clearing price cap")
    frame = _small_frame(reader)
    cells = {
        "bool": pa.array([i % 2 == 0 for i in range(16)]),
        "datetime": pa.array(frame["timestamp"]),
        "duration": pa.array(frame["timestamp"] - frame["timestamp"].iloc[0]),
    }[kind]
    column = "metered_mw" if reader == "telemetry" else "da_price"
    path = _write_table(tmp_path, _set(_table(frame), column, cells), "telemetry")
    word = {"bool": "boolean True", "datetime": "date/time 2024-01-02", "duration": "duration 0 days"}[kind]
    with pytest.raises(InputError, match=rf"row 1, .*field '{column}': not a number: {word}"):
        READERS[reader](path)


def test_exogenous_date_columns_are_dropped_and_flags_kept_as_0_1(tmp_path):
    # bug 5 (exogenous side): a datetime column beside the prices became floats of ~1.7e18
    frame = _price_frame()
    table = _price_table(
        issued=pa.array(frame["timestamp"]),
        lead=pa.array(frame["timestamp"] - frame["timestamp"].iloc[0]),
        holiday=pa.array([False] * 95 + [True]),
    )
    read = read_prices(_write_table(tmp_path, table), SHANXI)
    assert list(read.columns) == ["da_price", "rt_price", "holiday"]
    assert read["holiday"].iloc[-1] == 1.0 and read["holiday"].iloc[0] == 0.0


def test_inbox_files_away_broken_parquet_telemetry_and_goes_on(tmp_path):
    # the service side of bugs 2 and 5: the inbox rejects with a located reason instead of crashing
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    frame = _telemetry_frame()
    ms = _epoch(frame["timestamp"], "ms")
    ms[0] = -(10**16)
    far = _set(_table(frame), "timestamp", pa.array(ms, pa.timestamp("ms"))).replace_schema_metadata(None)
    pq.write_table(far, inbox / "telemetry_far.parquet")
    pq.write_table(_set(_table(frame), "metered_mw", pa.array([True] * 16)), inbox / "telemetry_bool.parquet")
    pq.write_table(_table(frame), inbox / "telemetry_good.parquet")
    stored: list[int] = []
    def store(kind: str, rows: list[dict]) -> int:
        stored.append(len(rows))
        return len(rows)

    report = process_inbox(inbox, SHANXI, {"bess-1"}, store)
    assert report.processed == ["telemetry_good.parquet"] and stored == [16]
    assert sorted(report.rejected) == ["telemetry_bool.parquet", "telemetry_far.parquet"]
    far_reason = (inbox / ".vpp" / "rejected" / "telemetry_far.parquet.error.txt").read_text()
    assert "row 1" in far_reason and "field 'timestamp'" in far_reason
    bool_reason = (inbox / ".vpp" / "rejected" / "telemetry_bool.parquet.error.txt").read_text()
    assert "row 1" in bool_reason and "field 'metered_mw'" in bool_reason


def test_harmless_encodings_give_the_csv_result(tmp_path):
    # not a bug: the same prices as CSV and as Parquet in every timestamp encoding read the same
    csv = read_prices(PRICES, SHANXI)
    t = TARGETS["prices"]
    for kind in ("ts_naive", "ts_utc", "ts_text", "ts_text_naive", "ts_index", "ts_dictionary", "shuffle"):
        path = _write(tmp_path, t, _mutate(t, kind, random.Random(0)))
        pd.testing.assert_frame_equal(read_prices(path, SHANXI), csv, obj=kind)
