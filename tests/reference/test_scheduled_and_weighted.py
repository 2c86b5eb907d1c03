"""The reference pieces of the schedule and class-weight lessons, NumPy only: ``ExponentialDecay`` in either
dtype, ``Scheduled`` (the rate set from the step count before every update), and the class-weighted
cross-entropy as a loss of the MLP (``ClassWeightedCrossEntropy``), against finite differences and the
formulas their docstrings write. Against the frameworks: conformance/tests/test_schedule_and_class_weight_lessons.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import MLP, SGD
from reference.activations import Softmax
from reference.loss_conventions import (
    CLASS_WEIGHT_DIVISORS,
    ClassWeightedCrossEntropy,
    ClassWeightedCrossEntropyWithLogits,
)
from reference.training_conventions import ExponentialDecay, Scheduled

H, MAX_REL_ERR = 1e-5, 1e-7  # centred differences and the project's bar (tests/reference/test_gradcheck.py)
WEIGHTS = (1.0, 2.0, 4.0)


def numeric_gradient(f, x: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + H
        up = f()
        x[i] = old - H
        grad[i] = (up - f()) / (2 * H)
        x[i] = old
    return grad


def rel_err(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


def logits_and_targets():
    rng = np.random.default_rng(3)
    labels = np.array([0, 1, 2, 2, 1, 0, 2])
    return rng.normal(size=(7, 3)), np.eye(3)[labels]


# ----- the schedule ----------------------------------------------------------------------------------------

def test_the_float64_schedule_is_python_s_formula_and_the_default_is_float32():
    exact = [1.0 * 0.9 ** (k / 200) for k in range(0, 5000, 37)]
    assert [ExponentialDecay(1.0, 200, 0.9, dtype="float64")(k) for k in range(0, 5000, 37)] == exact
    float32 = [ExponentialDecay(1.0, 200, 0.9)(k) for k in range(0, 5000, 37)]
    assert float32 == [float(np.float32(r)) for r in float32] and float32 != exact
    assert ExponentialDecay(1.0, 200, 0.9, staircase=True, dtype="float64")(399) == 0.9
    with pytest.raises(ValueError, match="ExponentialDecay: dtype must be float32 or float64. Received: dtype='float16'"):
        ExponentialDecay(1.0, 200, 0.9, dtype="float16")


def test_scheduled_sets_the_rate_of_each_step_from_its_count():
    """SGD on p with gradient 1: each step moves p by the rate it used, schedule(0), schedule(1), ..."""
    schedule = ExponentialDecay(0.5, 3, 0.25, dtype="float64")
    optimizer = Scheduled(SGD(learning_rate=0.5), schedule)
    p = {"w": np.zeros(1)}
    moves = []
    for _ in range(5):
        before = p["w"][0]
        optimizer.update(p, {"w": np.ones(1)})
        moves.append(before - p["w"][0])
    assert moves == pytest.approx([schedule(k) for k in range(5)], rel=1e-15)
    assert optimizer.iterations == 5 and optimizer.learning_rate == schedule(4)  # the optimizer's own, read through


# ----- the class-weighted loss -----------------------------------------------------------------------------

@pytest.mark.parametrize("divisor", sorted(CLASS_WEIGHT_DIVISORS))
def test_the_weighted_loss_s_gradients_are_its_derivative(divisor):
    z, y = logits_and_targets()
    logits = ClassWeightedCrossEntropyWithLogits(WEIGHTS, divisor)
    assert rel_err(logits.backward(z, y), numeric_gradient(lambda: logits.forward(z, y), z)) <= MAX_REL_ERR
    p = Softmax().forward(z)
    probabilities = ClassWeightedCrossEntropy(WEIGHTS, divisor)
    assert rel_err(probabilities.backward(p, y), numeric_gradient(lambda: probabilities.forward(p, y), p)) <= MAX_REL_ERR


def test_the_divisors_are_the_weights_sum_and_n():
    z, y = logits_and_targets()
    s = y @ np.array(WEIGHTS)  # 1, 2, 4, 4, 2, 1, 4: the sum is 18, N is 7
    per_sample = np.log(np.exp(z).sum(axis=1)) - (z * y).sum(axis=1)
    by_weights = ClassWeightedCrossEntropyWithLogits(WEIGHTS, "sum_of_weights").forward(z, y)
    by_n = ClassWeightedCrossEntropyWithLogits(WEIGHTS, "batch_size").forward(z, y)
    assert by_weights == pytest.approx(s @ per_sample / 18, rel=1e-14)
    assert by_n == pytest.approx(s @ per_sample / 7, rel=1e-14)
    assert by_n / by_weights == pytest.approx(18 / 7, rel=1e-14)


def test_the_mlp_computes_it_from_the_logits_or_the_probabilities_alike():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(2, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 3)),
              "b2": rng.normal(size=3)}
    X, (_, y) = rng.normal(size=(7, 2)), logits_and_targets()
    fused = MLP(params, ["relu", "softmax"], ClassWeightedCrossEntropy(WEIGHTS), fuse=True)
    unfused = MLP(params, ["relu", "softmax"], ClassWeightedCrossEntropy(WEIGHTS), fuse=False)
    assert fused.fused and not unfused.fused
    assert fused.loss_value(X, y) == pytest.approx(unfused.loss_value(X, y), rel=1e-13)
    a, b = fused.gradients(X, y), unfused.gradients(X, y)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_float32_stays_float32_and_a_bad_divisor_is_refused():
    z, y = logits_and_targets()
    loss = ClassWeightedCrossEntropyWithLogits(WEIGHTS)
    assert loss.backward(z.astype(np.float32), y.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"divisor must be one of \['batch_size', 'sum_of_weights'\]. "
                                         r"Received: divisor='mean'"):
        ClassWeightedCrossEntropy(WEIGHTS, "mean")
    with pytest.raises(ValueError, match=r"expected one weight per class, shape \(3,\). Received: \(2,\)"):
        ClassWeightedCrossEntropyWithLogits((1.0, 2.0)).forward(z, y)
