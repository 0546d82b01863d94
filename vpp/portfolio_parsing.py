"""Reading portfolio files: YAML that keeps times of day as text, and pydantic errors as field paths.

``load_portfolio`` (``vpp.portfolio_io``) uses these; they have one job: turn what a user wrote
into data, or into a message that names the line or the field path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from market.presets import MarketSpec
from vpp.assets import ASSET_TYPES
from vpp.portfolio import Portfolio


class _UniqueKeys:
    """A key repeated in one mapping is an error (mixed into a PyYAML safe loader)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # an unhashable key: the base class reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice in one mapping (first at line "
                    f"{seen[key] + 1})", key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


class PortfolioYamlLoader(_UniqueKeys, yaml.SafeLoader):
    """A safe YAML loader: no base-60 numbers (``17:30`` stays a string), ``1e3`` is a float,
    and a key repeated in one mapping is an error."""


class FastPortfolioYamlLoader(_UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """:class:`PortfolioYamlLoader` with libyaml's C scanner and parser where PyYAML has them: the
    same data, about 10x faster on a 1,000-asset file. Its error messages are libyaml's, so a
    file it refuses is read again with :class:`PortfolioYamlLoader` for the message."""


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _loader in (PortfolioYamlLoader, FastPortfolioYamlLoader):
    _loader.yaml_implicit_resolvers = {first: list(pairs) for first, pairs in _RESOLVERS.items()}
    _loader.add_implicit_resolver(
        _INT_TAG,
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"),
    )
    _loader.add_implicit_resolver(
        _FLOAT_TAG,
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


def describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"


# ---------------------------------------------------------------------------------------------
# Internals: validation messages


def describe_validation_error(exc: ValidationError, data: Any) -> list[str]:
    """One ``<field path>: <message>`` line per problem of a pydantic validation error.

    Paths follow the input (``assets[0] (bess-1).energy_mwh``): pydantic's union-member labels
    (``battery``, ``float``, ``list[float]``) are dropped, alternatives of a union that fail at
    the same path are joined, and a type mismatch is dropped where a deeper error at the same
    place says more (``baseline[3]`` rather than ``baseline``).
    """
    found: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        parts = _input_path(error["loc"], data, error["type"])
        message = _error_message(error, parts, data)
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            parts = [*parts, "type"]
        where = _format_path(parts, data)
        if message not in found.setdefault(where, []):
            found[where].append(message)
            kinds.setdefault(where, []).append(error["type"])
    problems = []
    for where, messages in found.items():
        deeper = any(other.startswith((f"{where}.", f"{where}[", f"{where} (")) for other in found)
        if where and deeper:
            messages = [m for m, k in zip(messages, kinds[where], strict=True)
                        if not k.endswith("_type")]
        if messages:
            text = _join_alternatives(messages)
            problems.append(f"{where}: {text}" if where else text)
    return problems


def _join_alternatives(messages: list[str]) -> str:
    """``Input should be a valid number`` + ``... valid list`` -> ``... valid number or list``."""
    prefix = "Input should be a valid "
    kinds = [m.removeprefix(prefix) for m in messages]
    if len(messages) > 1 and all(m.startswith(prefix) and "," not in m for m in messages):
        return prefix + ", ".join(kinds[:-1]) + f" or {kinds[-1]}"
    return "; or ".join(messages)


def _input_path(loc: Sequence[int | str], data: Any, error_type: str) -> list[int | str]:
    """Keep the parts of a pydantic location that walk the input; a missing field is kept last."""
    node, parts = data, []
    for i, key in enumerate(loc):
        in_dict = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_dict or in_list:
            node = node[key]
        elif not (i == len(loc) - 1 and error_type == "missing"):
            continue  # a union member's label, not part of the input
        parts.append(key)
    return parts


def _format_path(parts: Sequence[int | str], data: Any) -> str:
    """``['assets', 0, 'energy_mwh']`` -> ``assets[0] (bess-1).energy_mwh``."""
    text = ""
    for i, part in enumerate(parts):
        if isinstance(part, int):
            text += f"[{part}]"
            if i == 1 and parts[0] == "assets":
                asset_id = _raw_asset(data, part).get("id")
                if isinstance(asset_id, str) and asset_id:
                    text += f" ({asset_id})"
        else:
            text += f".{part}" if text else str(part)
    return text


def _raw_asset(data: Any, i: int) -> dict[str, Any]:
    assets = data.get("assets") if isinstance(data, dict) else None
    if isinstance(assets, list) and 0 <= i < len(assets) and isinstance(assets[i], dict):
        return assets[i]
    return {}


def _error_message(error: Any, parts: Sequence[int | str], data: Any) -> str:
    kind, message = error["type"], error["msg"]
    known = ", ".join(ASSET_TYPES)
    if kind == "union_tag_invalid":
        return f"unknown asset type '{error['ctx']['tag']}'; known types: {known}"
    if kind == "union_tag_not_found":
        return f"the asset has no 'type'; known types: {known}"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return _unknown_field_message(parts, data)
    return message


def _unknown_field_message(parts: Sequence[int | str], data: Any) -> str:
    name = parts[-1] if parts else "?"
    allowed: list[str] = []
    if len(parts) == 1:
        allowed = list(Portfolio.model_fields)
    elif len(parts) == 2 and parts[0] == "market":
        allowed = list(MarketSpec.model_fields)
    elif len(parts) == 3 and parts[0] == "assets" and isinstance(parts[1], int):
        spec = ASSET_TYPES.get(str(_raw_asset(data, parts[1]).get("type")))
        allowed = list(spec.model_fields) if spec else []
    hint = difflib.get_close_matches(str(name), allowed, n=1)
    if hint:
        return f"unknown field '{name}' (did you mean '{hint[0]}'?)"
    return f"unknown field '{name}'" + (f"; allowed: {', '.join(allowed)}" if allowed else "")


# ---------------------------------------------------------------------------------------------
# Internals: market and profile files
