"""Fuzzed bad input for the readers: portfolio, prices, profiles, telemetry, and the CLI.

Valid files are mutated at random (bytes, lines, cells, wrong types, NaN, duplicated and missing
rows, shuffled rows, bad timestamps and offsets). Every reader must either accept the file or
raise ``vpp.errors.InputError`` naming the file; a mutation that certainly breaks the file must
raise it, naming the row / field where the mutation makes that knowable. Never another exception.

Examples per reader: ``40 x VPP_HARDENING_SCALE`` (deterministic at the CI size).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from market.presets import get_market
from market.prices import read_prices
from market.profiles import read_profiles
from vpp.cli import app
from vpp.errors import InputError
from vpp.portfolio_io import load_portfolio
from vpp.service.inbox import parse_telemetry

from ._scale import ROOT, fuzz_settings, minimal_battery, record, scaled

PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
PV = ROOT / "tests" / "data" / "pv_nrel_system50_2012-06-02_15min.csv"
MINIMAL = ROOT / "vpp" / "examples" / "minimal.yaml"
SHANXI = get_market("shanxi")
EXAMPLES = scaled(40, 5)

FUZZ = fuzz_settings()

BAD_NUMBERS = ["abc", "NaN", "", "inf", "-inf", "1e400", "--5", "0x1F", "None", "1,5", "nan nan"]
BAD_STAMPS = [
    "",
    "yesterday",
    "2024-13-01T00:00:00+08:00",
    "2024-01-02T00:07:00+08:00",
    "2024-01-02T00:00:00+25:00",
    "2024-01-02T00:00:00+08:30",
    "2024-01-02T24:00:00+08:00",
    "0",
    "2024-01-02 25:00",
]
SOFT_MUTATIONS = ["byte", "truncate", "junk_line", "shuffle", "drop_line", "swap_header"]
HARD_MUTATIONS = ["cell", "stamp", "duplicate", "drop_row"]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _mutate_table(
    lines: list[str], kind: str, rnd: random.Random, value_columns: list[int]
) -> tuple[str, int]:
    """Apply one mutation to CSV lines; return the text and the 1-based data row it touched (0: none)."""
    header, rows = lines[0], [line.split(",") for line in lines[1:]]
    r = rnd.randrange(1, len(rows) - 1)  # an interior data row (0-based index into rows)
    touched = 0
    if kind == "cell":
        col = rnd.choice(value_columns)
        rows[r][col] = rnd.choice(BAD_NUMBERS)
        touched = r + 1
    elif kind == "stamp":
        rows[r][0] = rnd.choice(BAD_STAMPS)
        touched = r + 1
    elif kind == "duplicate":
        rows.insert(r + 1, list(rows[r]))
        touched = r + 2
    elif kind == "drop_row":
        del rows[r]
    elif kind == "shuffle":
        rnd.shuffle(rows)
    elif kind == "drop_line":
        del rows[rnd.randrange(len(rows))]
    elif kind == "junk_line":
        rows.insert(r, [rnd.choice(["#", "x", ",,,,", "\x00", "1,2,3,4,5,6,7,8"])])
    elif kind == "swap_header":
        parts = header.split(",")
        rnd.shuffle(parts)
        header = ",".join(parts)
    text = "\n".join([header, *(",".join(row) for row in rows)]) + "\n"
    if kind == "byte":
        data = bytearray(text.encode("utf-8"))
        for _ in range(rnd.randint(1, 4)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        return data.decode("utf-8", errors="surrogateescape"), 0
    if kind == "truncate":
        return text[: rnd.randrange(1, len(text))], 0
    return text, touched


def _write(folder: Path, suffix: str, text: str, prefix: str = "f") -> Path:
    path = folder / f"{prefix}_{uuid.uuid4().hex[:8]}{suffix}"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return path


def _check(read, path: Path, must_fail: bool, row: int = 0, counts: dict | None = None) -> None:
    """The reader accepts ``path`` or raises InputError naming it (and ``row`` when given)."""
    try:
        read(path)
    except InputError as exc:
        message = str(exc)
        assert path.name in message, message
        if row:
            assert f"row {row}" in message or "timestamp" in message, message
        if counts is not None:
            counts["rejected"] = counts.get("rejected", 0) + 1
        return
    except Exception as exc:
        pytest.fail(
            f"{type(exc).__name__} (not InputError) for {path.name}: {exc}\n"
            f"{path.read_text(errors='replace')[:2000]}"
        )
    assert not must_fail, f"accepted a broken file {path.name}:\n{path.read_text(errors='replace')[:2000]}"
    if counts is not None:
        counts["accepted"] = counts.get("accepted", 0) + 1


def _fuzz_table(tmp_path, name, source_lines, read, value_columns, hard_fail_kinds, prefix="f"):
    counts: dict[str, int] = {"tried": 0}

    @FUZZ
    @given(kind=st.sampled_from(SOFT_MUTATIONS + HARD_MUTATIONS), seed=st.integers(0, 2**32 - 1))
    def run(kind: str, seed: int) -> None:
        counts["tried"] += 1
        counts[kind] = counts.get(kind, 0) + 1
        text, touched = _mutate_table(source_lines, kind, random.Random(seed), value_columns)
        path = _write(tmp_path, ".csv", text, prefix)
        must_fail = kind in hard_fail_kinds
        _check(read, path, must_fail, touched if must_fail else 0, counts)
        path.unlink()

    run()
    record(f"fuzz_{name}", counts)
    return counts


def test_fuzzed_price_files_raise_input_error_naming_file_and_row(tmp_path):
    lines = _lines(PRICES)
    # columns 1, 2: da_price, rt_price (1,5 splits a cell: a wrong column count, also rejected)
    counts = _fuzz_table(
        tmp_path,
        "prices",
        lines,
        lambda p: read_prices(p, SHANXI),
        [1, 2],
        {"cell", "stamp", "duplicate", "drop_row"},
    )
    assert counts["tried"] == EXAMPLES


def test_fuzzed_profile_files_raise_input_error_naming_file_and_row(tmp_path):
    counts = _fuzz_table(
        tmp_path,
        "profiles",
        _lines(PV),
        lambda p: read_profiles(p, "America/Denver"),
        [1],
        {"cell", "stamp", "duplicate", "drop_row"},
    )
    assert counts["tried"] == EXAMPLES


def _telemetry_lines() -> list[str]:
    out = ["timestamp,asset_id,metered_mw,soc_mwh"]
    for i in range(16):
        out.append(
            f"2024-01-02T{i // 4:02d}:{15 * (i % 4):02d}:00+08:00,bess-1,{0.1 * i:.2f},{1 + 0.01 * i:.2f}"
        )
    return out


def test_fuzzed_telemetry_files_raise_input_error_naming_file_and_row(tmp_path):
    # telemetry may have gaps and any order; NaN soc is allowed (optional): only metered_mw must fail
    def read(path: Path):
        return parse_telemetry(path, SHANXI, {"bess-1"})

    counts = _fuzz_table(
        tmp_path, "telemetry", _telemetry_lines(), read, [2], {"cell", "duplicate"}, prefix="telemetry"
    )
    assert counts["tried"] == EXAMPLES


# ---------------------------------------------------------------- portfolios

PORTFOLIO = {
    "name": "fuzz",
    "market": "shanxi",
    "profiles": ["pv.csv"],
    "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
    "assets": [minimal_battery(), {"id": "pv-1", "type": "pv", "capacity_mw": 1.0, "profile": "pv"}],
}
# (path, bad value) pairs that certainly break the portfolio; the path's last key must be named
FIELD_BREAKS = (
    [
        (("assets", 0, "power_mw"), v)
        for v in ("abc", [1, 2], {"a": 1}, None, float("nan"), -1.0, 0, float("inf"))
    ]
    + [(("assets", 0, "energy_mwh"), v) for v in ("2 MWh", float("nan"), -2.0, float("inf"))]
    + [(("grid", "import_limit_mw"), v) for v in ("many", -5, float("nan"), [], float("inf"))]
    + [(("assets", 1, "capacity_mw"), v) for v in ("x", -1.0, float("nan"))]
    + [(("assets", 1, "profile"), v) for v in ("no-such-column", [1.0, 2.0], {"x": 1})]
    + [(("assets", 0, "type"), v) for v in ("flywheel", 7, None)]
    + [(("market",), v) for v in ("atlantis", 3, None)]
    + [(("assets", 0, "charge_efficiency"), v) for v in (1.5, -0.1, float("nan"), "high")]
)
REMOVALS = [
    ("name",),
    ("assets", 0, "power_mw"),
    ("assets", 0, "id"),
    ("assets", 1, "capacity_mw"),
    ("grid",),
]


def _pv_profile(folder: Path) -> None:
    lines = ["timestamp,pv"]
    for i in range(3 * 96):
        h, m = divmod(15 * i, 60)
        day, h = divmod(h, 24)
        lines.append(f"2024-01-{2 + day:02d}T{h:02d}:{m:02d}:00+08:00,{max(0.0, 1 - abs(h - 12) / 6):.3f}")
    (folder / "pv.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _set(data, keys, value):
    node = data
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


def _dump(data, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, allow_nan=True)
    return yaml.safe_dump(data, sort_keys=False)


def test_fuzzed_portfolio_files_raise_input_error_naming_file_and_field(tmp_path):
    _pv_profile(tmp_path)
    assert load_portfolio(_write(tmp_path, ".yaml", _dump(PORTFOLIO, "yaml"))).profiles is not None
    counts: dict[str, int] = {"tried": 0}

    @FUZZ
    @given(
        kind=st.sampled_from(["field", "remove", "duplicate_id", "byte", "line", "truncate", "dup_line"]),
        fmt=st.sampled_from(["yaml", "json"]),
        seed=st.integers(0, 2**32 - 1),
    )
    def run(kind: str, fmt: str, seed: int) -> None:
        rnd = random.Random(seed)
        counts["tried"] += 1
        counts[kind] = counts.get(kind, 0) + 1
        data = json.loads(json.dumps(PORTFOLIO))
        field = None
        if kind == "field":
            keys, value = rnd.choice(FIELD_BREAKS)
            _set(data, keys, value)
            field = str(keys[-1]) if keys[-1] != "profile" or isinstance(value, str) else "profile"
        elif kind == "remove":
            keys = rnd.choice(REMOVALS)
            node = data
            for key in keys[:-1]:
                node = node[key]
            del node[keys[-1]]
            field = str(keys[-1])
        elif kind == "duplicate_id":
            data["assets"].append(dict(data["assets"][0]))
        text = _dump(data, fmt)
        if kind in ("byte", "line", "truncate", "dup_line"):
            lines = text.splitlines()
            if kind == "byte":
                raw = bytearray(text.encode())
                for _ in range(rnd.randint(1, 3)):
                    raw[rnd.randrange(len(raw))] = rnd.randrange(256)
                text = raw.decode("utf-8", errors="surrogateescape")
            elif kind == "line":
                del lines[rnd.randrange(len(lines))]
                text = "\n".join(lines)
            elif kind == "dup_line":
                i = rnd.randrange(len(lines))
                lines.insert(i, lines[i])
                text = "\n".join(lines)
            else:
                text = text[: rnd.randrange(len(text))]
        path = _write(tmp_path, f".{fmt}", text)
        try:
            load_portfolio(path)
        except InputError as exc:
            message = str(exc)
            assert path.name in message, message
            if field:
                assert field in message, message
            counts["rejected"] = counts.get("rejected", 0) + 1
            return
        except Exception as exc:
            pytest.fail(f"{type(exc).__name__} (not InputError) for {kind}/{fmt}: {exc}\n{text}")
        finally:
            path.unlink()
        assert kind not in ("field", "remove", "duplicate_id"), f"accepted a broken portfolio:\n{text}"
        counts["accepted"] = counts.get("accepted", 0) + 1

    run()
    record("fuzz_portfolio", counts)
    assert counts["tried"] == EXAMPLES


# ---------------------------------------------------------------- the command line


def _cli_cases(folder: Path) -> list[tuple[str, list[str]]]:
    rnd = random.Random(7)
    lines = _lines(PRICES)
    cases = []
    for kind in ("cell", "stamp", "duplicate", "drop_row"):
        text, _ = _mutate_table(lines, kind, rnd, [1, 2])
        prices = _write(folder, ".csv", text, f"prices_{kind}")
        cases.append(
            (
                f"bid/{kind}",
                [
                    "bid",
                    "--portfolio",
                    str(MINIMAL),
                    "--prices",
                    str(prices),
                    "--day",
                    "2024-01-02",
                    "--out",
                    str(folder / "bid.csv"),
                    "--no-plot",
                    "--allow-late",
                ],
            )
        )
    for i, (keys, value) in enumerate(FIELD_BREAKS[::5]):
        data = json.loads(json.dumps(PORTFOLIO))
        data.pop("profiles")
        data["assets"] = data["assets"][:1]
        if keys[:2] == ("assets", 1):
            continue
        _set(data, keys, value)
        path = _write(folder, ".yaml", _dump(data, "yaml"), f"portfolio_{i}")
        cases.append((f"validate/{'.'.join(map(str, keys))}", ["validate", str(path)]))
    return cases


def test_cli_exits_1_without_traceback_on_fuzzed_files(tmp_path):
    runner = CliRunner()
    cases = _cli_cases(tmp_path)
    for name, args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert "Traceback" not in result.output and "error: " in result.output, (name, result.output)
    # two of them in a real process, as a user runs them
    for name, args in (cases[0], cases[-1]):
        proc = subprocess.run(
            [sys.executable, "-m", "vpp.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode == 1, (name, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr + proc.stdout, (name, proc.stderr[-2000:])
    record("fuzz_cli", {"in_process": len(cases), "subprocess": 2})


@pytest.mark.parametrize(
    "keys", [("assets", 0, "power_mw"), ("assets", 0, "energy_mwh"), ("grid", "export_limit_mw")]
)
def test_infinite_ratings_are_rejected_naming_the_field(tmp_path, keys):
    # regression (found by the fuzzer): .inf passed pydantic's gt=0 and reached the optimizer
    data = json.loads(json.dumps(PORTFOLIO))
    data.pop("profiles")
    data["assets"] = data["assets"][:1]
    _set(data, keys, float("inf"))
    path = _write(tmp_path, ".yaml", _dump(data, "yaml"))
    with pytest.raises(InputError, match=rf"{keys[-1]}: Input should be a finite number"):
        load_portfolio(path)


def test_a_row_with_an_extra_field_is_rejected_naming_the_row(tmp_path):
    # regression (scale-10 run): pandas' "Expected 6 fields in line 55, saw 7" named no data row
    lines = PRICES.read_text().splitlines()
    lines[54] += ",42"
    path = _write(tmp_path, ".csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"row 54.*7 fields where the header has 6"):
        read_prices(path, SHANXI)
