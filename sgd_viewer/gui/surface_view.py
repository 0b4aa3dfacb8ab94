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


class SurfaceView(pg.PlotWidget):
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
        plot.setTitle("Loss surface L(a, b)", size="10pt")
        self._legend = plot.addLegend(
            offset=(-10, -10), brush=pg.mkBrush("#ffffffd8"), labelTextSize="8pt"
        )
        self._image = pg.ImageItem(axisOrder="col-major")
        self._image.setZValue(-10)
        # A paled heatmap keeps dark contours, the red path and the labels
        # readable at both ends of the colour map.
        self._image.setOpacity(0.7)
        plot.addItem(self._image)
        self._colour_bar = pg.ColorBarItem(
            colorMap=pg.colormap.get("viridis"),
            label="log₁₀ loss",
            interactive=False,
            width=15,
        )
        self._colour_bar.setImageItem(self._image, insert_in=plot)
        self._contours = pg.PlotDataItem(
            pen=pg.mkPen("#00000080", width=1), connect="finite", name="iso-loss"
        )
        self._preview = pg.PlotDataItem(
            pen=pg.mkPen("#000000", width=2, style=Qt.PenStyle.DotLine),
            name="preview (200 steps)",
        )
        # Not antialiased: an antialiased wide stroke is rasterised along its
        # whole length, off-view parts included, so a path zigzagging far
        # outside the view (adaptive optimizers at high lr) cost 0.1-0.4 s a
        # frame; without antialiasing Qt clips it to the view (~3 ms).
        self._path = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOUR, width=2),
            name="path of descent",
            antialias=False,
        )
        self._arrow_shaft = pg.PlotDataItem(
            pen=pg.mkPen(ARROW_COLOUR, width=3), name="−∇L (downhill)"
        )
        self._arrow_head = pg.ArrowItem(
            headLen=14, tailLen=0, brush=ARROW_COLOUR, pen=None
        )
        self._optimum = pg.ScatterPlotItem(
            size=20, symbol="star", brush=OPTIMUM_COLOUR, pen="k", name="optimum"
        )
        self._current = pg.ScatterPlotItem(
            size=11, symbol="o", brush=CURRENT_COLOUR, pen="w", name="current"
        )
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
        for item in (self._image, self._contours):
            item.setCacheMode(pg.QtWidgets.QGraphicsItem.DeviceCoordinateCache)
        for item in (
            self._contours,
            self._preview,
            self._path,
            self._arrow_shaft,
            self._optimum,
            self._current,
        ):
            plot.addItem(item)
        plot.addItem(self._arrow_head)
        plot.addItem(self._start)
        self._level_labels: list[pg.TextItem] = []
        self._start.sigPositionChanged.connect(self._on_handle_moved)
        self._start.sigPositionChangeFinished.connect(self._on_handle_released)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(30)
        self._refresh_timer.timeout.connect(self._refresh_surface)
        plot.getViewBox().sigRangeChanged.connect(self._refresh_timer.start)
        self._problem: Problem | None = None
        self._reduction = "mean"
        self._moving_handle_programmatically = False
        self._arrow_tip: tuple[float, float] | None = None
        self._arrow_angle: float | None = None
        self.current: tuple[float, float] | None = None
        self.levels = np.empty(0)
        self._legend.removeItem(self._preview)

    # ------------------------------------------------------------- the data
    def set_problem(
        self,
        problem: Problem,
        reduction: str,
        start: tuple[float, float],
        view: ViewWindow | None = None,
    ) -> None:
        """Show the surface of ``problem`` over ``view`` (default: fits start)."""
        self._problem, self._reduction = problem, reduction
        what = "mean squared error" if reduction == "mean" else "sum of squared errors"
        self.getPlotItem().setTitle(f"Loss surface L(a, b): {what}", size="10pt")
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
        self._place_level_labels(a, b, view)
        self._update_arrow_head()

    def _place_level_labels(self, a: np.ndarray, b: np.ndarray, view: ViewWindow):
        """Label every other ring where it crosses the view's top-most point."""
        for label in self._level_labels:
            self.getPlotItem().removeItem(label)
        self._level_labels = []
        breaks = np.flatnonzero(np.isnan(a) & np.isnan(b))
        rings = np.split(np.arange(a.size), breaks)
        # Keep labels off the edges, where they would be cut in half.
        inner = view.expanded(0.9)
        inside_a = (a >= inner.a_min) & (a <= inner.a_max)
        inside = inside_a & (b >= inner.b_min) & (b <= inner.b_max)
        shown = 0
        for level, ring in zip(self.levels[1::2], rings[1::2], strict=False):
            ring = ring[inside[ring]]
            if ring.size == 0:
                continue
            top = ring[np.argmax(b[ring])]
            label = pg.TextItem(
                f"{level:.3g}", color="#202020", anchor=(0.5, 1.0), fill="#ffffffb0"
            )
            label.setPos(a[top], b[top])
            self.getPlotItem().addItem(label)
            self._level_labels.append(label)
            shown += 1

    # ------------------------------------------------------------- the path
    def set_path(self, a: np.ndarray, b: np.ndarray) -> None:
        """The path so far (already decimated by the caller)."""
        self._path.setData(a, b)

    def set_current(self, a: float, b: float) -> None:
        """Mark the current parameters and the downhill direction there."""
        self.current = (float(a), float(b))
        self._current.setData([a], [b])
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
        """Shaft along −∇L at the current point, a fixed share of the view long.

        Gradients span many orders of magnitude, so the arrow shows direction
        only; its length is in the readouts.
        """
        if self._problem is None or self.current is None:
            return
        a, b = self.current
        grad_a, grad_b = self._problem.gradient(a, b, self._reduction)
        view = self.visible_window()
        width, height = view.a_max - view.a_min, view.b_max - view.b_min
        # Normalise in view units so the arrow looks as long in either direction.
        da, db = -grad_a / width, -grad_b / height
        norm = math.hypot(da, db)
        if not norm > 0 or not math.isfinite(norm):
            self._arrow_shaft.setData([], [])
            self._arrow_tip = None
            self._arrow_head.setVisible(False)
            return
        tip = (a + 0.12 * da / norm * width, b + 0.12 * db / norm * height)
        self._arrow_shaft.setData([a, tip[0]], [b, tip[1]])
        self._arrow_tip = tip
        self._update_arrow_head()

    def _update_arrow_head(self) -> None:
        if self._arrow_tip is None or self.current is None:
            return
        view_box = self.getPlotItem().getViewBox()
        tail = view_box.mapViewToScene(QPointF(*self.current))
        tip = view_box.mapViewToScene(QPointF(*self._arrow_tip))
        dx, dy = tip.x() - tail.x(), tip.y() - tail.y()
        # ArrowItem points left at angle 0 and rotates clockwise on screen.
        angle = round(math.degrees(math.atan2(-dy, -dx)))
        if angle != self._arrow_angle:  # setStyle rebuilds the arrow's path
            self._arrow_angle = angle
            self._arrow_head.setStyle(angle=angle)
        self._arrow_head.setPos(*self._arrow_tip)
        self._arrow_head.setVisible(True)

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
