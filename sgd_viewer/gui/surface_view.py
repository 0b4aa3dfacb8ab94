"""The loss surface over (a, b): heatmap, exact iso-loss ellipses, the path.

A thin pyqtgraph view over a :class:`~sgd_viewer.core.problem.Problem`. The
surface is recomputed from the closed form whenever the visible range changes
(0.2 ms for 200×200), so zooming stays exact. The start is a draggable handle;
a click on empty surface moves it too. The view only reports those gestures
(signals); what they mean is decided by the main window.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal

from sgd_viewer.core.problem import Problem, ViewWindow
from sgd_viewer.gui.legends import legend_stand_in
from sgd_viewer.gui.level_labels import LevelLabels
from sgd_viewer.gui.native_items import (
    DataPath,
    PixelMarker,
    PlotCanvas,
    cache_as_pixmap,
)
from sgd_viewer.gui.plot_chrome import ElidedTitle, add_outside_legend, cache_chrome
from sgd_viewer.gui.run_layers import RunDrawing, RunLayers, faint
from sgd_viewer.gui.stamped_path import StampedPath
from sgd_viewer.gui.surface_arrows import SurfaceArrows
from sgd_viewer.gui.surface_guess import SurfaceGuesses
from sgd_viewer.gui.view_framing import (
    EasedFraming,
    bounds_of,
    clipped,
    padded,
    union,
)

GRID_SHAPE = (200, 200)
CONTOUR_COUNT = 10
#: Most vertices of a drawn path or curve; the full history is thinned to this.
#: About the plots' width in pixels: more would cost paint time (an antialiased
#: 5,000-vertex path took 3 ms a frame offscreen) and show nothing new.
MAX_PATH_VERTICES = 1500

PATH_COLOUR = "#d62728"
CURRENT_COLOUR = "#d62728"
OPTIMUM_COLOUR = "#ffd700"
START_COLOUR = "#ff7f0e"
ARROW_COLOUR = "#c000c0"
ARROW_HEAD_PX = 14.0
#: The arrow's length on screen: the next plain gradient step η·|∇L| in
#: pixels, kept between these (a shorter arrow is all head; a longer one
#: would cross the plot). Below ARROW_VANISH_PX the step is under the
#: screen's resolution and the arrow is hidden.
ARROW_MIN_PX = 2 * ARROW_HEAD_PX
ARROW_MAX_SHARE = 0.3
ARROW_VANISH_PX = 0.5
#: Paths are kept in view up to this many times the size of the box around
#: the start, the optimum and the current points, on each side.
PATH_REACH = 10.0


#: Share of white mixed into the heatmap's colours: a paled heatmap keeps dark
#: contours, the red path and the labels readable at both ends of the map.
HEATMAP_PALING = 0.3


def _paled_colour_map(name: str, white_share: float) -> pg.ColorMap:
    """The colour map ``name`` mixed with white. Mixed into the colours, not
    drawn with opacity: an opaque heatmap is a plain copy to the screen, and
    the colour bar shows exactly the colours of the map."""
    positions, colours = pg.colormap.get(name).getStops(mode=pg.ColorMap.BYTE)
    rgb = colours[:, :3].astype(np.float64)
    paled = np.round(rgb * (1 - white_share) + 255 * white_share).astype(np.uint8)
    return pg.ColorMap(positions, np.column_stack([paled, colours[:, 3]]))


class SurfaceView(PlotCanvas):
    """Contour map of the loss with the optimizer's path.

    Signals
    -------
    start_dragging(float, float)
        The start handle is being dragged and is now at ``(a, b)``.
    start_dropped(float, float)
        The handle was released (or the empty surface clicked) at ``(a, b)``.
    """

    start_dragging = Signal(float, float)
    start_dropped = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("surfacePlot")
        self.setAccessibleName("surfacePlot")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", "a (slope)")
        plot.setLabel("left", "b (intercept)")
        self._title = ElidedTitle(self, plot)
        self._title.set_text("Loss surface L(a, b)")
        # Below the plot area: inside, it covered the handle and the paths.
        self._legend = add_outside_legend(plot, columns=3, labelTextSize="8pt")
        self._image = pg.ImageItem(axisOrder="col-major")
        self._image.setZValue(-10)
        plot.addItem(self._image)
        self._colour_bar = pg.ColorBarItem(
            colorMap=_paled_colour_map("viridis", HEATMAP_PALING),
            label="log₁₀ loss",
            interactive=False,
            width=15,
        )
        self._colour_bar.setImageItem(self._image, insert_in=plot)
        # Title, axes and colour bar move only with the view (see cache_chrome).
        cache_chrome(plot, still_axes=("left", "bottom"))
        cache_as_pixmap(self._colour_bar)
        self._contours = pg.PlotDataItem(
            pen=pg.mkPen("#00000080", width=1), connect="finite", name="iso-loss"
        )
        self._preview = pg.PlotDataItem(
            pen=pg.mkPen("#000000", width=2, style=Qt.PenStyle.DotLine),
            name="preview (200 steps)",
        )
        view_box = plot.getViewBox()
        # Drawn by Qt in C++ every frame (see native_items), and not
        # antialiased: an antialiased wide stroke is rasterised along its
        # whole length, off-view parts included, so a path zigzagging far
        # outside the view (adaptive optimizers at high lr) cost 0.1-0.4 s a
        # frame; without antialiasing Qt clips it to the view.
        # Two pixels wide, stamped from one-pixel lines (see stamped_path).
        self._path = StampedPath(view_box, pg.mkPen(PATH_COLOUR, width=2))
        # The selected run's path after the shown step (timeline), and the
        # other runs' paths and points.
        self._rest = DataPath(view_box, pg.mkPen(faint(PATH_COLOUR), width=2))
        self._path_colour = PATH_COLOUR
        self._others = RunLayers(plot, width=1, marker_px=9)
        self._arrow = PixelMarker(
            pg.mkPen(ARROW_COLOUR, width=3, cap=Qt.PenCapStyle.FlatCap),
            ARROW_COLOUR,
        )
        self._optimum = pg.ScatterPlotItem(
            size=20, symbol="star", brush=OPTIMUM_COLOUR, pen="k", name="optimum"
        )
        self._current = PixelMarker.circle(11, "w", CURRENT_COLOUR)
        self._start = pg.TargetItem(
            pos=(0.0, 0.0),
            size=16,
            pen=pg.mkPen(START_COLOUR, width=3),
            hoverPen=pg.mkPen("#ffffff", width=3),
            movable=True,
            label="start",
            labelOpts={"color": START_COLOUR, "offset": (8, -8)},
        )
        self._start.setToolTip("Drag to choose where descent starts")
        # Heatmap and rings change only with the view: cache them as pixmaps.
        # (A PlotDataItem paints through its child curve: both are cached.)
        for item in (self._image, self._contours):
            cache_as_pixmap(item)
        current_style = {
            "symbol": "o",
            "size": 11,
            "brush": CURRENT_COLOUR,
            "pen": "w",
        }
        self._stand_ins: dict = {}
        # In drawing order (the current point above the optimum's star), each
        # with its legend entry.
        plot.addItem(self._contours)
        plot.addItem(self._preview)
        plot.addItem(self._rest, ignoreBounds=True)
        self._add_native(self._path, "path", pen=self._path.pen())
        self._add_native(
            self._arrow, "−η∇L (GD step)", pen=pg.mkPen(ARROW_COLOUR, width=3)
        )
        plot.addItem(self._optimum)
        # Still while the path moves: drawn from pixmaps, not in Python.
        cache_as_pixmap(self._optimum)
        cache_as_pixmap(self._start)
        self._add_native(self._current, "current", scatter=True, **current_style)
        self._current.setVisible(False)  # until there is a current point
        self._arrow.setVisible(False)
        plot.addItem(self._start)
        self.level_labels = LevelLabels(self.getPlotItem())
        self.arrows = SurfaceArrows(self.getPlotItem())
        self._start.sigPositionChanged.connect(self._on_handle_moved)
        self._start.sigPositionChangeFinished.connect(self._on_handle_released)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        # Shorter than an eased framing's frame: the map follows it as it glides.
        self._refresh_timer.setInterval(20)
        self._refresh_timer.timeout.connect(self._refresh_surface)
        plot.getViewBox().sigRangeChanged.connect(self._refresh_timer.start)
        self.framing = EasedFraming(view_box, self)
        self.guesses = SurfaceGuesses(self)
        #: The lr of the selected run (the arrow is its plain gradient step).
        self.arrow_lr = 0.01
        #: The arrow's step ``η·|∇L|`` in data units and its drawn length in
        #: pixels (``0`` when hidden), for the readouts and tests.
        self.arrow_step = math.nan
        self.arrow_length_px = 0.0
        self._drawings: list[RunDrawing] = []
        self._problem: Problem | None = None
        self._reduction = "mean"
        self._moving_handle_programmatically = False
        self.current: tuple[float, float] | None = None
        self.levels = np.empty(0)
        self._legend.removeItem(self._preview)

    def _add_native(
        self, item, name: str, scatter: bool = False, **legend_style
    ) -> None:
        # The view's range is set by show_window, never fitted to these.
        self.getPlotItem().addItem(item, ignoreBounds=True)
        stand_in = legend_stand_in(item, scatter, **legend_style)
        self._legend.addItem(stand_in, name)
        self._stand_ins[item] = stand_in

    def _show_native(self, item, shown: bool = True) -> None:
        """Show ``item`` unless its legend entry was clicked to hide it."""
        item.setVisible(shown and self._stand_ins[item].isVisible())

    # ------------------------------------------------------------- the data
    def show_caption(self, note: str) -> None:
        """The title: which loss, and ``note`` (e.g. the scaling) after it."""
        what = (
            "mean squared error"
            if self._reduction == "mean"
            else "sum of squared errors"
        )
        self._title.set_text(f"Loss surface L(a, b): {what}{note}")

    def set_problem(
        self,
        problem: Problem,
        reduction: str,
        start: tuple[float, float],
        view: ViewWindow | None = None,
    ) -> None:
        """Show the surface of ``problem`` over ``view`` (default: fits start)."""
        self._problem, self._reduction = problem, reduction
        self.show_caption("")
        view = view or problem.default_view(start)
        self._optimum.setData([problem.a_opt], [problem.b_opt])
        self.set_start(*start)
        self.show_window(view)

    def show_window(self, view: ViewWindow) -> None:
        """Make ``view`` the visible range and draw the surface for it now."""
        self.getPlotItem().getViewBox().setRange(
            xRange=(view.a_min, view.a_max), yRange=(view.b_min, view.b_max), padding=0
        )
        self._refresh_surface()

    def visible_window(self) -> ViewWindow:
        (a_min, a_max), (b_min, b_max) = self.getPlotItem().getViewBox().viewRange()
        return ViewWindow(a_min, a_max, b_min, b_max)

    def _refresh_surface(self) -> None:
        """Heatmap and ellipses for the visible range, from the closed form."""
        problem = self._problem
        if problem is None:
            return
        view = self.visible_window()
        _, _, losses = problem.loss_grid(view, GRID_SHAPE, self._reduction)
        log_losses = np.log10(np.maximum(losses, np.finfo(float).tiny))
        self._image.setImage(log_losses, autoLevels=False)
        self._image.setRect(
            QRectF(
                view.a_min, view.b_min, view.a_max - view.a_min, view.b_max - view.b_min
            )
        )
        low, high = float(log_losses.min()), float(log_losses.max())
        if not high > low:
            high = low + 1.0
        self._colour_bar.setLevels((low, high))
        self.levels = problem.contour_levels(view, CONTOUR_COUNT, self._reduction)
        a, b = problem.ellipses(self.levels, self._reduction, clip=view.expanded(3.0))
        self._contours.setData(a, b)
        self.level_labels.place(
            self.levels, a, b, view, [self.start_position, self.current]
        )
        self.arrows.set_field(problem, view, self._reduction)
        self._update_arrow()

    # ------------------------------------------------------------- framing
    def keep_in_view(self, points: list[tuple[float, float]]) -> None:
        """Grow the view (eased) to take in ``points`` that left it: the
        start, the optimum and every visible run's current point."""
        if self._problem is None or not points:
            return
        xs, ys = zip(*points, strict=True)
        box = bounds_of(xs, ys)
        if box is None:
            return
        # The paths too, within reason: a run that blew up would otherwise
        # shrink everything else to a dot.
        reach = padded(box, PATH_REACH)
        if self._drawings:  # all paths in one pass: this runs every frame
            path = bounds_of(
                np.concatenate([drawing.x for drawing in self._drawings]),
                np.concatenate([drawing.y for drawing in self._drawings]),
            )
            if path is not None:
                box = union(box, clipped(path, reach))
        self.framing.keep(box)

    def settle(self) -> None:
        """Finish a framing under way and draw the surface for it now
        (screenshots and tests, which cannot wait for the glide)."""
        self.framing.finish()
        self._refresh_timer.stop()
        self._refresh_surface()

    def show_field(self, shown: bool) -> None:
        """The gradient field over the surface, on or off."""
        if shown != self.arrows.field_shown:
            self.arrows.show_field(shown)
            self._refresh_surface()

    def frame_all(self) -> None:
        """Frame the start, the optimum and every drawn path, and follow the
        runs again (after a zoom by hand)."""
        if self._problem is None:
            return
        xs = [self.start_position[0], self._problem.a_opt]
        ys = [self.start_position[1], self._problem.b_opt]
        for drawing in self._drawings:
            xs.extend(drawing.x)
            ys.extend(drawing.y)
        self.framing.frame(bounds_of(xs, ys))

    # ------------------------------------------------------------- the path
    def set_path(self, a: np.ndarray, b: np.ndarray) -> None:
        """The path so far (already decimated by the caller)."""
        self._path.set_data(a, b)

    def set_runs(self, selected: RunDrawing, others: list[RunDrawing]) -> None:
        """Every visible run: the selected one with the arrow and in the
        legend, each path strong up to the shown step and faint after it."""
        if selected.colour != self._path_colour:
            self._path_colour = selected.colour
            pen = pg.mkPen(selected.colour, width=2)
            pen.setCosmetic(True)
            self._path.setPen(pen)
            rest = pg.mkPen(faint(selected.colour), width=2)
            rest.setCosmetic(True)
            self._rest.setPen(rest)
            self._current.setBrush(pg.mkBrush(selected.colour))
            # The legend shows the selected run's colours.
            self._stand_ins[self._path].setPen(pg.mkPen(selected.colour, width=2))
            self._stand_ins[self._current].setBrush(pg.mkBrush(selected.colour))
            self._legend.refresh()
        self._drawings = [selected, *others]
        cut = max(selected.cut, 1)
        self._path.set_data(selected.x[:cut], selected.y[:cut])
        if cut < selected.x.size:
            self._rest.set_data(selected.x[cut - 1 :], selected.y[cut - 1 :])
        elif self._rest.xData.size:  # already empty while following the run
            self._rest.set_data([], [])
        self._others.show(others)

    def set_current(self, a: float, b: float) -> None:
        """Mark the current parameters and the downhill direction there."""
        self.current = (float(a), float(b))
        self._current.setPos(self.current[0], self.current[1])
        self._show_native(self._current)
        self._update_arrow()

    def set_preview(self, a: np.ndarray | None, b: np.ndarray | None) -> None:
        """The faint path a drag would lead to; ``None`` hides it (and its
        legend entry, which would only puzzle while nothing is dragged)."""
        self._legend.removeItem(self._preview)
        if a is None:
            self._preview.setData([], [])
        else:
            self._preview.setData(a, b)
            self._legend.addItem(self._preview, "preview: next 200 steps")

    def _update_arrow(self) -> None:
        """An arrow along −∇L at the current point, as long on screen as the
        next plain gradient step ``η·∇L`` (between ``ARROW_MIN_PX`` and
        ``ARROW_MAX_SHARE`` of the view), hidden when that step is below the
        screen's resolution: it shrinks as descent converges."""
        self.arrow_length_px = 0.0
        if self._problem is None or self.current is None:
            return
        a, b = self.current
        grad_a, grad_b = self._problem.gradient(a, b, self._reduction)
        self.arrow_step = self.arrow_lr * math.hypot(grad_a, grad_b)
        pixel_a, pixel_b = self.getPlotItem().getViewBox().viewPixelSize()
        if not (pixel_a > 0 and pixel_b > 0):  # not laid out yet
            self._show_native(self._arrow, False)
            return
        # The step in pixels (screen y points down, b up).
        dx = -self.arrow_lr * grad_a / pixel_a
        dy = self.arrow_lr * grad_b / pixel_b
        step_px = math.hypot(dx, dy)
        if not step_px >= ARROW_VANISH_PX or not math.isfinite(step_px):
            self._show_native(self._arrow, False)
            return
        view = self.visible_window()
        width_px = (view.a_max - view.a_min) / pixel_a
        height_px = (view.b_max - view.b_min) / pixel_b
        longest = max(ARROW_MAX_SHARE * min(width_px, height_px), ARROW_MIN_PX)
        length = min(max(step_px, ARROW_MIN_PX), longest)
        self._arrow.set_arrow(
            dx / step_px * length, dy / step_px * length, ARROW_HEAD_PX
        )
        self._arrow.setPos(a, b)
        self.arrow_length_px = length
        self._show_native(self._arrow)

    # ------------------------------------------------------------ the start
    def set_start(self, a: float, b: float) -> None:
        """Move the handle without reporting it as a user's drag."""
        self._moving_handle_programmatically = True
        try:
            self._start.setPos(a, b)
        finally:
            self._moving_handle_programmatically = False

    @property
    def start_position(self) -> tuple[float, float]:
        pos = self._start.pos()
        return float(pos.x()), float(pos.y())

    def start_handle(self) -> pg.TargetItem:
        return self._start

    def _on_handle_moved(self) -> None:
        if not self._moving_handle_programmatically:
            self.start_dragging.emit(*self.start_position)

    def _on_handle_released(self) -> None:
        self.start_dropped.emit(*self.start_position)

    def _on_scene_clicked(self, event) -> None:
        """A click on empty surface (not on the handle) sets the start there."""
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        view_box = self.getPlotItem().getViewBox()
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        if self._start.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view_box.mapSceneToView(event.scenePos())
        a, b = float(point.x()), float(point.y())
        self.set_start(a, b)
        self.start_dropped.emit(a, b)

    def scene_position(self, a: float, b: float) -> QPointF:
        """Where ``(a, b)`` is in scene coordinates (for tests and scripts)."""
        return self.getPlotItem().getViewBox().mapViewToScene(QPointF(a, b))
