"""The backtest report's tables, read from ``summary.json``.

Headline with references, operator/users split, forecast errors and every figure. Each function
returns an HTML fragment; texts are in both languages and figures are formatted as an analyst
reads them (:mod:`simulator.report_html`). Money in the market's unit, energy in MWh.
"""

from __future__ import annotations

import html
from typing import Any

from simulator.report_html import fixed, format_value, key_label, strategy_label
from simulator.report_labels import STRATEGIES, TEXT

BOUND_SUFFIX = "_revenue_yuan"
"""Top-level summary keys ending so are revenues of a reference (a bound or the passive position)."""

NOT_REFERENCES = frozenset(
    {"total_revenue_yuan", "da_revenue_yuan", "rt_revenue_yuan", "contract_revenue_yuan"}
)
"""Top-level ``*_revenue_yuan`` keys that are the headline strategy's totals, not references."""

REVENUE_SHARE_ROWS = (
    "consumption_mwh",
    "user_payments",
    "wholesale_revenue",
    "operating_fees",
    "dividend",
    "user_dividend",
    "operator_dividend",
    "user_net_payment",
)
"""The rows of the operator/users table (:class:`market.revenue_share.RevenueSplit` fields)."""


def capture_keys(blocks: dict[str, dict[str, Any]]) -> list[str]:
    """Keys of the strategy blocks that are captures against a bound (``capture_ratio``, ``capture_*``)."""
    keys: dict[str, None] = {}
    for block in blocks.values():
        for key, value in _flat(block).items():
            if "capture" in key.rsplit(".", 1)[-1] and (value is None or isinstance(value, int | float)):
                keys[key] = None
    return list(keys)


def references(summary: dict[str, Any]) -> dict[str, float]:
    """Revenues of the references: the passive position and every bound (``*_revenue_yuan``).

    Read from the top level of the summary and from its ``bounds`` block, when it has one (the
    bounds block wins for a key in both).
    """
    out: dict[str, float] = {}
    for source in (summary, summary.get("bounds") or {}):
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if key.endswith(BOUND_SUFFIX) and key not in NOT_REFERENCES and _number(value):
                out[key] = float(value)
    return out


def headline_section(summary: dict[str, Any], lang: str) -> str:
    """The headline section: per strategy its revenue, value over passive, captures and yuan/MWh,
    the references below (with a bound's proven gap) and the definitions beside.

    Parameters
    ----------
    summary : dict
        The backtest's ``summary.json``.
    lang : {"en", "zh"}
        Language the page opens in.
    """
    blocks = summary["strategies"]
    captures = capture_keys(blocks)
    columns = ["total_revenue_yuan", "value_over_passive_yuan", *captures, "yuan_per_mwh"]
    head = "".join(f"<th>{key_label(c, lang)}</th>" for c in columns)
    rows = []
    for name, block in blocks.items():
        flat = _flat(block)
        cells = "".join(f"<td>{format_value(c, flat.get(c))}</td>" for c in columns)
        rows.append(f"<tr><th scope='row'>{strategy_label(name, lang)}</th>{cells}</tr>")
    refs = references(summary)
    passive = refs.get("passive_revenue_yuan")
    gap_sources = {**summary, **(summary.get("bounds") if isinstance(summary.get("bounds"), dict) else {})}
    reference_rows = []
    for key, value in refs.items():
        over = "-" if passive is None else format_value("value_over_passive_yuan", value - passive)
        stem = key.removesuffix(BOUND_SUFFIX)
        gaps = [  # a bound's proven optimality gap, where the summary has one (stem_..._gap...)
            f"{key_label(g, lang)} {format_value(g, v)}"
            for g, v in gap_sources.items()
            if g.startswith(stem) and "gap" in g and _number(v)
        ]
        note = f" <small>({'; '.join(gaps)})</small>" if gaps else ""
        blank = "".join("<td></td>" for _ in columns[2:])
        reference_rows.append(
            f"<tr class='reference'><th scope='row'>{_reference(key, lang)}{note}</th>"
            f"<td>{format_value(key, value)}</td><td>{over}</td>{blank}</tr>"
        )
    defined = [
        k for k in ("def_value", "def_capture", "def_yuan_mwh", "def_passive", "def_perfect_foresight")
    ]
    defined += [f"def_{stem}" for stem in ("da_optimum", "rt_optimum") if f"{stem}{BOUND_SUFFIX}" in refs]
    defined += [
        f"def_{k}" for k in ("energy_shifting_yuan", "spread_yuan") if any(k in b for b in blocks.values())
    ]
    notes = "".join(f"<li>{fixed(k, lang)}</li>" for k in defined)
    passive_notes = "".join(
        f"<li><b>{fixed('passive_note', lang)}:</b> {html.escape(n)}</li>"
        for n in summary.get("passive_notes", [])
    )
    return (
        f"<section><h2>{fixed('headline', lang)}</h2><div class='headline'><div class='table-box'>"
        f"<table id='headline'><thead><tr><th>{fixed('strategy', lang)}</th>{head}</tr>"
        f"</thead><tbody>{''.join(rows)}</tbody><tbody class='references'>{''.join(reference_rows)}</tbody>"
        f"</table><p class='note'>{fixed('headline_note', lang)}</p></div>"
        f"<div class='definitions'><h3>{fixed('definitions', lang)}</h3><ul>{notes}{passive_notes}</ul></div>"
        "</div></section>"
    )


