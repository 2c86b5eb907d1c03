"""Centred finite differences against every analytic derivative of the reference, in float64.

For a scalar function f of an array x, the centred difference
(f(x + h e_i) - f(x - h e_i)) / (2 h) has error O(h**2) (about 1e-10 relative
for h = 1e-5 on these smooth, O(1) functions) plus rounding of order eps / h
(about 1e-11). The project's bar is a relative error of at most 1e-7, which
leaves room for both and still catches any wrong formula (those are off by
O(1) relative). Inputs stay away from the ReLU kink (|z| >= 0.1 > h).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import reference_model
from conformance.lessons import LESSONS, canonical_params, lesson_data
from reference import ACTIVATIONS, get_activation
from reference.dense import Dense
from reference.losses import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CategoricalCrossEntropy,
    CategoricalCrossEntropyWithLogits,
    HalfSumSquaredError,
    MeanSquaredError,
)

H = 1e-5
MAX_REL_ERR = 1e-7  # the project's bar (see module doc)

# Activations whose backward is a convention, not the derivative finite differences measure.
NOT_A_DERIVATIVE = {
    "step": "the step's backward is the perceptron rule's straight-through convention (1); its derivative "
    "is 0. conformance/tests/test_perceptron.py checks the rule it gives instead.",
}


def numeric_gradient(f, x: np.ndarray) -> np.ndarray:
    """dF/dx by centred differences, one element at a time (x is modified and restored)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + H
        f_plus = f()
        x[i] = old - H
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * H)
    return grad


def rel_err(analytic, numeric) -> float:
    """max |a - n| / max(|a|, |n|, 1e-3): relative where the gradient is not tiny."""
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-3)
    return float(np.max(np.abs(analytic - numeric) / scale))


def away_from_kink(rng, shape):
    z = rng.uniform(-3, 3, shape)
    return np.where(np.abs(z) < 0.1, np.sign(z + 1e-12) * 0.1 + z, z)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward(name):
    if name in NOT_A_DERIVATIVE:
        pytest.skip(NOT_A_DERIVATIVE[name])
    rng = np.random.default_rng(1)
    act = get_activation(name)
    z = away_from_kink(rng, (5, 4))
    upstream = rng.normal(size=(5, 4))  # L = sum(upstream * f(z)) makes dL/da = upstream

    def loss():
        return float(np.sum(upstream * act.forward(z)))

    analytic = act.backward(z, act.forward(z), upstream)
    assert rel_err(analytic, numeric_gradient(loss, z)) <= MAX_REL_ERR


def _probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


LOSS_CASES = {
    "mse": (MeanSquaredError(), lambda rng: rng.normal(size=(6, 2)), lambda rng: rng.normal(size=(6, 2))),
    "half_sse": (HalfSumSquaredError(), lambda rng: rng.normal(size=(6, 2)), lambda rng: rng.normal(size=(6, 2))),
    "bce-torch": (BinaryCrossEntropy("torch"), lambda rng: _probabilities(rng, (6, 1)),
                  lambda rng: rng.integers(0, 2, (6, 1)).astype(float)),
    "bce-keras": (BinaryCrossEntropy("keras"), lambda rng: _probabilities(rng, (6, 1)),
                  lambda rng: rng.integers(0, 2, (6, 1)).astype(float)),
    "bce_logits": (BinaryCrossEntropyWithLogits(), lambda rng: rng.normal(0, 3, (6, 1)),
                   lambda rng: rng.integers(0, 2, (6, 1)).astype(float)),
    "cce-torch": (CategoricalCrossEntropy("torch"), lambda rng: _probabilities(rng, (6, 3)),
                  lambda rng: np.eye(3)[rng.integers(0, 3, 6)]),
    "cce-keras": (CategoricalCrossEntropy("keras"), lambda rng: _probabilities(rng, (6, 3)),
                  lambda rng: np.eye(3)[rng.integers(0, 3, 6)]),
    "cce_logits": (CategoricalCrossEntropyWithLogits(), lambda rng: rng.normal(0, 3, (6, 3)),
                   lambda rng: np.eye(3)[rng.integers(0, 3, 6)]),
}


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_loss_backward(name):
    rng = np.random.default_rng(2)
    loss, make_pred, make_y = LOSS_CASES[name]
    pred, y = make_pred(rng), make_y(rng)
    analytic = loss.backward(pred, y)
    numeric = numeric_gradient(lambda: loss.forward(pred, y), pred)
    assert rel_err(analytic, numeric) <= MAX_REL_ERR


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
def test_dense_backward(use_bias):
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 4))
    b = rng.normal(size=4) if use_bias else None
    upstream = rng.normal(size=(5, 4))
    layer = Dense(W, b)

    def loss():
        return float(np.sum(upstream * layer.forward(x)))

    layer.forward(x)
    dW, db, dx = layer.backward(upstream)
    assert rel_err(dW, numeric_gradient(loss, W)) <= MAX_REL_ERR
    assert rel_err(dx, numeric_gradient(loss, x)) <= MAX_REL_ERR
    if use_bias:
        assert rel_err(db, numeric_gradient(loss, b)) <= MAX_REL_ERR
    else:
        assert db is None


# Lessons with dropout, batchnorm or a penalty have their own check in test_regularizers.py.
@pytest.mark.parametrize("lesson", sorted(name for name, spec in LESSONS.items() if not spec.regularized))
def test_mlp_gradients(lesson):
    """The whole network's backward against finite differences of its loss, every parameter and X."""
    spec = LESSONS[lesson]
    for name in set(spec.activations) & set(NOT_A_DERIVATIVE):
        pytest.skip(NOT_A_DERIVATIVE[name])
    X, y = lesson_data(spec)
    X, y = X[:16].copy(), y[:16]  # a few samples keep the O(params x samples) loop fast
    model = reference_model(spec, canonical_params(spec))  # the lesson's loss: its class weights too
    if "relu" in spec.activations:  # stay off the kink: no pre-activation within 10 h of 0
        model.forward(X)
        assert min(np.min(np.abs(z)) for z in model.z[:-1]) > 10 * H, "a ReLU input sits at the kink"
    analytic = model.gradients(X, y)
    for name, p in list(model.params.items()) + [("X", X)]:
        numeric = numeric_gradient(lambda: model.loss_value(X, y), p)
        assert rel_err(analytic[name], numeric) <= MAX_REL_ERR, f"{lesson}: gradient of {name}"
