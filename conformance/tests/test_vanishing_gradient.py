"""The deep lessons show the vanishing gradient, and every framework shows the same ratio.

Ten sigmoid layers (Xavier) shrink the gradient on its way back to the first layer by
about a million; ten ReLU layers (He) keep it of the same order. The ``gradient_norms``
check compares the per-layer norms; here the size of the effect is asserted.
"""

from __future__ import annotations

import pytest

from frameworks import available_frameworks, unavailable_reason

from ..cases import Case
from ..checks import run_check

# Measured |dW1| / |dW11| at the initial weights: deep-sigmoid 1.2e-6, deep-relu 0.19.
VANISHED, KEPT = 1e-4, 1e-2


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_gradient_vanishes_and_relu_keeps_it(framework, dtype):
    if unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))  # names the extra that installs it
    sigmoid = run_check("gradient_norms", Case("deep-sigmoid", framework, dtype))
    relu = run_check("gradient_norms", Case("deep-relu", framework, dtype))
    assert sigmoid.passed and relu.passed, sigmoid.comparison.message() + relu.comparison.message()
    assert sigmoid.info["ratio"] == relu.info["ratio"] == "|dW1| / |dW11|"
    for side in ("reference", framework):
        assert sigmoid.info[side] < VANISHED, f"{side}: deep-sigmoid {sigmoid.info[side]:.2e}"
        assert relu.info[side] > KEPT, f"{side}: deep-relu {relu.info[side]:.2e}"


def test_a_wrong_sigmoid_derivative_is_caught_by_the_norms(monkeypatch):
    """sigmoid'(z) taken as a * (1 + a): the norms of the layers below the output disagree."""
    framework = next(iter(available_frameworks()), None)
    if framework is None:
        pytest.skip("no framework installed")
    from reference import activations

    monkeypatch.setattr(activations.Sigmoid, "derivative", lambda self, z, a: a * (1 + a))
    result = run_check("gradient_norms", Case("deep-sigmoid", framework, "float64"))
    assert not result.passed
    assert "|dW1|" in [item.name for item in result.comparison.failures()]
