"""Fuzzed special inputs (issue 12): symbolic links, FIFOs, folders, deep nesting, markup
characters, special and long file names, concurrent readers and odd option values.

Every case must end in the reader's result or an ``InputError`` (the CLI: exit 0, or 1 / 2 with
``error:`` / a usage message), never another exception, a traceback or a hang (each case runs
under a 60 s alarm), and no file may be replaced or left behind. Examples per target:
``40 x VPP_HARDENING_SCALE`` (deterministic at the CI size).
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from market.prices import read_prices
from market.profiles import read_profiles
from vpp.cli import app
from vpp.errors import InputError
from vpp.portfolio_io import load_portfolio

from ._scale import ROOT, fuzz_settings, record, scaled

PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
PV = ROOT / "tests" / "data" / "pv_nrel_system50_2012-06-02_15min.csv"
MINIMAL = (ROOT / "vpp" / "examples" / "minimal.yaml").read_text()
FUZZ = fuzz_settings()
HANG_S = 60

NAME_PARTS = [
    "[/]",
    "[bold]",
    "\n",
    " ",
    "-rf",
    "价格",
    "ünï",
    "$(x)",
    "%s",
    "\\",
    "'",
    '"',
    ";",
    "*",
    "\t",
    ".",
]
KINDS = ["symlink", "symlink_loop", "dangling", "fifo", "folder", "long_name", "odd_name", "plain"]


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    def expired(*_: object) -> None:
        raise TimeoutError(f"hung for {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(HANG_S * 4)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _odd_name(rnd: random.Random, suffix: str, long: bool) -> str:
    """A file name the file system allows: markup, newline, unicode, blanks, up to 255 bytes."""
    stem = "".join(rnd.choice(NAME_PARTS) for _ in range(rnd.randint(1, 6))).replace("/", "_").strip(".")
    stem = stem or "x"
    if long:
        stem = (stem + "x" * 300).encode()[: 255 - len(suffix.encode())].decode("utf-8", errors="ignore")
    return stem + suffix


def _special(folder: Path, kind: str, source: Path, rnd: random.Random) -> Path:
    """A path of ``kind`` whose content (where it has one) is ``source``'s."""
    suffix = source.suffix
    folder.mkdir(parents=True, exist_ok=True)
    if kind in ("long_name", "odd_name"):
        path = folder / _odd_name(rnd, suffix, kind == "long_name")
        path.write_bytes(source.read_bytes())
        return path
    path = folder / f"{kind}_{rnd.randrange(10**9)}{suffix}"
    if kind == "symlink":
        path.symlink_to(source)
    elif kind == "symlink_loop":
        path.symlink_to(path)
    elif kind == "dangling":
        path.symlink_to(folder / "missing.csv")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(source.read_bytes())
    return path


def _outcome(read, path: Path, counts: dict[str, int]) -> object:
    try:
        result = read(path)
    except InputError as exc:
        assert path.name.splitlines()[0][:40] in str(exc) or str(path.parent) in str(exc), str(exc)
        counts["rejected"] = counts.get("rejected", 0) + 1
        return None
    except TimeoutError:
        counts["hangs"] = counts.get("hangs", 0) + 1
        raise
    counts["accepted"] = counts.get("accepted", 0) + 1
    return result


@pytest.mark.parametrize("target", ["prices", "profiles", "portfolio"])
def test_special_files_and_names_are_read_or_refused_never_a_crash_or_a_hang(tmp_path, target):
    source = {"prices": PRICES, "profiles": PV, "portfolio": tmp_path / "p.yaml"}[target]
    if target == "portfolio":
        source.write_text(MINIMAL)
    read = {
        "prices": lambda p: read_prices(p, "shanxi"),
        "profiles": lambda p: read_profiles(p, "America/Denver"),
        "portfolio": load_portfolio,
    }[target]
    counts: dict[str, int] = {"tried": 0}

    @FUZZ
    @given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
    def run(kind: str, seed: int) -> None:
        counts["tried"] += 1
        counts[kind] = counts.get(kind, 0) + 1
        signal.alarm(HANG_S)
        path = _special(tmp_path / "cases", kind, source, random.Random(seed))
        result = _outcome(read, path, counts)
        if kind in ("symlink", "long_name", "odd_name", "plain"):
            assert result is not None, f"{kind} {path.name!r} refused"
        else:
            assert result is None, f"{kind} {path.name!r} accepted"

    run()
    record(f"fuzz_special_{target}", counts)
    assert counts.get("hangs", 0) == 0


