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
from hypothesis import event, given, note
from hypothesis import strategies as st

from .checks import Case, case_inputs, reference_model, run_check
from .loss_conventions import uses_probabilities
from .strategies import ambiguity, declaration, lessons

PROPERTY_CHECKS = ("forward", "gradients", "step")


@given(data=st.data())
def test_random_lessons_agree(framework, dtypes, data):
    lesson = data.draw(lessons(), label="lesson")
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    params, X, _ = case_inputs(lesson, dtype)
    model = reference_model(lesson, params, framework, dtype, framework)
    model.forward(X)
    why = ambiguity(lesson, model, X, uses_probabilities(lesson.loss, framework, lesson.activations[-1]), dtype)
    checks = PROPERTY_CHECKS
    if why:
        event(f"forward only: {why}")
        checks = ("forward",)
    case = Case(lesson.name, framework, dtype)
    for check in checks:
        result = run_check(check, case, lesson=lesson, scaled=True)
        if result.known:
            event(f"known difference: {result.known}")
        elif not result.passed:
            note(declaration(lesson))
            pytest.fail(
                f"{result.comparison.message()}\n"
                f"{check} of a random {framework} {dtype} lesson disagrees. To keep it, paste into "
                f"conformance/lessons.py:\n{declaration(lesson)}",
                pytrace=False,
            )
