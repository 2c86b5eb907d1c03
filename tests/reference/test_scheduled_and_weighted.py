"""The reference pieces of the schedule and class-weight lessons, NumPy only: ``ExponentialDecay`` in either
dtype, ``Scheduled`` (the rate set from the step count before every update), and the class-weighted
cross-entropy as a loss of the MLP (``ClassWeightedCrossEntropy``), against finite differences and the
formulas their docstrings write. Against the frameworks: conformance/tests/test_schedule_and_class_weight_lessons.py.
"""

from __future__ import annotations

import warnings

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


def test_the_probability_form_divides_as_its_divisor_says():
    """ClassWeightedCrossEntropy on probabilities against the formula written out here (the finite-difference
    test cannot see the divisor: forward and backward share it)."""
    z, y = logits_and_targets()
    p = Softmax().forward(z)
    s = y @ np.array(WEIGHTS)
    per_sample = -(y * np.log(p)).sum(axis=1)
    for divisor, total in (("sum_of_weights", s.sum()), ("batch_size", len(y))):
        loss = ClassWeightedCrossEntropy(WEIGHTS, divisor)
        assert loss.forward(p, y) == pytest.approx(s @ per_sample / total, rel=1e-14)
        np.testing.assert_allclose(loss.backward(p, y), -(s[:, None] * y) / p / total, rtol=1e-14)


def test_soft_targets_get_the_written_formula_too():
    """Targets that are not one-hot (label smoothing): s_i = y_i . w, the loss sum_i s_i (-y_i . log p_i) / total
    and its gradient -s_i y_i / p_i / total, written out here (one-hot targets cannot tell s * y from s / y;
    finite differences of log p at p = 0.004 carry a truncation error above the 1e-7 bar)."""
    z, y = logits_and_targets()
    y = 0.9 * y + 0.1 / 3
    p = Softmax().forward(z)
    s = y @ np.array(WEIGHTS)
    for divisor, total in (("sum_of_weights", s.sum()), ("batch_size", len(y))):
        loss = ClassWeightedCrossEntropy(WEIGHTS, divisor)
        assert loss.forward(p, y) == pytest.approx(s @ -(y * np.log(p)).sum(axis=1) / total, rel=1e-14)
        np.testing.assert_allclose(loss.backward(p, y), -(s[:, None] * y) / p / total, rtol=1e-14)


@pytest.mark.parametrize("divisor", sorted(CLASS_WEIGHT_DIVISORS))
def test_probabilities_of_exactly_zero_warn_nothing(divisor):
    """A saturated softmax (p = 0 where the target is 0) adds nothing to the loss or its gradient, and a target
    at p = 0 gives an infinite loss (as torch's does): neither shows the learner NumPy's RuntimeWarnings of
    0 * log 0, 0 / 0 or 1 / 0."""
    y = np.eye(3)[[0, 1]]
    saturated = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    wrong = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    loss = ClassWeightedCrossEntropy(WEIGHTS, divisor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loss.forward(saturated, y) == 0.0
        gradient = loss.backward(saturated, y)
        assert loss.forward(wrong, y) == np.inf
        infinite = loss.backward(wrong, y)
    assert np.isfinite(gradient).all() and gradient[0, 1] == gradient[0, 2] == 0.0
    assert infinite[0, 0] == -np.inf


def test_a_shape_mismatch_of_the_logits_is_named():
    z, y = logits_and_targets()
    with pytest.raises(ValueError, match=r"ClassWeightedCrossEntropyWithLogits: z and y must have the same shape"):
        ClassWeightedCrossEntropyWithLogits(WEIGHTS).forward(z[:, :2], y)


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
