"""Pieces of the backtest report's HTML: texts in both languages and figures as an analyst reads them.

Every text is a ``<span>`` holding its English and Chinese (``data-en``, ``data-zh``), shown in the
page's language and switched by its script; money is named in the market's unit (:data:`MONEY`).
"""

from __future__ import annotations

import html
import math
from contextvars import ContextVar

import numpy as np

from simulator.report_labels import LANGUAGES, in_currency, label, strategy_name, text

MONEY: ContextVar[str] = ContextVar("money", default="yuan")
"""The market's unit of money while a page is rendered (``'yuan'``, ``'EUR'``): labels name it."""


def fixed(key: str, lang: str, **fields: object) -> str:
    """A fixed text in both languages: shown in ``lang``, switched by the page's script."""
    en, zh = (html.escape(in_currency(text(key, code, **fields), MONEY.get())) for code in LANGUAGES)
    return f'<span data-en="{en}" data-zh="{zh}">{en if lang == "en" else zh}</span>'


def plain(key: str, lang: str) -> str:
    """A fixed text in ``lang`` only (HTML-escaped), where no markup may go (the page's title)."""
    return html.escape(in_currency(text(key, lang), MONEY.get()))


def key_label(key: str, lang: str) -> str:
    """The readable name of a ``summary.json`` key, in both languages."""
    en, zh = (html.escape(in_currency(label(key, code), MONEY.get())) for code in LANGUAGES)
    return f'<span data-en="{en}" data-zh="{zh}">{en if lang == "en" else zh}</span>'


def strategy_label(name: str, lang: str) -> str:
    """A strategy's readable name in both languages, its code name as the tooltip."""
    en, zh = (html.escape(strategy_name(name, code)) for code in LANGUAGES)
    shown = en if lang == "en" else zh
    return f'<span data-en="{en}" data-zh="{zh}" title=\'{html.escape(name)}\'>{shown}</span>'


def format_value(key: str, value: object) -> str:
    """A figure as an analyst reads it: money to the yuan (a proven gap in money to the fen), ratios
    in %, integers without decimals."""
    text = _format(key, value)
    if text.startswith("-") and text != "-" and not text.strip("-0.,%"):  # -0.3 yuan is "0", not "-0"
        return text[1:]
    return text


def _format(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return html.escape(str(value))
    name = key.rsplit(".", 1)[-1]
    if isinstance(value, int | np.integer) or (
        float(value).is_integer()
        and not name.endswith(("_yuan", "_mwh", "ratio", "_mw", "per_mwh"))
        and "capture" not in name
    ):
        return f"{int(value):,}"
    v = float(value)
    if "gap" in name and name.endswith("_yuan"):  # a proven gap in money: small, so to the fen
        return f"{v:,.2f}"
    if "capture" in name or name.endswith(("ratio", "_pct", "_frac")) or "gap" in name:
        return f"{v:.1%}" if "gap" not in name or abs(v) >= 1e-3 else f"{v:.2e}"
    if name.endswith("per_mwh") or name in ("mae", "rmse", "bias"):
        return f"{v:,.1f}"
    if name.endswith("_yuan"):
        return f"{v:,.0f}"
    if name.endswith(("_mwh", "_mw")):
        return f"{v:,.1f}"
    if name.endswith("seconds") or name.endswith("_s"):
        return f"{v:,.1f}"
    return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"