def _nested(fmt: str, depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if fmt == "json":
        return '{"a":' * depth + "1" + "}" * depth
    return "{a: " * depth + "1" + "}" * depth


def test_deep_nesting_and_markup_in_portfolios(tmp_path):
    counts: dict[str, int] = {"tried": 0}
    runner = CliRunner()

    @FUZZ
    @given(
        case=st.sampled_from(["deep", "markup"]),
        fmt=st.sampled_from(["yaml", "json"]),
        depth=st.integers(2, 100_000),
        nest=st.sampled_from(["list", "mapping"]),
        name=st.text(alphabet="[]/bold red:x{}", min_size=1, max_size=12),
    )
    def run(case: str, fmt: str, depth: int, nest: str, name: str) -> None:
        counts["tried"] += 1
        counts[case] = counts.get(case, 0) + 1
        signal.alarm(HANG_S)
        path = tmp_path / f"p.{fmt}"
        if case == "deep":
            depth = depth if fmt == "json" else min(depth, 50_000)
            path.write_text(_nested(fmt, depth, nest))
            with pytest.raises(InputError):
                load_portfolio(path)
            counts["rejected"] = counts.get("rejected", 0) + 1
            return
        name = name.strip() or "x"
        data = {
            "name": name,
            "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
            "assets": [{"id": name, "type": "battery", "power_mw": 1, "energy_mwh": 2, "soc_initial_mwh": 1}],
        }
        path.write_text(json.dumps(data))
        result = runner.invoke(app, ["validate", str(path), "--day", "2024-01-02"])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 0, result.output
        assert name in result.output, result.output  # printed as written, never read as markup
        counts["accepted"] = counts.get("accepted", 0) + 1

    run()
    record("fuzz_special_nesting_markup", counts)


def test_concurrent_readers_of_one_file_get_the_same_frame(tmp_path):
    """Threads reading one price file, one profile file and one portfolio at once."""
    threads = scaled(16, 4)
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(MINIMAL)
    jobs = [
        ("prices", lambda: read_prices(PRICES, "shanxi")),
        ("profiles", lambda: read_profiles(PV, "America/Denver")),
        ("portfolio", lambda: load_portfolio(portfolio).portfolio),
    ]
    counts: dict[str, int] = {"threads": threads, "reads": 0, "errors": 0}
    for name, job in jobs:
        expected = job()
        results: list[object] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads)

        def read(job=job, results=results, errors=errors, barrier=barrier) -> None:
            barrier.wait()
            try:
                results.append(job())
            except BaseException as exc:  # counted and reported below
                errors.append(exc)

        workers = [threading.Thread(target=read) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(HANG_S)
        assert not any(w.is_alive() for w in workers), f"{name}: a reader hung"
        assert not errors, f"{name}: {errors[:3]}"
        counts["reads"] += len(results)
        for got in results:
            if hasattr(got, "equals"):
                assert got.equals(expected), name
            else:
                assert got == expected, name
    record("fuzz_special_concurrent_readers", counts)


OPTION_VALUES = {
    "--time-limit": st.sampled_from(
        ["-5", "nan", "inf", "-inf", "0", "-0", "1e-300", "1e400", "abc", "", "60"]
    ),
    "--mip-gap": st.sampled_from(["-1", "nan", "inf", "0", "1e-4", "-0.0", "x"]),
    "--handoff": st.sampled_from(["banana", "", "AUTO", "persistent ", "auto", "compiled", "[/]"]),
    "--seed": st.sampled_from(["-1", "0", str(2**32), str(2**64), "1.5", "x", "7"]),
    "--scenarios": st.sampled_from(["0", "-3", "100000", "2001", "1", "20", "1e3"]),
}
BACKTEST_VALUES = {
    "--workers": st.sampled_from(["-2", "-1", "100000", "0", "x"]),
    "--scheduler": st.sampled_from(
        ["banana://x", "tcp://", "tcp://h:0", "tcp://h:70000", "", "[/]://x", "tcp://127.0.0.1:notaport"]
    ),
    "--time-limit": st.sampled_from(["nan", "-5", "0", "x"]),
}


def _invalid(option: str, value: str) -> bool:
    """Is ``value`` refused for ``option`` (by typer's parser or by vpp.option_checks)?"""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if option == "--time-limit":
        return not (math.isfinite(number) and number > 0)
    if option == "--mip-gap":
        return not (math.isfinite(number) and number >= 0)
    if option == "--handoff":
        return value not in ("auto", "persistent", "compiled")
    if option == "--seed":
        return not (value.isdigit() and int(value) < 2**32)
    if option == "--scenarios":
        return not (value.lstrip("-").isdigit() and 1 <= int(value) <= 2000)
    if option == "--workers":
        return not (value.lstrip("-").isdigit() and 0 <= int(value) <= 256)
    return True  # every --scheduler value above is malformed


def test_odd_option_values_are_refused_before_any_work(tmp_path):
    """Every value is checked before the portfolio is read: a bad one names its option, a good one
    gets as far as the (missing) portfolio file. Nothing is solved, written or left behind."""
    runner = CliRunner()
    missing = tmp_path / "missing.yaml"
    counts: dict[str, int] = {"tried": 0, "refused": 0, "passed": 0}

    @FUZZ
    @given(
        command=st.sampled_from(["bid", "backtest"]),
        data=st.data(),
    )
    def run(command: str, data: st.DataObject) -> None:
        counts["tried"] += 1
        signal.alarm(HANG_S)
        values = OPTION_VALUES if command == "bid" else BACKTEST_VALUES
        option = data.draw(st.sampled_from(sorted(values)))
        value = data.draw(values[option])
        args = [
            command,
            "--portfolio",
            str(missing),
            "--prices",
            str(PRICES),
            "--out",
            str(tmp_path / "out" / "x.csv" if command == "bid" else tmp_path / "out"),
            f"{option}={value}",
        ]
        if command == "bid":
            args += ["--day", "2024-01-02", "--allow-late", "--no-plot", "--mode", "price-quantity"]
        result = runner.invoke(app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        assert result.exit_code in (1, 2), result.output
        text = " ".join(result.output.split())
        if _invalid(option, value):
            assert option in text or "Invalid value" in text, (option, value, result.output)
            counts["refused"] += 1
        else:
            assert "portfolio file not found" in text, (option, value, result.output)
            counts["passed"] += 1
        assert not (tmp_path / "out").exists()

    run()
    record("fuzz_special_options", counts)
