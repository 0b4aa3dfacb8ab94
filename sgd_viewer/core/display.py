"""What the views show besides the runs: the display options.

Plain data in the session (the "Keep and share" issue saves them with it),
changed by commands, observed by the window.

stdlib only: no numpy, torch or Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

RESIDUAL_STYLES = ("off", "segments", "squares")


@dataclass(frozen=True)
class DisplayOptions:
    """Which explanations are drawn.

    ``residuals``: ``off``, ``segments`` or ``squares``; ``equal_aspect``: one
    unit of x as long as one of y on the data plot; ``loss_equation``: the
    loss written as a sum; ``gradient_field``: −∇L over the surface;
    ``step_taken``: each run's last step as an arrow; ``momentum``: the
    momentum a heavy-ball run carries into its next step; ``explain``: Step
    narrates its update in stages.
    """

    residuals: str = "off"
    equal_aspect: bool = False
    loss_equation: bool = False
    gradient_field: bool = False
    step_taken: bool = False
    momentum: bool = False
    explain: bool = False

    def __post_init__(self) -> None:
        if self.residuals not in RESIDUAL_STYLES:
            raise ValueError(
                f"residuals must be one of {', '.join(RESIDUAL_STYLES)}, "
                f"got {self.residuals!r}"
            )
        for option in fields(self):
            if option.type == "bool" and not isinstance(
                getattr(self, option.name), bool
            ):
                raise ValueError(f"{option.name} must be true or false")

    def with_changes(self, **changes) -> DisplayOptions:
        """A copy with ``changes`` (``ValueError`` for an unknown name)."""
        known = {option.name for option in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown display option(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)
