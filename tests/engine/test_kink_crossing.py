"""The known difference ``float32-relu-kink-crossing`` (conformance/known/kink_crossing.py), measured.

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

from conformance.cases import (
    TRAJECTORY_STEPS,
    case_inputs,
    optimizer_of,
    reference_model,
    training_batches,
)
from conformance.compare import compare
from conformance.known.kink_crossing import explain_paths, first_kink_crossing
from conformance.lessons import get_lesson
from conformance.tolerances import tolerance
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
    row = tolerance("float32", "trajectory@100")
    assert compare(nudged[crossing.step - 1], reference[crossing.step - 1], atol=row.atol, rtol=row.rtol).passed
    # the unit that crossed was within rounding of its kink on both runs
    assert abs(crossing.z_reference) < tolerance("float32").atol
    assert abs(crossing.z_framework) < tolerance("float32").atol
    # after it, the runs part by more than even the lesson's own float32 trajectory@100 row allows
    assert apart(nudged[STEPS], reference[STEPS]) > tolerance("float32", "trajectory@100", LESSON).atol
    # and the known difference accepts it as its explanation
    evidence = explain_paths(LESSON, X, batches, reference, nudged, "float32", failed_snapshots=(STEPS,))
    assert evidence is not None and evidence["step"] == crossing.step


def test_without_a_crossing_the_runs_stay_together(runs):
    X, reference, nudged = runs
    batches = training_batches(LESSON, STEPS)
    crossing = first_kink_crossing(LESSON, X, batches, reference, nudged)
    row = tolerance("float32", "trajectory@100")
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
    failed = [k for k in TRAJECTORY_STEPS if apart(wrong[k], reference[k]) > tolerance("float32").atol]
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


def nearest_kink(reference: dict, X) -> dict[int, float]:
    """{step k: the smallest |z| of a ReLU pre-activation in the reference's forward of step k's batch}."""
    from conformance.known.kink_crossing import _pre_activations

    batches = training_batches(LESSON, STEPS)
    kinked = [f"z{l}" for l, act in enumerate(LESSON.activations, start=1) if act == "relu"]
    return {k: min(float(np.min(np.abs(_pre_activations(LESSON, reference[k - 1], X[idx])[z]))) for z in kinked)
            for k, idx in enumerate(batches, start=1) if k >= 2}


def jump_at(reference: dict, step: int, size: float = 5e-3) -> dict:
    """A 'framework' path equal to the reference before ``step`` and ``size`` away from it from ``step`` on."""
    return {k: ({p: v + size for p, v in w.items()} if k >= step else w) for k, w in reference.items()}


def test_a_tie_at_the_step_the_runs_part_is_a_crossing(runs):
    """The framework's float32 forward can put a z that lies within rounding of 0 on the other side while
    its weights, forwarded in float64, do not: measured on an AVX-only CPU, Keras on TensorFlow, step 52."""
    X, reference, _ = runs
    batches = training_batches(LESSON, STEPS)
    nearest = nearest_kink(reference, X)
    tie_step = min(nearest, key=nearest.get)
    assert nearest[tie_step] <= tolerance("float32").atol, "no ReLU z of the run lies within rounding of 0"
    evidence = explain_paths(LESSON, X, batches, reference, jump_at(reference, tie_step), "float32",
                             failed_snapshots=(STEPS,))
    assert evidence is not None and evidence["tie"] and evidence["step"] == tie_step


def test_a_jump_where_no_z_lies_near_its_kink_is_not_explained(runs):
    X, reference, _ = runs
    batches = training_batches(LESSON, STEPS)
    nearest = nearest_kink(reference, X)
    far_step = max(nearest, key=nearest.get)
    assert nearest[far_step] > 50 * tolerance("float32").atol  # no tie anywhere near
    assert explain_paths(LESSON, X, batches, reference, jump_at(reference, far_step), "float32",
                         failed_snapshots=(STEPS,)) is None
