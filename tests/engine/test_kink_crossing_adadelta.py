"""The known difference ``float32-relu-kink-crossing`` under Adadelta: deep-relu (2-16x10-1), measured.

A catalog-wide run (``nnparity run --optimizer adadelta --check trajectory``) reported deep-relu's float32
trajectory as ``known`` in torch and Keras (9.6e-3 apart after 100 steps; its JSON carries
``"passed": false`` beside ``"known": "float32-relu-kink-crossing"``, as every known cell does). It is
that mechanism, shown without a framework: Adadelta's step ``sqrt(d + eps) / sqrt(s + eps) * g`` is
scale-free like Adam's, so the gradient a unit gains or loses at its kink becomes a step-sized move.
Two float64 reference runs, the second started 3e-7 away (the torch run is 4e-7 from the reference
before step 52), part at the same step and unit as the frameworks and end as far apart (9.6e-3, 7.1e-3).
A wrong rho or epsilon moves the runs apart by step 10, before any crossing, and is not explained.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import (
    Case,
    case_inputs,
    optimizer_of,
    reference_model,
    training_batches,
)
from conformance.checks import run_check
from conformance.known.kink_crossing import explain_paths, first_kink_crossing
from conformance.lessons import get_lesson
from conformance.tolerances import tolerance
from frameworks import unavailable_reason
from reference import get_optimizer

LESSON = get_lesson("deep-relu")
STEPS = 100
NAME = "float32-relu-kink-crossing"


def run(params, **hyper_changes):
    """The reference's weights after every step k = 0..STEPS under the adadelta setting (torch's formula)."""
    name, hyper = optimizer_of(LESSON, "adadelta")
    _, X, y = case_inputs(LESSON, "float32")
    path = reference_model(LESSON, params, convention="torch").train(
        X, y, get_optimizer(name, convention="torch", **{**hyper, **hyper_changes}), training_batches(LESSON, STEPS),
        record=tuple(range(1, STEPS + 1)))
    path[0] = params
    return path


def apart(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[p] - b[p]))) for p in a)


@pytest.fixture(scope="module")
def runs():
    params, X, _ = case_inputs(LESSON, "float32")
    return X, params, run(params)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_float64_adadelta_runs_part_at_the_frameworks_kink(runs, seed):
    X, params, reference = runs
    rng = np.random.default_rng(seed)
    nudged = run({k: v + 3e-7 * rng.standard_normal(v.shape) for k, v in params.items()})
    batches = training_batches(LESSON, STEPS)
    crossing = first_kink_crossing(LESSON, X, batches, reference, nudged)
    # where torch and Keras cross (measured): step 52, layer 1's unit 3 on sample 50, z = -4.5e-8 in the reference
    assert (crossing.step, crossing.stage, crossing.sample, crossing.unit) == (52, "z1", 50, 3)
    row = tolerance("float32", "trajectory@100")
    assert apart(nudged[crossing.step - 1], reference[crossing.step - 1]) < row.atol  # together up to it
    assert apart(nudged[STEPS], reference[STEPS]) > 10 * row.atol  # 9.6e-3 and 7.1e-3 after 100 (measured)
    evidence = explain_paths(LESSON, X, batches, reference, nudged, "float32", failed_snapshots=(STEPS,))
    assert evidence is not None and evidence["step"] == 52


@pytest.mark.parametrize("change", [{"rho": 0.9}, {"epsilon": 1e-7}])
def test_a_wrong_adadelta_is_not_explained(runs, change):
    """rho 0.9 for 0.95 (6.4e-3 apart after 10 steps), epsilon 1e-7 for 1e-6 (1.8e-2): apart before any crossing."""
    X, params, reference = runs
    wrong = run(params, **change)
    failed = [k for k in (10, STEPS) if apart(wrong[k], reference[k]) > tolerance("float32").atol]
    assert 10 in failed
    assert explain_paths(LESSON, X, training_batches(LESSON, STEPS), reference, wrong, "float32",
                         failed_snapshots=failed) is None


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_framework_run_is_the_known_crossing(framework):
    if unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))
    result = run_check("trajectory", Case(LESSON.name, framework, "float32", "adadelta"))
    assert result.status == "known" and result.known == NAME, result.comparison.message()
    crossing = result.info[NAME]
    assert (crossing["step"], crossing["stage"], crossing["unit"]) == (52, "z1", 3)
    assert result.to_json()["passed"] is False and result.to_json()["known"] == NAME
