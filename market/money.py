"""Money to the fen: yuan amounts as whole fen (0.01 yuan), rounded half away from zero (四舍五入).

Settlement rounds each leg to the fen and adds the rounded legs, so statements always add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Products such as 0.1 MWh x 10.05 yuan/MWh land a hair off the exact half fen in binary. An
# amount within max(1e-6 fen, 16 ulp) of a multiple of half a fen is snapped onto it before
# rounding, so that rounding follows the decimal value.
_FEN_SNAP = 1e-6
_FEN_SNAP_ULPS = 16

# --------------------------------------------------------------------------------------------


def to_fen(yuan: pd.Series | np.ndarray | float) -> np.ndarray:
    """Round amounts of money to whole fen, half away from zero (四舍五入).

    Parameters
    ----------
    yuan : Series, array or float, yuan
        Amounts of money.

    Returns
    -------
    numpy.ndarray of int64, fen (0.01 yuan)
        ``sign(y) * floor(|y| + 0.5)`` with ``y = 100 x``, after snapping ``y`` onto the nearest
        multiple of 0.5 when it lies within ``max(1e-6, 16 ulp(y))`` of it, so that binary
        representation noise (``1.005 * 100 = 100.49999...``) does not decide the rounding.
    """
    return round_fen(np.asarray(yuan, dtype=float) * 100.0)


def round_fen(fen: np.ndarray) -> np.ndarray:
    """Round amounts already in fen (float) to whole fen, as :func:`to_fen` does."""
    fen = np.asarray(fen, dtype=float)
    half = np.round(fen * 2.0) / 2.0
    tolerance = np.maximum(_FEN_SNAP, _FEN_SNAP_ULPS * np.finfo(float).eps * np.abs(fen))
    snapped = np.where(np.abs(fen - half) <= tolerance, half, fen)
    return (np.sign(snapped) * np.floor(np.abs(snapped) + 0.5)).astype(np.int64)


def from_fen(fen: np.ndarray | int) -> np.ndarray:
    """Turn whole fen into float yuan (``fen / 100``, the nearest double to the exact amount)."""
    return np.asarray(fen, dtype=np.int64) / 100.0
