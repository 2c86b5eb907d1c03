"""Zero initialisation keeps every hidden unit identical, in the reference, PyTorch and Keras alike.

With all weights and biases at zero, every hidden unit computes the same thing and
receives the same gradient, so training moves them together and they stay copies
of one another: the network has one hidden unit's worth of capacity ("Zero init:
symmetry, no learning", the seeds say). sigmoid-mlp (2-4-1, sigmoid hidden) shows it:
its units do move (with ReLU at zero they would not even move, relu'(0) = 0), here on the
AND gate.
The lesson's own random start is the control: there the units differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conformance.checks.training import framework_run, reference_run
from conformance.lessons import LESSONS
from frameworks import unavailable_reason

# On XOR's balanced labels a zero-initialised net gets a zero gradient everywhere and does
# not move at all; the AND gate (one positive in four) makes it move.
RANDOM_INIT = dataclasses.replace(LESSONS["sigmoid-mlp"], name="sigmoid-mlp-and", dataset="and")
ZERO_INIT = dataclasses.replace(RANDOM_INIT, name="sigmoid-mlp-and-zero-init", init="zeros", init_args=())
SIDES = ["reference", "torch", "keras"]


def trained(lesson, side):
    if side == "reference":
        return reference_run(lesson, "float64")
    if unavailable_reason(side):
        pytest.skip(unavailable_reason(side))  # names the extra that installs it
    return framework_run(lesson, side, "float64")


def unit_spread(params) -> float:
    """How far the hidden units are from being copies: each unit's in-weights, bias and out-weight, across units."""
    per_unit = np.vstack([params["W1"], params["b1"][None, :], params["W2"].T])  # one column per hidden unit
    return float(np.max(np.ptp(per_unit, axis=1)))


@pytest.mark.parametrize("side", SIDES)
def test_zero_init_keeps_hidden_units_identical(side):
    run = trained(ZERO_INIT, side)
    for epoch, params in run.snapshots.items():
        # The units compute the same operations on the same numbers: measured exactly 0 apart.
        assert unit_spread(params) == 0.0, f"{side}: hidden units differ after epoch {epoch}"
    moved = float(np.max(np.abs(run.params["W1"])))
    assert moved > 1e-3, f"{side}: the weights did not move at all ({moved}): nothing was shown"


@pytest.mark.parametrize("side", SIDES)
def test_random_init_breaks_the_symmetry(side):
    run = trained(RANDOM_INIT, side)
    assert unit_spread(run.params) > 0.1