def revenue_share_section(summary: dict[str, Any], lang: str) -> str:
    """The operator/users split of the headline strategy (money, consumption in MWh); empty without
    a ``revenue_share``."""
    split = summary.get("revenue_share")
    if not split:
        return ""
    rows = "".join(
        f"<tr><th scope='row'>{fixed('rs_' + key, lang)}</th>"
        f"<td>{format_value(key if key.endswith('_mwh') else key + '_yuan', split[key])}</td></tr>"
        for key in REVENUE_SHARE_ROWS
    )
    return (
        f"<section><h2>{fixed('revenue_share', lang)}</h2>"
        f"<p class='note'>{fixed('revenue_share_note', lang)}</p>"
        f"<div class='table-box'><table id='revenue-share'><tbody>{rows}</tbody></table></div></section>"
    )


def errors_table(summary: dict[str, Any], lang: str) -> str:
    """Each forecaster's errors against the realised DA price (money/MWh), the one in use marked;
    empty without ``forecast_errors``."""
    errors = summary.get("forecast_errors", {})
    if not errors:
        return ""
    metrics = list(dict.fromkeys(m for e in errors.values() for m in e))
    head = "".join(f"<th>{fixed(m, lang) if m in TEXT else key_label(m, lang)}</th>" for m in metrics)
    rows = []
    for name, values in errors.items():
        used = f" <small>({fixed('in_use', lang)})</small>" if name == summary.get("forecast") else ""
        cells = "".join(f"<td>{format_value(m, values.get(m))}</td>" for m in metrics)
        rows.append(f"<tr><th scope='row'><code>{html.escape(name)}</code>{used}</th>{cells}</tr>")
    return (
        "<div class='table-box'><table id='forecast-errors'><thead><tr>"
        f"<th>{fixed('forecaster', lang)}</th>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def full_table(summary: dict[str, Any], strategies: list[str], lang: str) -> str:
    """Every figure of every strategy (a row per flattened ``summary.json`` key, a column per
    strategy), then the run's own numeric figures not already shown."""
    blocks = {n: _flat(summary["strategies"][n]) for n in strategies}
    keys = list(dict.fromkeys(k for b in blocks.values() for k in b))
    head = "".join(f"<th>{strategy_label(n, lang)}</th>" for n in strategies)
    rows = "".join(
        f"<tr><th scope='row'>{key_label(k, lang)}</th>"
        + "".join(f"<td>{format_value(k, blocks[n].get(k))}</td>" for n in strategies)
        + "</tr>"
        for k in keys
    )
    run = {
        k: v
        for k, v in _flat(
            {k: v for k, v in summary.items() if k not in ("strategies", "forecast_errors", "revenue_share")}
        ).items()
        if _number(v)
    }
    run_rows = "".join(
        f"<tr><th scope='row'>{key_label(k, lang)}</th><td>{format_value(k, v)}</td></tr>"
        for k, v in run.items()
        if k not in blocks.get(strategies[0], {})
    )
    return (
        f"<div class='table-box'><table id='full-table'><thead><tr><th></th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
        f"<h3>{fixed('run_figures', lang)}</h3><div class='table-box'><table id='run-table'><tbody>{run_rows}"
        "</tbody></table></div>"
    )


def _reference(key: str, lang: str) -> str:
    """A reference row's name: the bound or position itself (its column names the unit)."""
    stem = key.removesuffix(BOUND_SUFFIX)
    return strategy_label(stem, lang) if stem in STRATEGIES else key_label(key, lang)


def _number(value: object) -> bool:
    """A JSON number (int or float, not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _flat(block: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``block`` with nested dicts flattened to dotted keys (``bounds.mip_gap``); lists left out."""
    out: dict[str, Any] = {}
    for key, value in block.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        elif not isinstance(value, list):
            out[name] = value
    return out
