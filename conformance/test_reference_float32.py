"""The reference's own float32 mode agrees with torch's and Keras's float32 models.

Every lesson, every check that one step makes (forward, loss, gradients, step):
``MLP(..., dtype="float32")`` against the framework in float32, at the
``float32 reference`` tolerance (``compare.TOLERANCES``), and every array of the
reference float32 as the frameworks' are. Checked against torch and Keras on
TensorFlow; Keras on JAX and torch runs the same Keras layers (its float32 lesson
checks are in test_forward.py and the others).
"""

from __future__ import annotations

import pytest

from .helpers import needs
from .lessons import LESSONS
from .reference_float32 import FLOAT32_CHECKS, compare_float32

FRAMEWORKS_CHECKED = ("torch", "keras")


@pytest.mark.parametrize("framework", FRAMEWORKS_CHECKED)
@pytest.mark.parametrize("check", FLOAT32_CHECKS)
@pytest.mark.parametrize("lesson", list(LESSONS))
def test_reference_in_float32_agrees_with_the_framework_in_float32(lesson, check, framework):
    needs(framework)
    comparison = compare_float32(check, LESSONS[lesson], framework)
    assert comparison.passed, comparison.message()
