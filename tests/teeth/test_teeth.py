"""The suite has teeth: break one line of the reference and the conformance checks fail.

Each mutation below is a classic from-scratch mistake. With it in place, the
checks must fail on the lessons that exercise the broken line, and name the
quantity that is wrong; with the reference intact, the same checks pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import Case
from conformance.checks import run_check
from frameworks import available_frameworks
from reference import activations, dense, losses, optimizers

FRAMEWORK = next(iter(available_frameworks()), None)
pytestmark = pytest.mark.skipif(FRAMEWORK is None, reason="no framework installed to compare against")


def sigmoid_derivative_of_z(self, z, a):
    return z * (1 - z)  # the derivative applied to z instead of a = sigmoid(z)


def mse_without_one_over_m(self, y_pred, y):
    return 2 * (y_pred - y)  # forgot to divide by the number of elements


def bias_gradient_as_mean(self, dz, **kwargs):
    dW, db, dx = ORIGINAL_DENSE_BACKWARD(self, dz, **kwargs)
    return dW, dz.mean(axis=0), dx  # mean over the batch: an extra 1/N


def bias_gradient_wrong_axis(self, dz, **kwargs):
    dW, db, dx = ORIGINAL_DENSE_BACKWARD(self, dz, **kwargs)
    return dW, dz.sum(axis=1), dx  # summed over the units instead of the batch


def forward_without_bias(self, x):
    self._x = x
    return x @ self.kernel


def softmax_over_columns(self, z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def sgd_adds(self, params, grads):
    for name, p in params.items():
        p += self.learning_rate * grads[name]


def relu_derivative_everywhere_one(self, z, a):
    return np.ones_like(z)


def fused_bce_without_one_over_m(self, z, y, **kwargs):
    return activations.Sigmoid().forward(z) - y


def bce_on_probabilities_without_one_over_m(self, y_pred, y):
    return (y_pred - y) / np.maximum(y_pred * (1 - y_pred), losses.TORCH_BCE_GRAD_EPS)


ORIGINAL_DENSE_BACKWARD = dense.Dense.backward

# mutation -> (class, attribute, replacement, lessons that exercise it, check that must fail, quantity named)
MUTATIONS = {
    "sigmoid-derivative-of-z": (activations.Sigmoid, "derivative", sigmoid_derivative_of_z,
                                ["xor-mse", "sigmoid-mlp"], "gradients", "W1"),
    "mse-missing-1/m": (losses.MeanSquaredError, "backward", mse_without_one_over_m,
                        # not "neuron": with one sample and one output, 1/m = 1 and the bug is invisible
                        ["xor-relu", "keras-4-64-32-1"], "gradients", None),
    "bias-gradient-mean": (dense.Dense, "backward", bias_gradient_as_mean,
                           ["spiral", "circles"], "gradients", "b"),
    "bias-gradient-wrong-axis": (dense.Dense, "backward", bias_gradient_wrong_axis,
                                 ["spiral"], "gradients", "b"),
    "forward-without-bias": (dense.Dense, "forward", forward_without_bias,
                             ["spiral", "tanh-4-5-4-1"], "forward", "z1"),
    "softmax-wrong-axis": (activations.Softmax, "forward", softmax_over_columns,
                           ["sensor"], "forward", "a2"),
    "sgd-update-adds": (optimizers.SGD, "update", sgd_adds,
                        ["spiral", "xor-mse"], "step", "W"),
    "relu-derivative-one": (activations.ReLU, "derivative", relu_derivative_everywhere_one,
                            ["circles", "spiral"], "gradients", "W1"),
    "fused-bce-missing-1/m": (losses.BinaryCrossEntropyWithLogits, "backward", fused_bce_without_one_over_m,
                              ["circles", "sigmoid-mlp"], "gradients", None),
    "bce-on-probabilities-missing-1/m": (losses.BinaryCrossEntropy, "backward",
                                         bce_on_probabilities_without_one_over_m,
                                         ["circles", "sigmoid-mlp"], "gradients", None),
}

# The framework each mutation is caught against, where it matters: sigmoid + BCE is computed
# from the logits (the fused path) as Keras on TensorFlow does, and from the probabilities as
# torch's BCELoss does (conformance/cases.py).
FRAMEWORK_FOR = {"fused-bce-missing-1/m": "keras", "bce-on-probabilities-missing-1/m": "torch"}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_broken_reference_fails_the_suite(mutation, monkeypatch):
    cls, attr, replacement, lessons, check, quantity = MUTATIONS[mutation]
    framework = FRAMEWORK_FOR.get(mutation, FRAMEWORK)
    if framework not in available_frameworks():
        pytest.skip(f"{mutation} is caught against {framework}, which cannot run here")
    cases = [Case(lesson, framework, dtype) for lesson in lessons for dtype in ("float64", "float32")]
    for case in cases:  # intact: the same checks pass
        assert run_check(check, case).passed, f"{check} of {case.id} fails before the mutation"
    monkeypatch.setattr(cls, attr, replacement)
    for case in cases:
        result = run_check(check, case)
        assert not result.passed, f"{mutation}: {check} of {case.id} still passes"
        failing = [item.name for item in result.comparison.failures()]
        if quantity is not None:
            assert any(name.startswith(quantity) for name in failing), (mutation, failing)
        assert result.comparison.message(), "a failure must come with a report"
