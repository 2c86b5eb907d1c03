"""The perceptron rule, as the seed writes it, is what the reference and both frameworks do.

The seed's ``Perceptron`` updates ``w += lr * (y - y_hat) * x`` one sample at a time.
nnparity writes it as SGD with batch size 1 on 0.5 * (y_hat - y)**2 through a step
whose gradient passes straight through (``reference.activations.Step``); PyTorch and
Keras express the same with a stopped gradient. All of them must hold the seed's
weights after every one of the 15 epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks.training import framework_run, reference_run
from conformance.datasets import load
from conformance.lessons import LESSONS, canonical_params
from frameworks import unavailable_reason
from reference import MLP

LESSON = LESSONS["perceptron-and"]


class Perceptron:
    """The seed's class, as written there."""

    def __init__(self, lr=0.01, epochs=15):
        self.lr = lr
        self.epochs = epochs
        self.weights = None
        self.bias = None

    def activation(self, z):
        return 1 if z >= 0 else 0

    def fit(self, X, y):
        n_samples, n_features = X.shape
        self.weights = np.zeros(n_features)
        self.bias = 0
        for _ in range(self.epochs):
            for idx, x_i in enumerate(X):
                linear = np.dot(x_i, self.weights) + self.bias
                y_pred = self.activation(linear)
                update = self.lr * (y[idx] - y_pred)
                self.weights += update * x_i
                self.bias += update

    def predict(self, X):
        linear = np.dot(X, self.weights) + self.bias
        return np.array([self.activation(z) for z in linear])


def seed_weights_after_each_epoch() -> dict[int, dict[str, np.ndarray]]:
    X, y = load("and")
    out = {}
    for epochs in range(1, LESSON.epochs + 1):
        p = Perceptron(lr=0.01, epochs=epochs)
        p.fit(X, y.ravel())
        out[epochs] = {"W1": p.weights.reshape(2, 1), "b1": np.array([p.bias], dtype=float)}
    return out


def assert_same_weights_every_epoch(snapshots, side):
    expected = seed_weights_after_each_epoch()
    assert sorted(snapshots) == list(range(0, LESSON.epochs + 1)), f"{side}: a snapshot per epoch"
    for epoch, params in expected.items():
        for name, value in params.items():
            # exact: every product is lr * (+-1 or 0) * (0 or 1), and the sums are the same sums
            np.testing.assert_array_equal(snapshots[epoch][name], value, err_msg=f"{side}: {name} after epoch {epoch}")


def test_reference_follows_the_seeds_perceptron_every_epoch():
    assert_same_weights_every_epoch(reference_run(LESSON, "float64").snapshots, "reference")


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_frameworks_follow_the_seeds_perceptron_every_epoch(framework):
    if unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))  # names the extra that installs it
    assert_same_weights_every_epoch(framework_run(LESSON, framework, "float64").snapshots, framework)


def test_the_perceptron_learns_and_within_ten_epochs():
    """The seed: 'Try it on AND gate: converges in <10 iterations'."""
    run = reference_run(LESSON, "float64")
    np.testing.assert_array_equal(run.predictions, [0, 0, 0, 1])
    first_clean = next(epoch for epoch, loss in enumerate(run.losses, start=1) if loss == 0)
    assert first_clean < 10, f"the first epoch without a mistake is {first_clean}"


def test_straight_through_gradient_is_the_perceptron_rule():
    """dL/dW = X.T @ (y_hat - y), dL/db = sum(y_hat - y): minus the rule's update over lr."""
    X, y = load("and")
    model = MLP(canonical_params(LESSON), LESSON.activations, LESSON.loss)
    grads = model.gradients(X, y)
    y_hat = model.a[-1]
    np.testing.assert_array_equal(grads["W1"], X.T @ (y_hat - y))
    np.testing.assert_array_equal(grads["b1"], (y_hat - y).sum(axis=0))


def test_a_step_that_fires_only_above_zero_is_caught(monkeypatch):
    """step(z) = 1 if z > 0 (another lesson's neuron) instead of z >= 0: from zero weights it differs at once."""
    from reference import activations

    monkeypatch.setattr(activations.Step, "forward", lambda self, z: (z > 0).astype(z.dtype))
    with pytest.raises(AssertionError, match="after epoch 1"):
        assert_same_weights_every_epoch(reference_run(LESSON, "float64").snapshots, "z > 0")
