"""Arrows on the loss surface that say why a step went where it went.

- The **gradient field**: −∇L on a grid over the view (Coursera's quiver),
  each arrow's length growing with the square root of |∇L| (so the flat floor
  still shows a direction), redrawn with the surface when the view changes
  and cached as a pixmap between.
- Per visible run, the **step taken** to the shown step (from the step before
  it): for momentum and Adam it differs from −η∇L.
- Per visible momentum run (SGD + momentum, Nesterov), the **momentum carried**
  into the next step, μ·(the step taken): torch's heavy ball takes
  ``−η·g + μ·Δ`` next, so it and the −η∇L arrow add up to the next step
  (lilipads' "momentum arrows").

Pure drawing: the presenter hands the vectors; nothing here computes a step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from sgd_viewer.core.problem import Problem, ViewWindow
from sgd_viewer.gui.native_items import PixelMarker, cache_as_pixmap

FIELD_COLOUR = "#ffffffb0"
FIELD_CELLS = 14
#: The longest field arrow, as a share of a grid cell.
FIELD_REACH = 0.8
ARROW_HEAD_PX = 10.0
#: An arrow shorter than this many pixels is not drawn (below what a screen
#: shows as a direction).
SHORTEST_PX = 1.0


@dataclass(frozen=True)
class RunArrow:
    """One arrow of one run: from ``origin`` by ``vector`` (data units)."""

    colour: str
    origin: tuple[float, float]
    vector: tuple[float, float]


def field_segments(problem: Problem, view: ViewWindow, reduction: str, cells: int):
    """``x, y`` of the field's arrows as segment pairs with their heads, in
    data units, for ``connect="pairs"``."""
    a = np.linspace(view.a_min, view.a_max, cells + 2)[1:-1]
    b = np.linspace(view.b_min, view.b_max, cells + 2)[1:-1]
    grid_a, grid_b = np.meshgrid(a, b)
    grad_a, grad_b = problem.gradient(grid_a, grid_b, reduction)
    # The data vector −∇L, measured in grid cells (about square on screen),
    # so that each arrow points on screen where descent would go.
    cell_a = (view.a_max - view.a_min) / (cells + 1)
    cell_b = (view.b_max - view.b_min) / (cells + 1)
    with np.errstate(all="ignore"):
        down_a, down_b = -grad_a / cell_a, -grad_b / cell_b
        size = np.hypot(down_a, down_b)
        biggest = np.nanmax(size) if size.size else 0.0
        if not (biggest > 0 and math.isfinite(biggest)):
            return np.empty(0), np.empty(0)
        length = FIELD_REACH * np.sqrt(size / biggest)
        unit_a, unit_b = down_a / size, down_b / size
    keep = np.isfinite(unit_a) & np.isfinite(unit_b) & (length > 0.05)
    ux, uy, lengths = unit_a[keep], unit_b[keep], length[keep]
    x0, y0 = grid_a[keep], grid_b[keep]
    tip_x = x0 + ux * lengths * cell_a
    tip_y = y0 + uy * lengths * cell_b
    head = 0.25 * lengths
    pieces_x, pieces_y = [np.column_stack([x0, tip_x])], [np.column_stack([y0, tip_y])]
    for turn in (0.45, -0.45):  # the two strokes of each head
        cos, sin = math.cos(math.pi - turn), math.sin(math.pi - turn)
        hx = (ux * cos - uy * sin) * head
        hy = (ux * sin + uy * cos) * head
        pieces_x.append(np.column_stack([tip_x, tip_x + hx * cell_a]))
        pieces_y.append(np.column_stack([tip_y, tip_y + hy * cell_b]))
    return np.concatenate(pieces_x).ravel(), np.concatenate(pieces_y).ravel()


class SurfaceArrows:
    """The gradient field and the runs' arrows of one surface plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._field = pg.PlotDataItem(
            pen=pg.mkPen(FIELD_COLOUR, width=1), connect="pairs"
        )
        self._field.setZValue(-5)  # over the heatmap, under the rings and paths
        self._field.setVisible(False)
        plot.addItem(self._field, ignoreBounds=True)
        cache_as_pixmap(self._field)
        self._steps: list[PixelMarker] = []
        self._momenta: list[PixelMarker] = []
        self.field_shown = False
        #: What was drawn last, for tests: arrows by kind.
        self.drawn: dict[str, list[RunArrow]] = {"step": [], "momentum": []}

    def set_field(self, problem: Problem | None, view: ViewWindow, reduction: str):
        """Draw (or clear) the field for ``view``; only while it is shown."""
        if not self.field_shown or problem is None:
            self._field.setData([], [])
            return
        x, y = field_segments(problem, view, reduction, FIELD_CELLS)
        self._field.setData(x, y)

    def show_field(self, shown: bool) -> None:
        self.field_shown = shown
        self._field.setVisible(shown)

    def field_data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._field.getData()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

    def show_runs(self, steps: list[RunArrow], momenta: list[RunArrow]) -> None:
        """The step-taken and momentum arrows of the visible runs."""
        self.drawn = {"step": steps, "momentum": momenta}
        self._show(self._steps, steps, Qt.PenStyle.SolidLine)
        self._show(self._momenta, momenta, Qt.PenStyle.DashLine)

    def _show(self, pool: list[PixelMarker], arrows: list[RunArrow], style) -> None:
        if not arrows and not any(marker.isVisible() for marker in pool):
            return  # nothing shown, nothing to show: the usual frame
        view_box = self._plot.getViewBox()
        pixel_a, pixel_b = view_box.viewPixelSize()
        while len(pool) < len(arrows):
            marker = PixelMarker(pg.mkPen("k", width=2.5), "k")
            marker.setZValue(15)
            self._plot.addItem(marker, ignoreBounds=True)
            pool.append(marker)
        for marker, arrow in zip(pool, arrows, strict=False):
            dx = arrow.vector[0] / pixel_a if pixel_a > 0 else math.nan
            dy = -arrow.vector[1] / pixel_b if pixel_b > 0 else math.nan
            length = math.hypot(dx, dy)
            if not (length >= SHORTEST_PX and math.isfinite(length)):
                marker.setVisible(False)
                continue
            pen = pg.mkPen(arrow.colour, width=2.5, style=style)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            marker.setPen(pen)
            marker.setBrush(pg.mkBrush(arrow.colour))
            marker.set_arrow(dx, dy, min(ARROW_HEAD_PX, 0.6 * length))
            marker.setPos(*arrow.origin)
            marker.setVisible(True)
        for marker in pool[len(arrows) :]:
            marker.setVisible(False)
