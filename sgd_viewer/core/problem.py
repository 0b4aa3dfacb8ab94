"""The least-squares problem of fitting ``y = a·x + b``, in closed form.

Owns the centred sufficient statistics of a dataset (float64) and everything that
follows from them exactly: loss, gradient, Hessian, optimum, the stable
learning-rate bound, the loss grid and the iso-loss ellipses drawn by the GUI.

numpy and the standard library only: no torch, no Qt. Everything here is cheap
(independent of n) once the statistics exist, so the GUI may call it per frame.

The mean-reduced loss is written relative to the optimum::

    L(a, b) = Cxx·(a − a*)² + (a·x̄ + b − ȳ)² + R

with ``a* = Cxy / Cxx`` and ``R`` the mean squared residual at the optimum. This
is algebraically the expanded ``Cyy − 2a·Cxy + a²·Cxx + (a·x̄ + b − ȳ)²`` of
DESIGN.md §4, but it never subtracts two large numbers to get a small one, so it
stays accurate right next to the optimum, where learners look hardest.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

REDUCTIONS = ("mean", "sum")


@functools.lru_cache(maxsize=4)
def _ones(n: int) -> np.ndarray:
    """A vector of ones: a BLAS dot with it sums 3× faster than ``np.mean``."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


#: Points per chunk of the statistics' passes: the chunk's deviations stay in
#: the CPU's cache, so each pass reads x and y once and writes nothing to
#: memory (whole-array temporaries made the statistics of 1e6 points 3× slower).
_CHUNK = 1 << 16


def _chunks(x: np.ndarray, y: np.ndarray):
    """``(x part, y part, ones)`` for consecutive chunks of the points."""
    ones = _ones(min(x.shape[0], _CHUNK))
    for start in range(0, x.shape[0], _CHUNK):
        xs = x[start : start + _CHUNK]
        yield xs, y[start : start + _CHUNK], ones[: xs.shape[0]]


def _deviations(x: np.ndarray, y: np.ndarray, x_mean: float, y_mean: float):
    """``(x − x_mean, y − y_mean, ones)`` chunk by chunk, in two reused buffers
    (the caller may change them in place)."""
    size = min(x.shape[0], _CHUNK)
    dx_buffer, dy_buffer = np.empty(size), np.empty(size)
    for xs, ys, ones in _chunks(x, y):
        m = xs.shape[0]
        dx = np.subtract(xs, x_mean, out=dx_buffer[:m])
        dy = np.subtract(ys, y_mean, out=dy_buffer[:m])
        yield dx, dy, ones


@dataclass(frozen=True)
class ViewWindow:
    """A rectangle of parameter space: ``a`` on the horizontal axis, ``b`` vertical."""

    a_min: float
    a_max: float
    b_min: float
    b_max: float

    def contains(self, a: float, b: float) -> bool:
        return self.a_min <= a <= self.a_max and self.b_min <= b <= self.b_max

    def expanded(self, factor: float) -> ViewWindow:
        """The window grown about its centre by ``factor`` in each direction."""
        ca, cb = (self.a_min + self.a_max) / 2, (self.b_min + self.b_max) / 2
        ha = (self.a_max - self.a_min) / 2 * factor
        hb = (self.b_max - self.b_min) / 2 * factor
        return ViewWindow(ca - ha, ca + ha, cb - hb, cb + hb)


