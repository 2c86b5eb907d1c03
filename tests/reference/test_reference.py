"""The reference on its own: the seeds' numbers, dtypes, stability at extreme logits, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conformance.lessons import LESSONS, canonical_params
from reference import (
    MLP,
    SGD,
    MiniBatches,
    RegularizedMLP,
    get_activation,
    get_initializer,
    get_loss,
)
from reference.training import batches, fit


def test_single_neuron_matches_the_lesson():
    """w=[0.3, -0.1], b=0.2, x=[0.5, 0.8]: z = 0.2700, sigmoid(z) = 0.5671 (printed to 4 places)."""
    model = MLP(canonical_params(LESSONS["neuron"]), ["sigmoid"], "mse")
    a = model.forward([[0.5, 0.8]])
    assert round(float(model.z[0][0, 0]), 4) == 0.2700
    assert round(float(a[0, 0]), 4) == 0.5671


@pytest.mark.parametrize("lesson", ["spiral", "sensor", "xor-mse"])
def test_float32_stays_float32_and_tracks_float64(lesson):
    spec = LESSONS[lesson]
    from conformance.lessons import lesson_data

    X, y = lesson_data(spec)
    m64 = MLP(canonical_params(spec), spec.activations, spec.loss, dtype="float64")
    m32 = MLP(canonical_params(spec), spec.activations, spec.loss, dtype="float32")
    g64, g32 = m64.gradients(X, y), m32.gradients(X, y)
    assert all(v.dtype == np.float32 for v in m32.params.values())
    assert all(g.dtype == np.float32 for g in g32.values()), {k: g.dtype for k, g in g32.items()}
    assert m32.a[-1].dtype == np.float32
    for name in g64:
        # float32 against float64 on the same weights: ~1e-7 relative per operation,
        # a few dozen operations deep: 1e-5 absolute on O(1) values is comfortably above that.
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-5, rtol=1e-4, err_msg=name)


@pytest.mark.parametrize(
    "activation,loss,k",
    [("sigmoid", "bce", 1), ("softmax", "cce", 3), ("sigmoid", "mse", 1), ("linear", "bce_logits", 1),
     ("linear", "cce_logits", 3), ("tanh", "mse", 1)],
)
def test_no_overflow_warnings_at_logits_of_1000(activation, loss, k):
    """Logits of +-1000 give finite losses and gradients without a single numpy warning."""
    W = np.array([[1000.0] * k, [-1000.0] * k])
    b = np.zeros(k)
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.eye(k)[[0, k - 1]] if k > 1 else np.array([[0.0], [1.0]])
    model = MLP({"W1": W, "b1": b}, [activation], loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = model.loss_value(X, y)
        grads = model.gradients(X, y)
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_fused_bce_is_exact_at_large_logits():
    """sigmoid + BCE from the logits: a confident wrong answer at z = 40 costs exactly 40 (not a clipped 16.1)."""
    model = MLP({"W1": np.array([[40.0]]), "b1": np.array([0.0])}, ["sigmoid"], "bce")
    assert model.loss_value([[1.0]], [[0.0]]) == pytest.approx(40.0, rel=1e-15)


def test_sigmoid_is_stable_and_symmetric():
    s = get_activation("sigmoid")
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = s.forward(z)
    np.testing.assert_array_equal(a + s.forward(-z), np.ones_like(z))
    assert a[0] == 0.0 and a[-1] == 1.0 and a[2] == 0.5


def test_bce_conventions_at_probability_zero():
    """The torch clamp (log >= -100) and the Keras clip (p >= 1e-7) give the documented values."""
    p, y = np.array([[0.0]]), np.array([[1.0]])
    assert get_loss("bce").forward(p, y) == pytest.approx(100.0)
    from reference.losses import BinaryCrossEntropy

    assert BinaryCrossEntropy("keras").forward(p, y) == pytest.approx(-np.log(1e-7))  # 16.118
    assert BinaryCrossEntropy("keras").backward(p, y)[0, 0] == 0.0  # clipped: no gradient


def test_sgd_update_formula():
    params = {"W1": np.array([[1.0, 2.0]])}
    SGD(learning_rate=0.5).update(params, {"W1": np.array([[0.2, -0.4]])})
    np.testing.assert_array_equal(params["W1"], [[0.9, 2.2]])


def test_the_caller_s_weights_are_never_changed():
    spec = LESSONS["spiral"]
    from conformance.lessons import lesson_data

    params = canonical_params(spec)
    before = {k: v.copy() for k, v in params.items()}
    X, y = lesson_data(spec)
    MLP(params, spec.activations, spec.loss).step(X, y, SGD(0.1))
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: MLP({"W1": np.ones((2, 3)), "W2": np.ones((4, 1))}, ["relu", "sigmoid"]), "W2 has shape (4, 1)"),
        (lambda: MLP({"W1": np.ones((2, 3)), "b1": np.ones(4)}, ["relu"]), "bias must have shape (3,)"),
        (lambda: MLP({"W1": np.ones((2, 3))}, ["relu", "relu"]), "1 layers need 1 activations"),
        (lambda: MLP({"W1": np.ones((2, 3))}, ["swish"]), "unknown activation 'swish'"),
        (lambda: MLP({"W1": np.ones((2, 3))}, ["relu"], "hinge"), "unknown loss 'hinge'"),
        (lambda: MLP({"W1": np.ones((2, 3)), "kernel": np.ones(2)}, ["relu"]), "must be named W1, b1"),
        (lambda: MLP({"W1": np.ones((2, 3))}, ["relu"]).forward(np.ones((5, 3))),
         "X must have shape (N, 2) to feed W1 of shape (2, 3). Received: X.shape=(5, 3)"),
        (lambda: MLP({"W1": np.ones((2, 1))}, ["sigmoid"], "bce").loss_value(np.ones((5, 2)), np.ones(5)),
         "y must have the output's shape (5, 1)"),
        (lambda: get_initializer("normal", scale=-1), "expected a positive scale. Received: scale=-1"),
        (lambda: get_initializer("glorot_uniform")((4,), np.random.default_rng(0)), "fan_in and fan_out"),
        (lambda: SGD(learning_rate=0), "expected a positive learning_rate"),
    ],
)
def test_bad_input_names_the_thing_at_fault(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)


def test_cce_on_probabilities_ignores_a_zero_probability_of_a_non_target_class():
    """0 * log 0 counts as 0 (torch: nll_loss(log p, labels) gives 0.5249 here), never NaN."""
    from reference.losses import CategoricalCrossEntropy

    p = np.array([[0.0, 0.3, 0.7], [0.2, 0.3, 0.5]])
    y = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    loss = CategoricalCrossEntropy("torch")
    assert loss.forward(p, y) == pytest.approx(-(np.log(0.7) + np.log(0.5)) / 2, rel=1e-15)
    grad = loss.backward(p, y)
    assert np.all(np.isfinite(grad)) and grad[0, 0] == 0.0


# ----- fit: epochs of MiniBatches through MLP.train ------------------------------------------------------------

def _small_net(seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((7, 2)), rng.integers(0, 2, (7, 1)).astype(float)
    params = {"W1": rng.standard_normal((2, 3)), "b1": rng.standard_normal(3),
              "W2": rng.standard_normal((3, 1)), "b2": rng.standard_normal(1)}
    return X, y, params


def test_fit_is_train_over_the_epochs_in_order_with_the_batch_weighted_loss():
    """7 samples in batches of 3: [0 1 2] [3 4 5] [6] every epoch, never shuffled; each epoch's loss is
    sum(loss_b * len(b)) / 7 of the losses before each update; on_epoch_end sees the weights after the epoch."""
    X, y, params = _small_net()
    after_epoch = {}
    model = MLP(params, ["tanh", "sigmoid"], "bce")
    losses = fit(model, X, y, SGD(0.1), 2, batch_size=3,
                 on_epoch_end=lambda e, m: after_epoch.setdefault(e, m.params["W1"].copy()))
    by_hand, opt, expected, by_hand_after = MLP(params, ["tanh", "sigmoid"], "bce"), SGD(0.1), [], {}
    for epoch in (1, 2):
        l0, l1, l2 = (by_hand.step(X[i:j], y[i:j], opt) for i, j in ((0, 3), (3, 6), (6, 7)))
        expected.append((l0 * 3 + l1 * 3 + l2 * 1) / 7)
        by_hand_after[epoch] = by_hand.params["W1"].copy()
    np.testing.assert_array_equal(losses, expected)
    assert sorted(after_epoch) == [1, 2]
    for epoch in (1, 2):
        np.testing.assert_array_equal(after_epoch[epoch], by_hand_after[epoch])
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, by_hand.params[name], err_msg=name)


def test_fit_full_batch_is_one_step_per_epoch():
    X, y, params = _small_net(1)
    model, by_hand = MLP(params, ["tanh", "sigmoid"], "bce"), MLP(params, ["tanh", "sigmoid"], "bce")
    losses = fit(model, X, y, SGD(0.1), 3)
    opt = SGD(0.1)
    np.testing.assert_array_equal(losses, [by_hand.step(X, y, opt) for _ in range(3)])
    np.testing.assert_array_equal(model.params["W2"], by_hand.params["W2"])


def test_fit_counts_the_dropout_masks_steps_over_the_whole_run():
    """dropout_masks(step, n_rows): step counts from 0 over every epoch, not from 0 in each."""
    X, y, params = _small_net(2)
    asked = []

    def masks(step, n_rows):
        asked.append((step, n_rows))
        return {"dropout1": np.ones((n_rows, 3), dtype=bool)}

    fit(RegularizedMLP(params, ["relu", "sigmoid"], "bce", dropout=0.5), X, y, SGD(0.1), 2, batch_size=3,
        dropout_masks=masks)
    assert asked == [(0, 3), (1, 3), (2, 1), (3, 3), (4, 3), (5, 1)]


def test_batches_is_one_epoch_of_minibatches_in_order():
    """training.batches(X, y, b): the (X[idx], y[idx]) of MiniBatches(N, b, shuffle=False).epoch(0); b=1 allowed."""
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7.0).reshape(7, 1)
    for size in (1, 3, 7, 10):
        got = list(batches(X, y, size))
        assert [len(xb) for xb, _ in got] == [len(idx) for idx in MiniBatches(7, size, shuffle=False).epoch(0)]
        np.testing.assert_array_equal(np.vstack([xb for xb, _ in got]), X)
        np.testing.assert_array_equal(np.vstack([yb for _, yb in got]), y)
