"""The main window's widgets, their arrangement and its menus.

Builds; wires nothing but each action to the window method it names. The
window (``main_window``) connects the widgets' signals to its commands.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sgd_viewer.core.data import bundled_dataset_names
from sgd_viewer.gui import presenter
from sgd_viewer.gui.controls import ControlPanel
from sgd_viewer.gui.data_editor import DataEditBar, DataEditor
from sgd_viewer.gui.dialogs import show_about, show_shortcuts
from sgd_viewer.gui.explain_box import ExplainBox
from sgd_viewer.gui.fit_view import FitView
from sgd_viewer.gui.hover_readouts import StepHover
from sgd_viewer.gui.lazy_tab import LazyTab
from sgd_viewer.gui.lesson_panel import Lessons
from sgd_viewer.gui.loss_view import LossView
from sgd_viewer.gui.lr_strip import LrStrip
from sgd_viewer.gui.presentation import Presentation
from sgd_viewer.gui.readouts import ReadoutPanel
from sgd_viewer.gui.runs_panel import RunsPanel
from sgd_viewer.gui.stability_panel import StabilityPanel
from sgd_viewer.gui.surface_view import SurfaceView
from sgd_viewer.gui.timeline import Timeline
from sgd_viewer.gui.update_panel import UpdatePanel

BANNER_STYLE = (
    "background: #fde7e9; color: #8c1d18; border: 1px solid #b3261e;"
    "padding: 6px; font-weight: bold;"
)


def _slices_view():
    from sgd_viewer.gui.slices_view import SlicesView  # imported when first shown

    return SlicesView()


def _stability_view():
    from sgd_viewer.gui.stability_view import StabilityView  # as the slices

    return StabilityView()


def build_widgets(window: QMainWindow) -> None:
    """Views, panels, banner and timeline, as attributes of ``window``."""
    window.fit_view = FitView()
    window.surface_view = SurfaceView()
    window.loss_view = LossView()
    window.lr_strip = LrStrip(window.loss_view)
    # Hidden when the window opens: built when first shown (``lazy_tab``).
    window.slices_tab = LazyTab(_slices_view)
    window.update_panel = UpdatePanel()
    window.stability_tab = LazyTab(_stability_view)
    #: The plots, in the order ``presenter.draw`` takes them.
    window.plot_views = (
        window.fit_view,
        window.surface_view,
        window.loss_view,
        window.lr_strip,
    )
    window.controls = ControlPanel(bundled_dataset_names())
    window.runs_panel = RunsPanel()
    window.explain_box = ExplainBox()
    window.readouts = ReadoutPanel()
    window.timeline = Timeline()
    window.banner = QLabel()
    window.banner.setObjectName("divergenceBanner")
    window.banner.setWordWrap(True)
    window.banner.setStyleSheet(BANNER_STYLE)
    window.banner.hide()

    side = QWidget()
    side_layout = QVBoxLayout(side)
    side_layout.setContentsMargins(0, 0, 0, 0)
    side_layout.addWidget(window.runs_panel)
    side_layout.addWidget(window.controls)
    side_layout.addWidget(window.explain_box)
    side_layout.addWidget(window.readouts)
    side_layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(side)
    scroll.setWidgetResizable(True)
    # As wide as the controls want plus a scrollbar, so a short screen
    # scrolls the panel instead of cropping its right edge.
    scroll.setMinimumWidth(
        side.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
    )
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    top = QSplitter(Qt.Orientation.Horizontal)
    top.addWidget(_with_equation(window))
    top.addWidget(window.surface_view)
    top.setSizes([500, 600])
    top.setObjectName("topSplitter")
    plots = QSplitter(Qt.Orientation.Vertical)
    plots.addWidget(top)
    curves = QWidget()
    curves_layout = QVBoxLayout(curves)
    curves_layout.setContentsMargins(0, 0, 0, 0)
    curves_layout.setSpacing(0)
    # The loss curve keeps room for itself when the lr strip shows.
    window.loss_view.setMinimumHeight(150)
    curves_layout.addWidget(window.loss_view, 1)
    curves_layout.addWidget(window.lr_strip)
    # The slices beside the loss curve: the surface cut through the current
    # point along a and along b, with the gradient as the tangents' slopes.
    window.curve_tabs = QTabWidget()
    window.curve_tabs.setObjectName("curveTabs")
    window.curve_tabs.setDocumentMode(True)
    window.curve_tabs.addTab(curves, "Loss curve")
    window.curve_tabs.addTab(window.slices_tab, "Slices through the point")
    window.curve_tabs.addTab(window.update_panel, "Update: the numbers")
    window.curve_tabs.addTab(window.stability_tab, "Stability map")
    plots.addWidget(window.curve_tabs)
    plots.setSizes([600, 260])
    plots.setObjectName("plotsSplitter")
    window.plot_area = plots
    right = QWidget()
    right_layout = QVBoxLayout(right)
    right_layout.setContentsMargins(0, 0, 0, 0)
    right_layout.addWidget(window.banner)
    window.narration = QLabel()  # the narrated step's sentences (Narrator)
    right_layout.addWidget(window.narration)
    right_layout.addWidget(plots, 1)
    right_layout.addWidget(_bottom_bar(window))
    main = QSplitter(Qt.Orientation.Horizontal)
    main.addWidget(scroll)
    main.addWidget(right)
    main.setStretchFactor(1, 1)
    main.setSizes([360, 1040])
    main.setObjectName("mainSplitter")
    window.splitters = (main, top, plots)
    window.side_panel = scroll
    window.setCentralWidget(main)


def _selectable_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setAccessibleName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _with_equation(window) -> QWidget:
    """The fit view with the loss written as a sum under it (off by default):
    under the plot, it never covers a point."""
    window.loss_equation = _selectable_label("lossEquation")
    window.loss_equation.setWordWrap(True)
    window.loss_equation.setContentsMargins(6, 2, 6, 4)
    window.loss_equation.hide()
    panel = QWidget()
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(window.fit_view, 1)
    window.data_edit_bar = DataEditBar()  # editDataCheck: data_editor
    layout.addWidget(window.data_edit_bar)
    layout.addWidget(window.loss_equation)
    return panel


def _bottom_bar(window) -> QWidget:
    """The timeline and Frame, under the plots."""
    bar = QWidget()
    layout = QHBoxLayout(bar)
    layout.setContentsMargins(0, 0, 4, 0)
    layout.addWidget(window.timeline, 1)
    window.frame_button = QPushButton("Frame")
    window.frame_button.setObjectName("frameButton")
    window.frame_button.setAccessibleName("frameButton")
    window.frame_button.setToolTip(
        "Frame the start, the paths and the optimum, and follow the runs "
        "again after a zoom by hand (F)"
    )
    layout.addWidget(window.frame_button)
    # The key numbers sit in the status bar: always in sight, whatever the
    # window's size (the side panel's readouts may be scrolled away).
    window.key_readout = _selectable_label("keyReadout")
    window.key_readout.setToolTip("The selected run at the shown step")
    window.statusBar().addPermanentWidget(window.key_readout)
    return bar


def build_menus(window) -> None:
    """File, Run and Help menus; every action also a window-wide shortcut."""

    def action(menu, text, shortcuts, slot, name):
        act = QAction(text, window)
        act.setObjectName(name)
        act.setShortcuts([QKeySequence(s) for s in shortcuts])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        menu.addAction(act)
        window.addAction(act)
        return act

    file_menu = window.menuBar().addMenu("&File")
    action(file_menu, "&Open CSV…", ["Ctrl+O"], window.open_csv, "openAction")
    action(
        file_menu,
        "&Regenerate data",
        ["G"],
        lambda: window.regenerate(),
        "regenerateAction",
    )
    file_menu.addSeparator()
    action(
        file_menu,
        "Open &session…",
        ["Ctrl+Shift+O"],
        lambda: window.open_session(),
        "openSessionAction",
    )
    window.recent_menu = file_menu.addMenu("&Recent sessions")
    window.recent_menu.setObjectName("recentSessionsMenu")
    action(
        file_menu,
        "Sa&ve session",
        ["Ctrl+S"],
        lambda: window.save_session(),
        "saveSessionAction",
    )
    action(
        file_menu,
        "Save session &as…",
        ["Ctrl+Shift+S"],
        window.save_session_as,
        "saveSessionAsAction",
    )
    file_menu.addSeparator()
    action(
        file_menu,
        "Export &figure…",
        [],
        lambda: window.export_figure(),
        "exportFigureAction",
    )
    action(
        file_menu,
        "Export &animation…",
        [],
        lambda: window.export_animation(),
        "exportAnimationAction",
    )
    action(
        file_menu,
        "Export &torch script…",
        [],
        lambda: window.export_script(),
        "exportScriptAction",
    )
    file_menu.addSeparator()
    action(
        file_menu,
        "Save as &lesson…",
        [],
        lambda: window.lessons.save_as_lesson(),
        "saveLessonAction",
    )
    action(
        file_menu, "Reset se&ttings", [], window.reset_settings, "resetSettingsAction"
    )
    file_menu.addSeparator()
    action(file_menu, "&Quit", ["Ctrl+Q"], window.close, "quitAction")
    edit_menu = window.menuBar().addMenu("&Edit")  # data edits: data_editor
    window.undo_edit_action = action(
        edit_menu, "&Undo data edit", ["Ctrl+Z"],
        lambda: window.data_editor.undo(), "undoEditAction",
    )  # fmt: skip
    window.redo_edit_action = action(
        edit_menu, "&Redo data edit", ["Ctrl+Shift+Z"],
        lambda: window.data_editor.redo(), "redoEditAction",
    )  # fmt: skip
    run_menu = window.menuBar().addMenu("&Run")
    window.run_action = action(
        run_menu, "Run / &pause", ["Space"], window.toggle_run, "runAction"
    )
    window.step_action = action(
        run_menu, "&Step", ["Right", "S"], window.step_from_keyboard, "stepAction"
    )
    action(run_menu, "R&eset", ["R"], window.reset, "resetAction")
    run_menu.addSeparator()
    action(run_menu, "&Back one step", ["Left"], window.back, "backAction")
    action(run_menu, "&First step", ["Home"], lambda: window.view_step(0), "homeAction")
    action(
        run_menu, "&Latest step", ["End"], lambda: window.view_step(None), "endAction"
    )
    run_menu.addSeparator()
    action(run_menu, "&Add a run", [], lambda: window.add_run("sgd"), "addRunAction")
    action(
        run_menu, "Race &optimizers", [], window.race_optimizers, "raceOptimizersAction"
    )
    view_menu = window.menuBar().addMenu("&View")
    action(view_menu, "&Frame views", ["F"], window.frame_views, "frameAction")
    action(
        view_menu,
        "&Pin the guess under the cursor as my line",
        ["P"],
        lambda: window.guesses.pin_under_cursor(),
        "pinAction",
    )
    action(view_menu, "&Unpin my line", [], lambda: window.pin(None), "unpinAction")
    window.side_panel_action = action(
        view_menu,
        "&Side panel",
        ["F9"],
        lambda checked: window.side_panel.setVisible(checked),
        "sidePanelAction",
    )
    window.side_panel_action.setCheckable(True)
    window.side_panel_action.setChecked(True)
    action(
        view_menu,
        "P&resentation mode",
        ["F11"],
        lambda: window.presentation.toggle(),
        "presentationAction",
    )
    window.lessons_menu = window.menuBar().addMenu("&Lessons")
    window.lessons_menu.setObjectName("lessonsMenu")
    help_menu = window.menuBar().addMenu("&Help")
    action(
        help_menu,
        "&Keyboard shortcuts",
        ["F1"],
        lambda: show_shortcuts(window),
        "helpAction",
    )
    action(
        help_menu, "&About sgd_viewer", [], lambda: show_about(window), "aboutAction"
    )


def connect_widgets(window) -> None:
    """The widgets' signals to the window's commands."""
    c = window.controls
    c.scaling_box.changed.connect(window.set_scaling)
    window.stability = StabilityPanel(window)
    window.slices_tab.built.connect(window.show_slices_problem)
    window.data_editor = DataEditor(window)
    window.lessons = Lessons(window)
    c.step_requested.connect(window.step)
    c.run_toggled.connect(window.playback.toggled)
    c.reset_requested.connect(window.reset)
    c.speed_changed.connect(window._engine.set_speed)
    c.config_changed.connect(window.apply_config)
    c.generate_requested.connect(window.regenerate)
    c.dataset_requested.connect(window.load_dataset)
    c.open_csv_requested.connect(window.open_csv)
    window.explain_box.changed.connect(lambda changes: window.set_display(**changes))
    c.set_ready(False)
    window.surface_view.start_dragging.connect(window._on_start_dragging)
    window.surface_view.start_dropped.connect(window.set_start)
    r = window.runs_panel
    r.add_requested.connect(lambda: window.add_run(window.session.run.config.optimizer))
    r.duplicate_requested.connect(lambda: window.duplicate_run(window.session.selected))
    r.remove_requested.connect(window.remove_run)
    r.selected.connect(window.select_run)
    r.visibility_changed.connect(window._on_visibility)
    r.renamed.connect(window._on_renamed)
    window.timeline.step_chosen.connect(window.view_step)
    window.frame_button.clicked.connect(window.frame_views)
    window.loss_view.step_hover = StepHover(
        window.loss_view, lambda step: presenter.losses_at(window.session, step)
    )
    window.curve_tabs.currentChanged.connect(lambda _: window._refresh_views())
    window.presentation = Presentation(window)
