"""Property-based conformance: random MLP declarations agree with the reference on every framework.

For each framework that can run in this process, hypothesis draws lessons
(``strategies.lessons``: depth 1-5, widths 1-64, batches 1-256, both dtypes,
inputs up to 1000 in size) and runs the same checks as the catalog through
the same helper: forward, gradients and one optimizer step.

Tolerances are the catalog's (``compare.TOLERANCES``), with each element's atol
scaled by the size of the numbers that made it (``magnitudes.py``): inputs of size
1000 make terms of size 1000, and the rounding error of a sum is relative to its
terms, not to a result that happens to cancel or saturate.

Two kinds of example have gradients that rounding decides (``strategies.ambiguity``):
a probability within 1e-5 (float32) / 1e-10 (float64) of 0 or 1 under a loss computed
on probabilities, and a ReLU unit within rounding of its kink. Their forward pass is
still checked; their gradients and step are not, and hypothesis counts them
(``--hypothesis-show-statistics``). test_edges.py checks both situations exactly.

A failure prints the shrunk lesson as a declaration to paste into lessons.py.
Budget: the ``ci`` profile (conftest.py) runs a fixed, small number of examples;
``--hypothesis-profile=thorough`` runs 2,000 per framework.
"""

from __future__ import annotations

import pytest
from hypothesis import currently_in_test_context, event, given, note
from hypothesis import strategies as st

from conformance.lessons import Lesson

from ..cases import Case, case_inputs, reference_model, uses_probabilities
from ..checks import run_check
from .strategies import ambiguity, declaration, lessons

PROPERTY_CHECKS = ("forward", "gradients", "step")


@given(data=st.data())
def test_random_lessons_agree(framework, dtypes, data):
    check_random_lesson(framework, data.draw(lessons(), label="lesson"), data.draw(st.sampled_from(dtypes), label="dtype"))


# Failures the thorough runs found, kept as they were printed (and fixed where they were).
FOUND = {
    # float32: a saturated softmax's 4e-43 is a subnormal, which TensorFlow flushes to 0; times inputs
    # of 30, that exceeded the rounding bound until magnitudes.py floored every stage at tiny / eps.
    "subnormal-flushed-by-tensorflow": (Lesson(
        name='property',
        sizes=(23, 18, 1),
        activations=('softmax', 'linear'),
        loss='bce_logits',
        init='he_normal',
        dataset='random',
        seed_text='a random lesson drawn by conformance/tests/strategies.py',
        seed=1,
        dataset_args=(('samples', 1), ('features', 23), ('outputs', 1), ('targets', 'binary'), ('scale', 30.0),
                      ('seed', 2)),
    ), "float32"),
    # float64 on keras-torch (found by the thorough run, shrunk): a saturated sigmoid's 1.2e-98 reaches a
    # Dense that Keras computes in float32 (known difference keras-float64-computed-in-float32), where it
    # underflows to 0, so dL/dW2[1, 0] is 0 for the reference's 2e-98. The difference's float32 bound now
    # floors the magnitudes at float32's tiny / eps, the precision it computes in (checks.run_check).
    "float64-underflowing-in-a-float32-dense": (Lesson(
        name='property',
        sizes=(1, 2, 1, 1),
        activations=('sigmoid', 'relu', 'leaky_relu'),
        loss='mse',
        init='glorot_uniform',
        dataset='random',
        seed_text='a random lesson drawn by conformance/tests/strategies.py',
        dataset_args=(('samples', 1), ('features', 1), ('outputs', 1), ('targets', 'real'), ('scale', 1000.0),
                      ('seed', 1)),
    ), "float64"),
}


@pytest.mark.parametrize("found", FOUND)
def test_what_the_thorough_runs_found(framework, found):
    lesson, dtype = FOUND[found]
    check_random_lesson(framework, lesson, dtype)


def _count(what: str) -> None:
    """Count ``what`` in hypothesis's statistics (a FOUND lesson runs outside hypothesis: nothing to count)."""
    if currently_in_test_context():
        event(what)


def check_random_lesson(framework, lesson, dtype):
    """Forward, gradients and step of ``lesson`` on ``framework`` (forward only where rounding decides)."""
    params, X, _ = case_inputs(lesson, dtype)
    model = reference_model(lesson, params, framework, dtype, framework)
    model.forward(X)
    why = ambiguity(lesson, model, X, uses_probabilities(lesson.loss, framework, lesson.activations[-1]), dtype)
    checks = PROPERTY_CHECKS
    if why:
        _count(f"forward only: {why}")
        checks = ("forward",)
    case = Case(lesson.name, framework, dtype)
    for check in checks:
        result = run_check(check, case, lesson=lesson, scaled=True)
        if result.known:
            _count(f"known difference: {result.known}")
        elif not result.passed:
            note(declaration(lesson))
            pytest.fail(
                f"{result.comparison.message()}\n"
                f"{check} of a random {framework} {dtype} lesson disagrees. To keep it, paste into "
                f"conformance/lessons.py:\n{declaration(lesson)}",
                pytrace=False,
            )
