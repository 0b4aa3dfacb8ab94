"""The loss written out as a sum of squared residuals, with the data's numbers.

Owns the per-point view of the loss that a learner reads next to the fit: the
residuals ``r_i = y_i − (a·x_i + b)``, the equation
``MSE = (1/n)·(r₁² + … + rₙ²) = (1/50)·(0.412² + (−0.13)² + …) = 0.1234`` with
real numbers (as Coursera's ``plt_intuition`` shows it) and one point's share
of the loss for a hover read-out.

numpy and the standard library only: no torch, no Qt, nothing from the GUI.
Everything here is O(n) numpy with no Python loop over the points, so the GUI
may call it once a frame for the points it shows.
"""

from __future__ import annotations

import math

import numpy as np

from sgd_viewer.core.problem import REDUCTIONS

#: Residual terms written out before the "…" when there are too many to show.
LEADING_TERMS = 4

_MINUS = "\u2212"  # a real minus sign: a hyphen reads as a dash in a formula
_NAMES = {"mean": "MSE", "sum": "SSE"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def residuals(x: np.ndarray, y: np.ndarray, a: float, b: float) -> np.ndarray:
    """``r_i = y_i − (a·x_i + b)`` as float64; non-finite where it overflows.

    Parameters
    ----------
    x, y
        Equal-length 1-D arrays of the points.
    a, b
        Slope and intercept of the line.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    # A diverged run's huge a·x overflows to inf; the callers say so in words.
    with np.errstate(over="ignore", invalid="ignore"):
        return y - (float(a) * x + float(b))


def _number(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, with a real minus sign.

    Plain decimals up to a million (``1230`` reads better than ``1.23e+03``
    in a formula), exponent form beyond.
    """
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text and 1.0 <= abs(value) < 1e6:
        text = f"{float(text):.0f}"
    return text.replace("-", _MINUS)


def _term(value: float) -> str:
    """One squared residual; negative ones in parentheses, so that ``(−0.13)²``
    cannot be read as ``−(0.13²)``."""
    text = _number(value, 3)
    return f"({text})²" if text.startswith(_MINUS) else f"{text}²"


def _symbolic(n: int) -> str:
    """``r₁² + r₂² + … + rₙ²``, or every term for up to three points."""
    if n <= 3:
        return " + ".join(f"r{str(i).translate(_SUBSCRIPTS)}²" for i in range(1, n + 1))
    return "r₁² + r₂² + … + rₙ²"


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown loss reduction {reduction!r}; use 'mean' or 'sum'")


def loss_equation(
    x: np.ndarray,
    y: np.ndarray,
    a: float,
    b: float,
    reduction: str = "mean",
    max_terms: int = 12,
    loss: float | None = None,
) -> str:
    """The loss at ``(a, b)`` written as a sum of the points' squared residuals.

    All terms are written out for up to ``max_terms`` points; beyond that the
    first :data:`LEADING_TERMS`, then "…", then the last. Residuals have 3
    significant digits, the loss 6, and the loss is exactly the mean (or sum)
    of the squared residuals, not of the rounded terms shown.

    Parameters
    ----------
    x, y
        The points (the ones shown, for a subsampled dataset).
    a, b
        The line. Non-finite values (a diverged run) give a short sentence.
    reduction
        ``"mean"`` (MSE) or ``"sum"`` (SSE).
    max_terms
        Most residual terms to write out in full.
    loss
        The loss, when the caller has it already (the closed form from the
        data's statistics): then only the residuals written out are
        computed, which keeps a frame's cost flat at n = 10 million.

    Returns
    -------
    str
        For example ``MSE = (1/3)·(r₁² + r₂² + r₃²) = (1/3)·(0.5² + (−0.25)²
        + 0²) = 0.104167``.
    """
    _check_reduction(reduction)
    name = _NAMES[reduction]
    if not (math.isfinite(a) and math.isfinite(b)):
        return f"{name}: undefined, the line's a or b is not a finite number"
    n = len(x)
    if n == 0:
        return f"{name}: no points"
    lead = min(LEADING_TERMS, max(max_terms - 1, 1))
    if loss is not None and n > max_terms:
        ends = np.r_[0:lead, n - 1]  # only the residuals written out
        r = residuals(np.asarray(x)[ends], np.asarray(y)[ends], a, b)
        value = float(loss)
    else:
        r = residuals(x, y, a, b)
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(np.dot(r, r))
        value = total / n if reduction == "mean" else total
    if not math.isfinite(value):
        return f"{name}: too large to write out (the residuals overflow)"
    if n <= max_terms:
        shown = [_term(v) for v in r.tolist()]
    else:
        shown = [_term(v) for v in r[:lead].tolist()] + ["…", _term(float(r[-1]))]
    terms, shown_value = " + ".join(shown), _number(value, 6)
    if reduction == "mean":
        symbols = f"(1/{n})·({_symbolic(n)})"
        return f"{name} = {symbols} = (1/{n})·({terms}) = {shown_value}"
    return f"{name} = {_symbolic(n)} = {terms} = {shown_value}"


def point_share(
    x: np.ndarray,
    y: np.ndarray,
    a: float,
    b: float,
    index: int,
    reduction: str = "mean",
) -> dict[str, float]:
    """One point's part in the loss, for a hover read-out.

    Parameters
    ----------
    x, y
        The points.
    a, b
        The line.
    index
        Which point (negative counts from the end, as in Python).
    reduction
        ``"mean"`` or ``"sum"``: decides ``contribution`` only.

    Returns
    -------
    dict
        ``x``, ``y``, ``residual`` (``r_i``), ``squared`` (``r_i²``),
        ``share`` (``r_i² / Σ r²``, 0 when the loss is 0, so the shares of all
        points sum to 1) and ``contribution`` (what the point adds to the loss:
        ``r_i²/n`` for the mean, ``r_i²`` for the sum). With a non-finite line
        every value but ``x`` and ``y`` is NaN; nothing raises.
    """
    _check_reduction(reduction)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    if not -n <= index < n:
        raise IndexError(f"point {index} out of range for {n} points")
    nan = float("nan")
    result = {"x": float(x[index]), "y": float(y[index])}
    if not (math.isfinite(a) and math.isfinite(b)):
        keys = ("residual", "squared", "share", "contribution")
        return result | dict.fromkeys(keys, nan)
    r = residuals(x, y, a, b)
    mine = float(r[index])
    with np.errstate(over="ignore", invalid="ignore"):
        squared = mine * mine if math.isfinite(mine) else nan
        # Relative to the largest residual: the share stays exact where the
        # squares themselves would overflow.
        biggest = float(np.max(np.abs(r)))
        if biggest == 0.0:
            share = 0.0
        elif math.isfinite(biggest):
            scaled = r / biggest
            share = (mine / biggest) ** 2 / float(np.dot(scaled, scaled))
        else:
            share = nan
    contribution = squared / n if reduction == "mean" else squared
    return result | {
        "residual": mine,
        "squared": squared,
        "share": share,
        "contribution": contribution,
    }


__all__ = ["LEADING_TERMS", "loss_equation", "point_share", "residuals"]
