"""The reference's own float32 mode agrees with torch's and Keras's float32 models.

Every lesson, every check that one step makes (forward, loss, gradients, step):
``MLP(..., dtype="float32")`` against the framework in float32, at the
``float32 reference`` tolerance (``compare.TOLERANCES``), and every array of the
reference float32 as the frameworks' are. Checked against torch and Keras on
TensorFlow; Keras on JAX and torch runs the same Keras layers (its float32 lesson
checks are in test_forward.py and the others).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks.components import activation_inputs
from conformance.checks.reference_float32 import FLOAT32_CHECKS, compare_float32
from conformance.lessons import LESSONS
from conformance.tests.support import needs
from reference import ACTIVATIONS

from ..compare import assert_agree
from ..tolerances import tolerance

FRAMEWORKS_CHECKED = ("torch", "keras")


@pytest.mark.parametrize("framework", FRAMEWORKS_CHECKED)
@pytest.mark.parametrize("check", FLOAT32_CHECKS)
@pytest.mark.parametrize("lesson", list(LESSONS))
def test_reference_in_float32_agrees_with_the_framework_in_float32(lesson, check, framework):
    needs(framework)
    comparison = compare_float32(check, LESSONS[lesson], framework)
    assert comparison.passed, comparison.message()


@pytest.mark.parametrize("check", FLOAT32_CHECKS)
@pytest.mark.parametrize("lesson", ["spiral", "sensor", "spiral-batchnorm"])
def test_reference_in_float32_rounds_float64_input_itself(lesson, check):
    """A learner's weights and data are float64 NumPy arrays. ``MLP(..., dtype="float32")`` given them
    must round them to float32 itself (as ``torch.tensor(X, dtype=torch.float32)`` and Keras's float32
    layers do) and compute in float32: the same results, every array float32."""
    needs("torch")
    comparison = compare_float32(check, LESSONS[lesson], "torch", given="float64")
    assert comparison.passed, comparison.message()


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_each_activation_in_float32_agrees_with_torch_in_float32(name):
    """Each activation alone, as components.py checks it in float64, in float32: a = f(z) and dz float32,
    as torch's, and the same values (no lesson uses leaky_relu or step, so the lessons above cannot tell)."""
    needs("torch")
    import torch

    from frameworks.torch_twin import ACTIVATIONS as TORCH_ACTIVATIONS

    z, da = (x.astype(np.float32) for x in activation_inputs())
    zt = torch.tensor(z, requires_grad=True)
    at = TORCH_ACTIVATIONS[name](zt)
    at.backward(torch.tensor(da))
    act = ACTIVATIONS[name]()
    a = act.forward(z)
    tol = tolerance("float32", "reference")
    assert_agree({"a": a, "dz": act.backward(z, a, da)}, {"a": at.detach().numpy(), "dz": zt.grad.numpy()},
                 atol=tol.atol, rtol=tol.rtol, what=f"{name} in float32", dtype="float32")
