"""The seeds' own numbers, reproduced by the reference and by both frameworks.

- the single neuron: w=[0.3, -0.1], b=0.2, x=[0.5, 0.8] gives z = 0.2700, sigmoid(z) = 0.5671
- BCE of a good and of a bad prediction of y=1: 0.0513 (p=0.95) and 2.3026 (p=0.1)
- the AND gate with w=[1, 1], b=-1.5 through the step: 0, 0, 0, 1
- XOR learned by xor-mse: the seed's own loop and the reference end on the same weights,
  and the network answers 0, 1, 1, 0

(The seeds print four decimals, so that is what is compared; the frameworks' agreement
with the reference to 1e-12 is the conformance suite's business.)
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.datasets import load
from conformance.lessons import LESSONS, initial_params, lesson_data
from frameworks import get_twin, unavailable_reason
from reference import MLP, get_loss, get_optimizer
from reference.training import fit

SIDES = ["reference", "torch", "keras"]


def forward(side: str, lesson_name: str, params: dict, X) -> tuple[np.ndarray, np.ndarray]:
    """(z of the last layer, its activation) on ``side``."""
    lesson = LESSONS[lesson_name]
    if side == "reference":
        model = MLP(params, lesson.activations, lesson.loss)
        a = model.forward(X)
        return model.z[-1], a
    reason = unavailable_reason(side)
    if reason:
        pytest.skip(reason)
    twin = get_twin(side, lesson, "float64")
    twin.set_params(params)
    out = twin.forward(X)
    return out[f"z{lesson.n_layers}"], out[f"a{lesson.n_layers}"]


@pytest.mark.parametrize("side", SIDES)
def test_single_neuron(side):
    params = {"W1": np.array([[0.3], [-0.1]]), "b1": np.array([0.2])}
    z, a = forward(side, "neuron", params, np.array([[0.5, 0.8]]))
    assert f"{float(z[0, 0]):.4f}" == "0.2700"
    assert f"{float(a[0, 0]):.4f}" == "0.5671"


def bce(side: str, p: float, y: float) -> float:
    """The BCE of one prediction p of the label y, as ``side`` computes it for a probability."""
    if side == "reference":
        return get_loss("bce").forward(np.array([[p]]), np.array([[y]]))
    reason = unavailable_reason(side)
    if reason:
        pytest.skip(reason)
    if side == "torch":
        import torch

        from frameworks.torch_twin import LOSSES

        p_t, y_t = torch.tensor([[p]], dtype=torch.float64), torch.tensor([[y]], dtype=torch.float64)
        return float(LOSSES["bce"](None, p_t, y_t))
    from frameworks.keras_twin import LOSSES, keras_dtype

    with keras_dtype("float64"):
        return float(LOSSES["bce"]()(np.array([[y]]), np.array([[p]])))


@pytest.mark.parametrize("side", SIDES)
def test_bce_of_a_good_and_a_bad_prediction(side):
    assert f"{bce(side, 0.95, 1.0):.4f}" == "0.0513"
    assert f"{bce(side, 0.1, 1.0):.4f}" == "2.3026"


@pytest.mark.parametrize("side", SIDES)
def test_and_gate_with_the_seeds_weights(side):
    X, y = load("and")
    params = {"W1": np.array([[1.0], [1.0]]), "b1": np.array([-1.5])}
    _, a = forward(side, "perceptron-and", params, X)
    np.testing.assert_array_equal(np.asarray(a).ravel(), [0, 0, 0, 1])


def seed_xor_loop():
    """The XOR seed's training loop, as the seed writes it (``np.random.seed(42)`` and all)."""

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        return x * (1 - x)

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    rng_state = np.random.get_state()  # leave the global generator as we found it
    np.random.seed(42)
    weights_input_hidden = np.random.uniform(size=(2, 2))
    weights_hidden_output = np.random.uniform(size=(2, 1))
    np.random.set_state(rng_state)
    for epoch in range(10000):
        hidden_input = np.dot(X, weights_input_hidden)
        hidden_output = sigmoid(hidden_input)
        final_input = np.dot(hidden_output, weights_hidden_output)
        output = sigmoid(final_input)
        error = y - output
        d_output = error * sigmoid_derivative(output)
        error_hidden = d_output.dot(weights_hidden_output.T)
        d_hidden = error_hidden * sigmoid_derivative(hidden_output)
        weights_hidden_output += hidden_output.T.dot(d_output) * 0.1
        weights_input_hidden += X.T.dot(d_hidden) * 0.1
    return {"W1": weights_input_hidden, "W2": weights_hidden_output}


def test_xor_learned_by_xor_mse_as_the_seed_learns_it():
    lesson = LESSONS["xor-mse"]
    X, y = lesson_data(lesson)
    model = MLP(initial_params(lesson), lesson.activations, lesson.loss)
    fit(model, X, y, get_optimizer(lesson.optimizer, **lesson.hyperparameters), lesson.epochs, lesson.batch_size)
    for name, value in seed_xor_loop().items():
        # the same arithmetic, partly in another order: measured 8.9e-16 apart
        np.testing.assert_allclose(model.params[name], value, rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(np.round(model.forward(X)).ravel(), [0, 1, 1, 0])  # XOR learned
