"""The known difference ``float32-relu-kink-crossing`` (conformance/kink_crossing.py), measured.

Its mechanism, without any framework: two float64 reference runs of
``spiral-3-layer`` (2-16-16-1 ReLU, Adam 0.01), the second started from weights
moved by float32-rounding-sized noise, agree as rounding predicts until one ReLU
pre-activation falls on opposite sides of 0, and then part by far more than any
rounding tolerance. And its teeth: a real mistake (a wrong Adam beta_1) is not
explained by it.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks import TRAJECTORY_STEPS, case_inputs, optimizer_of, training_batches
from conformance.compare import TOLERANCES, compare
from conformance.kink_crossing import explain_paths, first_kink_crossing
from conformance.lessons import get_lesson
from conformance.models import reference_model
from reference import get_optimizer

LESSON = get_lesson("spiral-3-layer")
STEPS = max(TRAJECTORY_STEPS)


def run(params, **hyper_changes):
    """The reference's weights after every step k = 0..STEPS of the lesson's trajectory (Keras's Adam)."""
    name, hyper = optimizer_of(LESSON)
    _, X, y = case_inputs(LESSON, "float32")
    path = reference_model(LESSON, params, convention="keras").train(
        X, y, get_optimizer(name, convention="keras", **{**hyper, **hyper_changes}),
        training_batches(LESSON, STEPS), record=tuple(range(1, STEPS + 1)))
    path[0] = params
    return path


def apart(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[p] - b[p]))) for p in a)


@pytest.fixture(scope="module")
def runs():
    params, X, _ = case_inputs(LESSON, "float32")
    rng = np.random.default_rng(0)
    # 3e-6: about what float32 rounding puts between a framework and the reference after 50 steps
    # (keras-jax: 4.6e-6 at step 51), below the float32 tolerance (5e-6)
    nudged = {k: v + 3e-6 * rng.standard_normal(v.shape) for k, v in params.items()}
    return X, run(params), run(nudged)


def test_two_float64_runs_part_at_a_relu_kink(runs):
    X, reference, nudged = runs
    batches = training_batches(LESSON, STEPS)
    crossing = first_kink_crossing(LESSON, X, batches, reference, nudged)
    assert crossing is not None, "the nudged run never put a ReLU pre-activation on the other side of 0"
    # up to the crossing, the runs are as close as float32 rounding makes them: the generic trajectory row
    row = TOLERANCES["float32 trajectory@100"]
    assert compare(nudged[crossing.step - 1], reference[crossing.step - 1], atol=row.atol, rtol=row.rtol).passed
    # the unit that crossed was within rounding of its kink on both runs
    assert abs(crossing.z_reference) < TOLERANCES["float32"].atol
    assert abs(crossing.z_framework) < TOLERANCES["float32"].atol
    # after it, the runs part by more than even the lesson's own float32 trajectory@100 row allows
    assert apart(nudged[STEPS], reference[STEPS]) > TOLERANCES["float32 trajectory@100 spiral-3-layer"].atol
    # and the known difference accepts it as its explanation
    evidence = explain_paths(LESSON, X, batches, reference, nudged, "float32", failed_snapshots=(STEPS,))
    assert evidence is not None and evidence["step"] == crossing.step


def test_without_a_crossing_the_runs_stay_together(runs):
    X, reference, nudged = runs
    batches = training_batches(LESSON, STEPS)
    crossing = first_kink_crossing(LESSON, X, batches, reference, nudged)
    row = TOLERANCES["float32 trajectory@100"]
    # before the crossing, the nudge never grew beyond rounding, however many steps it ran
    for k in range(crossing.step):
        assert compare(nudged[k], reference[k], atol=row.atol, rtol=row.rtol).passed, k
    assert first_kink_crossing(LESSON, X, batches, reference, reference) is None


def test_a_snapshot_failed_before_the_crossing_is_not_explained(runs):
    X, reference, nudged = runs
    batches = training_batches(LESSON, STEPS)
    crossing = first_kink_crossing(LESSON, X, batches, reference, nudged)
    assert explain_paths(LESSON, X, batches, reference, nudged, "float32",
                         failed_snapshots=(crossing.step - 1, STEPS)) is None


def test_a_wrong_adam_is_not_explained(runs):
    """beta_1 = 0.85 for 0.9: the runs part before any crossing, or cross far outside rounding."""
    X, reference, _ = runs
    params, _, _ = case_inputs(LESSON, "float32")
    wrong = run(params, beta_1=0.85)
    batches = training_batches(LESSON, STEPS)
    failed = [k for k in TRAJECTORY_STEPS if apart(wrong[k], reference[k]) > TOLERANCES["float32"].atol]
    assert failed, "the wrong beta_1 should fail the trajectory check"
    assert explain_paths(LESSON, X, batches, reference, wrong, "float32", failed_snapshots=failed) is None


def test_the_known_difference_covers_float32_trajectories_only():
    from conformance.known import known_difference

    for framework in ("torch", "keras", "keras-jax", "keras-torch"):
        assert known_difference(framework, "float32", "trajectory").name == "float32-relu-kink-crossing"
        for check in ("forward", "gradients", "step", "training", None):
            difference = known_difference(framework, "float32", check)
            assert difference is None or difference.name != "float32-relu-kink-crossing", (framework, check)
    from conformance.known import known_differences

    assert all(d.name != "float32-relu-kink-crossing" for d in known_differences("torch", "float64", "trajectory"))
