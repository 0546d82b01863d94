"""Read a portfolio file (YAML or JSON) into plain data, and validate that data as a :class:`Portfolio`.

Every problem raises :class:`vpp.errors.InputError` naming the file and, for a syntax error, the
line and column, for a schema violation the field path of each problem
(``assets[0] (bess-1).energy_mwh: Input should be greater than 0``), never a raw pydantic traceback.
:func:`vpp.portfolio_io.load_portfolio` reads a portfolio with everything it points to.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vpp.errors import InputError
from vpp.portfolio import Portfolio
from vpp.portfolio_parsing import (
    FastPortfolioYamlLoader,
    PortfolioYamlLoader,
    describe_validation_error,
    describe_yaml_error,
)

PORTFOLIO_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
"""Portfolio file suffix -> format."""


def read_portfolio_data(path: Path) -> dict[str, Any]:
    """Read a portfolio file into plain data, without validating it.

    Times of day such as ``17:30`` stay strings (YAML 1.1 would read them as the base-60 integer
    1050) and repeated keys in one mapping are an error.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown suffix, syntax error (with line and column), or a
        document that is not a mapping.
    """
    fmt = PORTFOLIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unknown portfolio file type '{path.suffix}'; use {', '.join(PORTFOLIO_FORMATS)}",
            file=path,
        )
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError("portfolio file not found", file=path) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the portfolio file: {exc}", file=path) from None
    if not stat.S_ISREG(mode):  # a FIFO or a device would block the read or never end
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"the portfolio file is {kind}", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("portfolio file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the portfolio file: {exc}", file=path) from None
    return parse_portfolio_text(text, fmt, path)


def parse_portfolio_text(text: str, fmt: str, path: str | Path) -> dict[str, Any]:
    """Parse portfolio text (``fmt`` ``yaml`` or ``json``) into plain data, without validating it.

    Repeated keys in one mapping (YAML or JSON) are an error, and so is nesting too deep for the
    parser (``RecursionError``).

    Raises
    ------
    InputError
        Syntax error (with line and column), a repeated key, nesting too deep, or a document that
        is not a mapping.
    """
    try:
        data = _parse_text(text, fmt, path)
    except RecursionError:
        raise InputError(
            f"the {fmt.upper()} is nested too deeply to read (a portfolio needs a few levels)",
            file=path,
        ) from None
    if data is None:
        raise InputError("the portfolio file is empty", file=path)
    if not isinstance(data, dict):
        raise InputError(
            f"the portfolio must be a mapping of fields (name, grid, assets, ...), "
            f"not a {type(data).__name__}",
            file=path,
        )
    return data


def _parse_text(text: str, fmt: str, path: str | Path) -> Any:
    if fmt == "yaml":
        try:
            try:
                return yaml.load(text, Loader=FastPortfolioYamlLoader)
            except yaml.YAMLError:  # the pure-Python loader's message (line, column, problem)
                return yaml.load(text, Loader=PortfolioYamlLoader)  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            raise InputError(describe_yaml_error(exc), file=path) from None
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML: {exc}", file=path) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except InputError as exc:
        raise InputError(exc.message, file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path
        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (``json`` would keep the last silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"invalid JSON: key '{key}' appears twice in one object")
        out[key] = value
    return out


def parse_portfolio(data: dict[str, Any], *, file: str | Path | None = None) -> Portfolio:
    """Validate plain data as a :class:`Portfolio`.

    Raises
    ------
    InputError
        One line per problem, each ``<field path>: <message>``.
    """
    try:
        return Portfolio.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation_error(exc, data)
        if len(problems) == 1:
            raise InputError(problems[0], file=file) from None
        listing = "\n".join(f"  - {p}" for p in problems)
        raise InputError(f"{len(problems)} problems:\n{listing}", file=file) from None