@dataclass(frozen=True)
class Problem:
    """Centred sufficient statistics of ``(x, y)`` and the exact quadratic loss.

    Build it with :meth:`from_data`. All statistics are means (not sums).
    """

    n: int
    x_mean: float
    y_mean: float
    cxx: float
    cxy: float
    cyy: float
    residual: float

    @classmethod
    def from_data(cls, x: np.ndarray, y: np.ndarray) -> Problem:
        """Centred float64 statistics of the points ``(x, y)``: the means, the
        sums over deviations and the residuals at the optimum, in one pass
        chunk by chunk.

        Parameters
        ----------
        x, y
            Equal-length 1-D arrays with at least two points and ``x`` not constant
            (``sgd_viewer.core.data.validate_xy`` guarantees this for datasets).
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n = int(x.shape[0])
        if n < 2 or y.shape[0] != n:
            raise ValueError("need at least two points and as many y as x")
        # One pass over the points, chunk by chunk: each chunk is read from
        # memory once and its deviations stay in cache (three passes, one for
        # the means, one for the sums, one for the residuals, read 48 MB at
        # n = 1e6 and were most of the surface's cost). The deviations are
        # from a pilot point, the first chunk's means, and the residuals from
        # a pilot line, the first chunk's own fit; the corrected two-pass
        # algorithm then takes the pilots' offsets out exactly enough, as the
        # offsets are small against the spread. Residual sums about a line
        # near the optimum keep every digit for a near-perfect fit (Cyy −
        # Cxy²/Cxx would lose them all).
        size = min(n, _CHUNK)
        ones = _ones(size)
        x0 = float(np.dot(x[:size], ones)) / size
        y0 = float(np.dot(y[:size], ones)) / size
        dx_buffer, dy_buffer, r_buffer = np.empty(size), np.empty(size), np.empty(size)
        dx = np.subtract(x[:size], x0, out=dx_buffer)
        dy = np.subtract(y[:size], y0, out=dy_buffer)
        pilot_sxx = float(np.dot(dx, dx))
        pilot = float(np.dot(dx, dy)) / pilot_sxx if pilot_sxx > 0.0 else None
        slope0 = pilot or 0.0
        dx_sum = dy_sum = dxx = dxy = dyy = r_sum = rr = xr = 0.0
        for begin in range(0, n, size):
            xs, ys = x[begin : begin + size], y[begin : begin + size]
            m = xs.shape[0]
            part = ones[:m]
            dx = np.subtract(xs, x0, out=dx_buffer[:m])
            dy = np.subtract(ys, y0, out=dy_buffer[:m])
            r = np.multiply(dx, slope0, out=r_buffer[:m])
            r = np.subtract(dy, r, out=r)
            dx_sum += float(np.dot(dx, part))
            dy_sum += float(np.dot(dy, part))
            r_sum += float(np.dot(r, part))
            dxx += float(np.dot(dx, dx))
            dxy += float(np.dot(dx, dy))
            dyy += float(np.dot(dy, dy))
            rr += float(np.dot(r, r))
            xr += float(np.dot(dx, r))
        dx_bias, dy_bias, r_bias = dx_sum / n, dy_sum / n, r_sum / n
        cxx = dxx / n - dx_bias * dx_bias
        cxy = dxy / n - dx_bias * dy_bias
        cyy = dyy / n - dy_bias * dy_bias
        if not cxx > 0.0:
            raise ValueError("all x values are equal: no unique line")
        x_mean, y_mean = x0 + dx_bias, y0 + dy_bias
        if pilot is not None:
            # The residuals about the pilot line, less their fit to x: the
            # residuals at the optimum.
            cxr = xr / n - dx_bias * r_bias
            residual = (rr / n - r_bias * r_bias) - cxr * cxr / cxx
        else:  # the first chunk's x are all equal: a second pass, exactly
            slope = cxy / cxx
            residual_sum = 0.0
            for dx, dy, _ in _deviations(x, y, x_mean, y_mean):
                dx *= slope
                dy -= dx
                residual_sum += float(np.dot(dy, dy))
            residual = residual_sum / n
        return cls(n, x_mean, y_mean, cxx, cxy, max(cyy, 0.0), max(residual, 0.0))

    # ------------------------------------------------------------------ optimum
    @property
    def a_opt(self) -> float:
        """Closed-form least-squares slope."""
        return self.cxy / self.cxx

    @property
    def b_opt(self) -> float:
        """Closed-form least-squares intercept."""
        return self.y_mean - self.a_opt * self.x_mean

    def scale(self, reduction: str) -> float:
        """Factor from the mean-reduced loss to ``reduction`` (1 or n)."""
        if reduction == "mean":
            return 1.0
        if reduction == "sum":
            return float(self.n)
        raise ValueError(f"unknown loss reduction {reduction!r}; use 'mean' or 'sum'")

    def loss_opt(self, reduction: str = "mean") -> float:
        """The smallest loss any line reaches on these data."""
        return self.residual * self.scale(reduction)

    # --------------------------------------------------------- loss and slopes
    def loss(self, a, b, reduction: str = "mean"):
        """Loss at ``(a, b)``; scalars or broadcastable arrays."""
        slope_error = np.subtract(a, self.a_opt)
        centre_error = np.multiply(a, self.x_mean) + b - self.y_mean
        value = self.cxx * slope_error * slope_error + centre_error * centre_error
        return (value + self.residual) * self.scale(reduction)

    def gradient(self, a, b, reduction: str = "mean"):
        """``(∂L/∂a, ∂L/∂b)`` at ``(a, b)``; scalars or broadcastable arrays."""
        k = 2.0 * self.scale(reduction)
        centre_error = np.multiply(a, self.x_mean) + b - self.y_mean
        grad_a = k * (
            self.cxx * np.subtract(a, self.a_opt) + self.x_mean * centre_error
        )
        grad_b = k * centre_error
        return grad_a, grad_b

    def hessian(self, reduction: str = "mean") -> np.ndarray:
        """The constant Hessian ``2·[[Cxx + x̄², x̄], [x̄, 1]]`` (× n for sum)."""
        k = 2.0 * self.scale(reduction)
        return k * np.array(
            [[self.cxx + self.x_mean**2, self.x_mean], [self.x_mean, 1.0]]
        )

    def eigenvalues(self, reduction: str = "mean") -> tuple[float, float]:
        """Hessian eigenvalues ``(λmin, λmax)``, computed without cancellation."""
        k = 2.0 * self.scale(reduction)
        p = self.cxx + self.x_mean**2  # top-left entry
        half_trace = (p + 1.0) / 2.0
        half_gap = math.hypot((p - 1.0) / 2.0, self.x_mean)
        big = half_trace + half_gap
        small = self.cxx / big  # det = Cxx, exact; avoids big − gap cancelling
        return k * small, k * big

    def condition_number(self) -> float:
        """``λmax / λmin`` of the Hessian; large means a long narrow valley."""
        small, big = self.eigenvalues()
        return big / small

    def lr_max(self, reduction: str = "mean") -> float:
        """Largest learning rate for which full-batch gradient descent is stable.

        Plain gradient descent on a quadratic converges iff ``lr < 2 / λmax``.
        """
        return 2.0 / self.eigenvalues(reduction)[1]

    # ------------------------------------------------------------- the surface
    def default_view(
        self, start: tuple[float, float] | None = None, margin: float = 0.3
    ) -> ViewWindow:
        """A window that holds the optimum and ``start`` with some room around.

        The spans never collapse to zero: each axis is at least as wide as the
        parameter change that raises the loss by the data's own spread.
        """
        a_lo = a_hi = self.a_opt
        b_lo = b_hi = self.b_opt
        if start is not None:
            a_lo, a_hi = min(a_lo, start[0]), max(a_hi, start[0])
            b_lo, b_hi = min(b_lo, start[1]), max(b_hi, start[1])
        # Parameter changes that raise the loss by about Cyy (or R): natural units.
        loss_unit = max(self.cyy, self.residual, 1e-300)
        a_unit = math.sqrt(loss_unit / self.cxx)
        b_unit = math.sqrt(loss_unit)
        a_span = max(a_hi - a_lo, a_unit, 1e-12 * max(1.0, abs(a_lo)))
        b_span = max(b_hi - b_lo, b_unit, 1e-12 * max(1.0, abs(b_lo)))
        a_mid, b_mid = (a_lo + a_hi) / 2, (b_lo + b_hi) / 2
        a_half = a_span * (0.5 + margin)
        b_half = b_span * (0.5 + margin)
        return ViewWindow(
            a_mid - a_half, a_mid + a_half, b_mid - b_half, b_mid + b_half
        )

    def loss_grid(
        self, view: ViewWindow, shape: tuple[int, int] = (200, 200), reduction="mean"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss on a regular grid over ``view``.

        Returns
        -------
        a_values, b_values, losses
            1-D axes of lengths ``shape[0]`` and ``shape[1]`` and the loss array
            of ``shape``, indexed ``losses[i_a, j_b]``.
        """
        a_values = np.linspace(view.a_min, view.a_max, shape[0])
        b_values = np.linspace(view.b_min, view.b_max, shape[1])
        losses = self.loss(a_values[:, None], b_values[None, :], reduction)
        return a_values, b_values, losses

    def contour_levels(
        self, view: ViewWindow, count: int = 10, reduction: str = "mean"
    ) -> np.ndarray:
        """Losses for ``count`` iso-loss curves, log-spaced above the optimum.

        The outermost level is the highest loss at the corners of ``view``; the
        innermost is 1/1000 of that excess, so the rings crowd toward the minimum
        the way a learner expects from a bowl.
        """
        corners_a = np.array([view.a_min, view.a_min, view.a_max, view.a_max])
        corners_b = np.array([view.b_min, view.b_max, view.b_min, view.b_max])
        top = float(np.max(self.loss(corners_a, corners_b)))
        excess_top = max(top - self.residual, 1e-300)
        excess = excess_top * np.geomspace(1e-3, 0.9, count)
        return (self.residual + excess) * self.scale(reduction)

    def ellipses(
        self,
        levels: np.ndarray,
        reduction: str = "mean",
        points: int = 181,
        clip: ViewWindow | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact iso-loss curves ``L(a, b) = level`` as one NaN-separated path.

        The loss is an exact quadratic, so each level set is an ellipse about the
        optimum; no contouring of a grid is needed. Levels at or below the optimum
        are skipped. With ``clip`` only the arcs inside it are drawn, each with
        ``points`` vertices: the ellipses of ill-conditioned data are long and
        thin, and an even sampling of the whole ring would step right over the
        small part of it that crosses the view.

        Returns
        -------
        a, b
            Coordinates to draw with ``connect="finite"``.
        """
        scale = self.scale(reduction)
        metric = self.hessian("mean") / 2.0
        _, eigvecs = np.linalg.eigh(metric)  # columns: directions of λmin, λmax
        small, big = self.eigenvalues("mean")
        eigvals = np.array([small, big]) / 2.0
        centre = np.array([self.a_opt, self.b_opt])
        a_parts: list[np.ndarray] = []
        b_parts: list[np.ndarray] = []
        gap = np.array([np.nan])
        for level in np.asarray(levels, dtype=np.float64):
            excess = level / scale - self.residual
            if not excess > 0:
                continue
            radii = np.sqrt(excess / eigvals)
            # p(t) = centre + axis_u·cos t + axis_v·sin t
            axis_u, axis_v = eigvecs[:, 0] * radii[0], eigvecs[:, 1] * radii[1]
            if clip is None:
                arcs = [(0.0, 2.0 * np.pi)]
            else:
                arcs = _arcs_inside(centre, axis_u, axis_v, clip)
            for t_from, t_to in arcs:
                t = np.linspace(t_from, t_to, points)
                a = centre[0] + axis_u[0] * np.cos(t) + axis_v[0] * np.sin(t)
                b = centre[1] + axis_u[1] * np.cos(t) + axis_v[1] * np.sin(t)
                if clip is not None:  # rounding at the crossings
                    a = np.clip(a, clip.a_min, clip.a_max)
                    b = np.clip(b, clip.b_min, clip.b_max)
                a_parts += [a, gap]
                b_parts += [b, gap]
        if not a_parts:
            return np.empty(0), np.empty(0)
        return np.concatenate(a_parts), np.concatenate(b_parts)


def _arcs_inside(
    centre: np.ndarray, axis_u: np.ndarray, axis_v: np.ndarray, clip: ViewWindow
) -> list[tuple[float, float]]:
    """Parameter intervals where ``centre + u·cos t + v·sin t`` lies in ``clip``.

    Each side of the window meets the ellipse where ``R·cos(t − φ) = d``; those
    angles cut the ring into arcs, and an arc is kept if its middle is inside.
    """
    reach_a = math.hypot(axis_u[0], axis_v[0])
    reach_b = math.hypot(axis_u[1], axis_v[1])
    if clip.contains(centre[0] - reach_a, centre[1] - reach_b) and clip.contains(
        centre[0] + reach_a, centre[1] + reach_b
    ):
        return [(0.0, 2.0 * np.pi)]  # the whole ring's bounding box is inside
    cuts = [0.0, 2.0 * np.pi]
    for k, bounds in ((0, (clip.a_min, clip.a_max)), (1, (clip.b_min, clip.b_max))):
        reach = math.hypot(axis_u[k], axis_v[k])
        phase = math.atan2(axis_v[k], axis_u[k])
        for bound in bounds:
            if reach > 0 and abs(bound - centre[k]) <= reach:
                turn = math.acos((bound - centre[k]) / reach)
                cuts += [(phase + turn) % (2 * np.pi), (phase - turn) % (2 * np.pi)]
    cuts.sort()
    arcs = []
    for t_from, t_to in itertools.pairwise(cuts):
        if t_to - t_from <= 0:
            continue
        middle = (t_from + t_to) / 2
        a = centre[0] + axis_u[0] * math.cos(middle) + axis_v[0] * math.sin(middle)
        b = centre[1] + axis_u[1] * math.cos(middle) + axis_v[1] * math.sin(middle)
        if clip.contains(a, b):
            arcs.append((t_from, t_to))
    return arcs
