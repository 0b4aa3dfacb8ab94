"""The readouts: where the run is, in numbers, and what they mean.

A thin widget: it formats what it is given and computes nothing but a few
distances. Labels carry objectNames so tests and scripts can read them.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from sgd_viewer.core.problem import Problem

_STATUS_TEXT = {
    "loading": "Loading the engine…",
    "ready": "Ready: press Run (Space) or Step (→)",
    "running": "Running",
    "paused": "Paused",
    "diverged": "Diverged: lower the learning rate, then Reset (R)",
}
_STATUS_COLOUR = {
    "loading": "#555555",
    "ready": "#1f5fa8",
    "running": "#1a7f37",
    "paused": "#8a6d00",
    "diverged": "#b3261e",
}


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else "—"


class ReadoutPanel(QGroupBox):
    """Step, epoch, a, b, loss, |∇L|, distance to the optimum, lr bound."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Readouts", parent)
        layout = QVBoxLayout(self)
        self.status_label = self._label("statusReadout")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        form = QFormLayout()
        layout.addLayout(form)
        self.labels: dict[str, QLabel] = {}
        for key, caption, tip in (
            ("step", "Step", "Optimizer steps since the start"),
            ("epoch", "Epoch", "Passes through all the data"),
            ("a", "a (slope)", ""),
            ("b", "b (intercept)", ""),
            ("loss", "Loss", "Loss on all the data at (a, b)"),
            ("grad", "|∇L|", "Length of the full-data gradient at (a, b)"),
            (
                "gd_step",
                "GD step",
                "η·|∇L|: the length of the next plain gradient step, which the "
                "surface's arrow shows (hidden below a pixel)",
            ),
            ("distance", "To optimum", "Distance from (a, b) to the least-squares fit"),
            ("optimum", "Optimum", "Closed-form least squares (numpy-exact)"),
            (
                "lr_now",
                "lr in use",
                "The learning rate of the shown step (a schedule changes it)",
            ),
            ("lr_max", "Stable lr", "Full-batch descent converges iff lr < 2/λmax"),
            ("progress", "Progress", "Whether the loss is approaching its minimum"),
            (
                "pinned",
                "My line",
                "The guess you pinned (P over the surface, or right-click ▸ Pin),"
                " against the optimum and the selected run",
            ),
            (
                "scaling",
                "Original units",
                "The runs fit scaled data (Data ▸ Scale): a and b mapped back to "
                "the data's own units, and the surface's condition number "
                "against the raw data's",
            ),
        ):
            label = self._label(f"{key}Readout", tip)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.labels[key] = label
            form.addRow(caption, label)

    @staticmethod
    def _label(name: str, tip: str = "") -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setAccessibleName(name)
        label.setToolTip(tip)
        return label

    def show_pinned(self, text: str) -> None:
        self.labels["pinned"].setText(text)

    def show_scaling(self, text: str) -> None:
        """The line in the original units ("" when nothing is scaled)."""
        self.labels["scaling"].setText(text or "— (not scaled)")

    def show_status(self, status: str, detail: str = "") -> None:
        text = _STATUS_TEXT.get(status, status)
        if detail:
            text = f"{text} — {detail}"
        colour = _STATUS_COLOUR.get(status, "#333333")
        self.status_label.setText(text)
        _set_style(self.status_label, f"color: {colour}; font-weight: bold;")

    def show_state(
        self,
        problem: Problem,
        reduction: str,
        step: int,
        epoch: int,
        a: float,
        b: float,
        lr: float,
        progress: str,
        lr_now: float | None = None,
    ) -> None:
        loss = float(problem.loss(a, b, reduction))
        grad_a, grad_b = problem.gradient(a, b, reduction)
        lr_max = problem.lr_max(reduction)
        text = self.labels
        text["step"].setText(f"{step:,}")
        text["epoch"].setText(f"{epoch:,}")
        text["a"].setText(_number(a))
        text["b"].setText(_number(b))
        text["loss"].setText(_number(loss))
        text["grad"].setText(_number(math.hypot(grad_a, grad_b)))
        step = (lr if lr_now is None else lr_now) * math.hypot(grad_a, grad_b)
        text["gd_step"].setText(f"η·|∇L| = {_number(step)}")
        text["distance"].setText(
            _number(math.hypot(a - problem.a_opt, b - problem.b_opt))
        )
        text["optimum"].setText(
            f"a* = {problem.a_opt:.6g}, b* = {problem.b_opt:.6g},\n"
            f"L* = {problem.loss_opt(reduction):.6g}"
        )
        stable = lr < lr_max
        mark = "✔ stable" if stable else "✘ too large: full-batch descent diverges"
        text["lr_max"].setText(f"lr_max = 2/λmax = {lr_max:.4g}\n{mark}")
        _set_style(text["lr_max"], f"color: {'#1a7f37' if stable else '#b3261e'};")
        text["progress"].setText(progress)
        text["lr_now"].setText(_number(lr if lr_now is None else lr_now))


def _set_style(label: QLabel, style: str) -> None:
    """Set ``style`` only if it differs: Qt re-polishes a widget (and lays out
    the window around it) with every ``setStyleSheet``, even an unchanged one,
    and the readouts are refreshed ten times a second while a run goes."""
    if label.styleSheet() != style:
        label.setStyleSheet(style)
