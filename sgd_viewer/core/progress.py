"""Is the run getting anywhere? A plain-words verdict from the recent losses.

numpy only; no torch, no Qt.
"""

from __future__ import annotations

import numpy as np

#: Excess loss (above the optimum), relative to the optimum's loss, that counts
#: as converged.
CONVERGED_TOLERANCE = 1e-6


def assess_progress(
    recent_losses: np.ndarray, loss_opt: float, start_loss: float
) -> str:
    """``"not started"``, ``"converged"``, ``"converging"`` or ``"not converging"``.

    Parameters
    ----------
    recent_losses
        The full-data losses of the last steps (a couple of hundred), oldest first.
    loss_opt
        The smallest reachable loss.
    start_loss
        The loss at the start; sets the scale when the optimum's loss is 0.

    Adaptive optimizers at absurd learning rates bounce around without blowing
    up; comparing the two halves of the window tells that apart from steady
    descent without calling either "diverged".
    """
    losses = np.asarray(recent_losses, dtype=np.float64)
    if losses.size == 0:
        return "not started"
    scale = max(loss_opt, 1e-9 * (start_loss - loss_opt), np.finfo(float).tiny)
    excess = losses - loss_opt
    # Converged means it stays there: Adam at an absurd lr passes through the
    # optimum and is thrown off again, which must not read as "converged".
    settled = excess[losses.size // 2 :]
    if float(np.max(settled)) <= CONVERGED_TOLERANCE * scale:
        return "converged"
    if losses.size < 4:
        start_excess = start_loss - loss_opt
        return "converging" if excess[-1] < start_excess else "not converging"
    half = losses.size // 2
    older, newer = float(np.mean(excess[:half])), float(np.mean(excess[half:]))
    return "converging" if newer < 0.999 * older else "not converging"
