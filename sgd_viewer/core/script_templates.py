"""The text of the torch script that ``script_export`` fills in: the script
itself with ``$``-fields, and the pieces that go into them (the closed-form
loss, the mini-batch stream, the two kinds of step).

Kept as plain text so that the file reads as written by hand. Standard
library only; no Qt.
"""

from __future__ import annotations

from string import Template

#: The script, with the generated parts as $-fields. Kept as plain text so
#: that the file reads as written by hand.
SCRIPT = Template(
    """\
$header
import json
import math

import numpy as np
import torch

STEPS = $steps
START = ($a0, $b0)  # (a, b) at step 0
DTYPE = torch.$dtype
REDUCTION = "$reduction"
SEED = $seed  # seeds the shuffling of mini-batches


$data

def statistics(x, y):
    # Means, centred (co)variances and the mean squared residual at the best
    # line, computed as the app does (in chunks, from a pilot point and line,
    # to keep every digit), so the loss agrees with the app's bit for bit.
    n = len(x)
    size = min(n, 65536)
    ones = np.ones(size)
    x0 = float(np.dot(x[:size], ones)) / size
    y0 = float(np.dot(y[:size], ones)) / size
    dx, dy = x[:size] - x0, y[:size] - y0
    pilot_sxx = float(np.dot(dx, dx))
    slope0 = float(np.dot(dx, dy)) / pilot_sxx if pilot_sxx > 0.0 else 0.0
    sums = [0.0] * 7  # of dx, dy, r, dx·dx, dx·dy, r·r, dx·r
    for begin in range(0, n, size):
        dx = x[begin : begin + size] - x0
        dy = y[begin : begin + size] - y0
        r = dy - dx * slope0
        part = ones[: len(dx)]
        pairs = (dx, part), (dy, part), (r, part), (dx, dx), (dx, dy), (r, r), (dx, r)
        sums = [total + float(np.dot(u, v)) for total, (u, v) in zip(sums, pairs)]
    dx_sum, dy_sum, r_sum, dxx, dxy, rr, xr = sums
    dx_bias, dy_bias, r_bias = dx_sum / n, dy_sum / n, r_sum / n
    cxx = dxx / n - dx_bias * dx_bias
    cxy = dxy / n - dx_bias * dy_bias
    x_mean, y_mean = x0 + dx_bias, y0 + dy_bias
    if pilot_sxx > 0.0:
        cxr = xr / n - dx_bias * r_bias
        residual = (rr / n - r_bias * r_bias) - cxr * cxr / cxx
    else:  # the first chunk's x are all equal: the residuals in a second pass
        residual = 0.0
        for begin in range(0, n, size):
            dx = x[begin : begin + size] - x_mean
            dy = y[begin : begin + size] - y_mean
            dy = dy - dx * (cxy / cxx)
            residual += float(np.dot(dy, dy))
        residual = residual / n
    return x_mean, y_mean, cxx, cxy, max(residual, 0.0)


x_mean, y_mean, cxx, cxy, residual = statistics(x, y)
a_opt = cxy / cxx  # the least-squares slope
scale = 1.0 if REDUCTION == "mean" else float(n)  # mean or sum of squared errors


def full_loss(a, b):
    # The loss on all the data in float64, as the app reports it:
    # Cxx·(a − a*)² + (a·x̄ + b − ȳ)² + R, times n for the sum.
    slope_error = a - a_opt
    centre_error = a * x_mean + b - y_mean
    value = cxx * slope_error * slope_error + centre_error * centre_error
    return (value + residual) * scale


# The parameters, the optimizer and the lr schedule, as the app builds them.
a = torch.tensor(START[0], dtype=DTYPE).requires_grad_()
b = torch.tensor(START[1], dtype=DTYPE).requires_grad_()
$optimizer$schedule
$losses

# The steps. A step's loss is checked as the app checks it: past this
# limit (or not finite) the run has diverged.
LOSS_LIMIT = 1e8 * max(
    full_loss(*START), full_loss(0.0, 0.0), residual * scale, 1e-300
)
${first_batch}last_good = START
every = max(1, STEPS // 10)  # how often to print a line
for done in range(STEPS):
$body
    a_now, b_now = a.item(), b.item()
    loss_now = full_loss(a_now, b_now)
    finite = all(map(math.isfinite, (a_now, b_now, loss.item())))
    if not (finite and loss_now <= LOSS_LIMIT):
        print(
            f"diverged at step {done + 1} (loss {loss_now:.3g}): "
            f"stopped at step {done}, the last finite one"
        )
        break
    last_good = (a_now, b_now)
    if (done + 1) % every == 0:
        print(
            f"step {done + 1}: a = {a_now:.6g}, b = {b_now:.6g}, "
            f"loss = {loss_now:.6g}"
        )


a_final, b_final = last_good
print(json.dumps({"a": a_final, "b": b_final, "loss": full_loss(a_final, b_final)}))
"""
)

CLOSED_FORM = """
# Full batch: the app computes the same loss in closed form from the
# statistics, |W·(a, b) − c|² + R with W = [[√Cxx, 0], [x̄, 1]] and
# c = W·(a*, b*) (× √n for sum): O(1) per step at any n. R is a constant
# (no gradient), so it is left out of the tensor.
root, sqrt_cxx = math.sqrt(scale), math.sqrt(cxx)
W = torch.tensor([[root * sqrt_cxx, 0.0], [root * x_mean, root]], dtype=DTYPE)
minus_c = torch.tensor([-(root * sqrt_cxx * a_opt), -(root * y_mean)], dtype=DTYPE)


def closed_form_loss():
    residuals = torch.addmv(minus_c, W, torch.stack((a, b)))
    return residuals.dot(residuals)
"""

BATCHES = '''
# Mini-batches as the app draws them: a permutation of the points from
# numpy's generator (seeded once) at the start, at every new epoch and when
# the batch size changes; the batch takes the next batch_size of them.
shuffler = np.random.default_rng(SEED)
order, position = None, 0


def new_order():
    global order, position
    position = 0
    if batch_size is not None:
        order = torch.from_numpy(shuffler.permutation(n))


def next_batch():
    """The points of the next step: None for all of them (the full batch)."""
    global position
    if batch_size is None:
        return None
    if position >= n:  # a new epoch
        new_order()
    indices = order[position : position + batch_size]
    position += batch_size
    return x_t[indices], y_t[indices]
'''

LESSON_STEP = """
    batch = next_batch()
    loss = loss_on(batch)
    loss.backward()
    opt.step()
    opt.zero_grad()
"""

CLOSURE_STEP = """
    batch = next_batch()  # one batch per step, however many evaluations

    def closure(batch=batch):
        opt.zero_grad()
        loss = loss_on(batch)
        loss.backward()
        return loss

    loss = opt.step(closure)  # L-BFGS evaluates the loss itself
"""
