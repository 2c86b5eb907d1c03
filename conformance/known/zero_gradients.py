"""Adam, RMSprop and their kin on a parameter whose gradient is exactly zero: a bias in front of a BatchNorm.

BatchNorm subtracts the batch mean of its input ``z = x W + b``, and ``b`` shifts
every sample of a unit alike, so the loss does not depend on ``b`` at all:
dL/db = 0 exactly. Computed, it is rounding noise (the reference's is 1e-15 of
dL/dW on ``spiral-batchnorm``), and no two implementations make the same noise.
SGD moves ``b`` by ``learning_rate * noise``, far below any tolerance. An
optimizer that divides each gradient by its own running root mean square does
not: Adam's first step is ``learning_rate * g / (|g| + epsilon)``, that is
``learning_rate * g / epsilon`` for a float64 ``g`` of 1e-17 (a 1e-12 step), and
for a float32 ``g`` of 1e-9 next to ``epsilon`` = 1e-8 a tenth of the learning
rate, with the noise's sign. So the biases, and the running means they shift,
end up apart between the reference and the framework by up to a few learning
rates per step, while nothing else does: BatchNorm removes ``b`` from everything
downstream, and the gradients check (which compares dL/db at the strict
tolerance: two noises of 1e-17) passes.

``explain`` is the known difference's probe (``known/__init__.py``,
``adaptive-step-on-a-zero-gradient``): it accepts a failed ``step`` or
``trajectory`` check only when

- the case's optimizer divides by a running root mean square (``ADAPTIVE``),
- every item that failed is a bias ``b{l}`` feeding a BatchNorm, or that
  BatchNorm's ``moving_mean{l}`` (the one statistic that carries ``b``),
- the reference's gradient of each such bias is zero to rounding:
  max |dL/db_l| <= ``ZERO_GRADIENT`` * max |dL/dW_l|, and
- each of those items differs by at most ``STEP_BOUND * learning_rate`` per step
  taken. (Adam's step is at most about ``learning_rate * (1 - beta_1) /
  sqrt(1 - beta_2)``, 3.2 learning rates at the defaults; RMSprop's
  ``learning_rate / sqrt(1 - rho)``, 3.2 at rho = 0.9.)

A wrong formula anywhere else fails some other item and is not explained; a
wrong bias gradient fails the gradients check itself.
"""

from __future__ import annotations

import numpy as np

from ..cases import optimizer_of

# the optimizers that divide a gradient by its running root mean square (reference names), or by its running
# maximum (Adamax). NAdam, Adamax and AMSGrad failed spiral-batchnorm's step and trajectory only on the biases b1, b2
# and moving_mean1 (`nnparity run --optimizer NAME`, both frameworks and dtypes: at most 0.44 learning rates per step,
# float32), each step within STEP_BOUND: one gradient of 1 after steps of 1e-12, at any step up to the checks' 100,
# moves a weight at most 1.92 learning rates under NAdam's named setting, 1.0 under Adamax's and AMSGrad's.
# Adadelta is not one: its step is sqrt(d + epsilon) / sqrt(s + epsilon) * g, a noise of 1e-17 moves 1e-17.
ADAPTIVE = ("adam", "adamw", "rmsprop", "nadam", "adamax", "amsgrad")
ZERO_GRADIENT = 1e-10  # measured: 1.4e-15 to 3.0e-15 of max |dL/dW_l| (spiral-batchnorm, float64 and float32 inputs)
STEP_BOUND = 4.0  # learning rates per step: above Adam's and RMSprop's largest step at their defaults (3.2)


def _steps(item_name: str) -> tuple[str, int]:
    """("b1", 10) from "b1@10" (a trajectory's snapshot); ("b1", 1) from "b1" (the step check)."""
    name, _, k = item_name.partition("@")
    return name, int(k) if k else 1


def explain(inputs, case, comparison) -> dict | None:
    """What was measured when the mechanism is there (see the module doc), else None."""
    lesson = inputs.lesson
    if not (lesson.batchnorm and lesson.use_bias):
        return None
    optimizer, hyper = optimizer_of(lesson, case.optimizer)
    if optimizer not in ADAPTIVE:
        return None
    failed = [item for item in comparison.items if not item.passed]
    hidden = range(1, lesson.n_layers)  # the layers with a BatchNorm after their Dense
    carries_b = {f"b{l}" for l in hidden} | {f"moving_mean{l}" for l in hidden}
    lr = hyper["learning_rate"]
    moved = {}
    for item in failed:
        name, steps = _steps(item.name)
        if item.problem is not None or name not in carries_b or item.max_abs_err > STEP_BOUND * lr * steps:
            return None
        moved[item.name] = item.max_abs_err / (lr * steps)
    if not moved:
        return None
    grads = inputs.reference_model(case.framework).gradients(inputs.ref_X, inputs.ref_y)
    ratios = {f"b{l}": float(np.max(np.abs(grads[f"b{l}"])) / np.max(np.abs(grads[f"W{l}"]))) for l in hidden}
    if any(not ratio <= ZERO_GRADIENT for ratio in ratios.values()):
        return None
    return {
        "optimizer": optimizer,
        "learning_rate": lr,
        "reference |dL/db_l| / |dL/dW_l|": ratios,
        "failed items, difference per step in learning rates": moved,
    }
