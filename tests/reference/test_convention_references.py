"""The reference's convention modules on their own, NumPy only: derivatives against finite differences,
the formulas each docstring writes, and bad input refused with its name.

Against the frameworks they are held by conformance/tests/test_*_conventions.py; these tests need
neither framework, so a broken line fails here too (reference/'s mutation robustness).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import SGD
from reference.activation_conventions import GELU, SELU, Softplus
from reference.adaptive_optimizers import (
    ADAPTIVE_OPTIMIZERS,
    Adadelta,
    Adamax,
    AMSGrad,
    NAdam,
)
from reference.layernorm import LayerNorm
from reference.loss_conventions import mse_of_shapes, weighted_cross_entropy
from reference.training_conventions import (
    ExponentialDecay,
    StepLR,
    accumulate_gradients,
    default_batches,
    learning_rates,
)

H, MAX_REL_ERR = 1e-5, 1e-7  # centred differences and the project's bar (tests/reference/test_gradcheck.py)


def numeric_gradient(f, x: np.ndarray) -> np.ndarray:
    """dF/dx by centred differences, one element at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + H
        up = f(x)
        x[i] = keep - H
        grad[i] = (up - f(x)) / (2 * H)
        x[i] = keep
    return grad

Z = np.array([-3.0, -1.2, -0.4, 0.3, 0.9, 2.5, 19.5, 20.5])


def rel_err(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8)))


@pytest.mark.parametrize("activation", [GELU(False, "torch"), GELU(True, "torch"), GELU(False, "keras"),
                                        GELU(True, "keras"), SELU("torch"), SELU("keras"), Softplus("keras")],
                         ids=repr)
def test_activation_derivatives_are_the_derivatives(activation):
    numeric = numeric_gradient(lambda z: float(np.sum(activation.forward(z))), Z.copy())
    assert rel_err(activation.derivative(Z, activation.forward(Z)), numeric) < MAX_REL_ERR


def test_activation_formulas_at_known_points():
    assert GELU(False).forward(np.array([1.0]))[0] == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), rel=1e-15)
    tanh = 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715))
    assert GELU(True).forward(np.array([1.0]))[0] == pytest.approx(tanh, rel=1e-15)
    assert GELU(False, "keras").c == float(np.float32(1 / math.sqrt(2))) != GELU(False, "torch").c
    assert SELU().forward(np.array([-1.0, 2.0])).tolist() == pytest.approx(
        [SELU.scale * SELU.alpha * (math.exp(-1) - 1), 2 * SELU.scale], rel=1e-15)
    assert SELU("torch").derivative(np.zeros(1), None)[0] == SELU.scale * SELU.alpha
    assert SELU("keras").derivative(np.zeros(1), None)[0] == SELU.scale
    torch_softplus, keras_softplus = Softplus("torch"), Softplus("keras")
    assert torch_softplus.forward(np.array([20.1]))[0] == 20.1
    assert torch_softplus.forward(np.array([19.9]))[0] == keras_softplus.forward(np.array([19.9]))[0]
    assert torch_softplus.derivative(np.array([20.1]), None)[0] == 1.0
    assert keras_softplus.derivative(np.array([20.1]), None)[0] == pytest.approx(1 - math.exp(-20.1), rel=1e-15)
    assert keras_softplus.forward(np.array([-800.0, 800.0])).tolist() == [0.0, 800.0]


def test_layernorm_backward_is_the_gradient():
    rng = np.random.default_rng(1)
    x, dy = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    norm = LayerNorm(5, convention="keras")
    norm.gamma, norm.beta = rng.normal(size=5), rng.normal(size=5)

    def loss(x=None, gamma=None, beta=None):
        saved = norm.gamma, norm.beta
        norm.gamma = saved[0] if gamma is None else gamma
        norm.beta = saved[1] if beta is None else beta
        out = float(np.sum(dy * norm.forward(x if x is not None else X)))
        norm.gamma, norm.beta = saved
        return out

    X = x
    norm.forward(x)
    dx, grads = norm.backward(dy)
    assert rel_err(dx, numeric_gradient(lambda v: loss(x=v), x.copy())) < MAX_REL_ERR
    assert rel_err(grads["gamma"], numeric_gradient(lambda v: loss(gamma=v), norm.gamma.copy())) < MAX_REL_ERR
    assert rel_err(grads["beta"], numeric_gradient(lambda v: loss(beta=v), norm.beta.copy())) < MAX_REL_ERR
    assert LayerNorm(5).epsilon == 1e-5 and LayerNorm(5, convention="keras").epsilon == 1e-3
    assert (LayerNorm(5).convention, LayerNorm(5, 1e-4, "keras").convention) == ("torch", "keras")
    row = norm.forward(x)[0]
    xhat = (x[0] - x[0].mean()) / np.sqrt(x[0].var() + 1e-3)
    assert row == pytest.approx(norm.gamma * xhat + norm.beta, rel=1e-13)


@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_loss_convention_gradients_are_the_gradients(convention):
    rng = np.random.default_rng(2)
    y_pred, y = rng.normal(size=(5, 1)), rng.normal(size=5)
    value, grad = mse_of_shapes(y_pred, y, convention)
    assert rel_err(grad, numeric_gradient(lambda p: mse_of_shapes(p, y, convention)[0], y_pred.copy())) < MAX_REL_ERR
    expected = np.mean((y_pred - y) ** 2) if convention == "torch" else np.mean((y_pred[:, 0] - y) ** 2)
    assert value == pytest.approx(expected, rel=1e-14)
    z, onehot, w = rng.normal(size=(4, 3)), np.eye(3)[[0, 2, 1, 2]], np.array([0.5, 1.0, 3.0])
    value, grad = weighted_cross_entropy(z, onehot, w, convention)
    numeric = numeric_gradient(lambda v: weighted_cross_entropy(v, onehot, w, convention)[0], z.copy())
    assert rel_err(grad, numeric) < MAX_REL_ERR
    s = onehot @ w
    losses = -np.log(np.sum(np.exp(z) * onehot, axis=1) / np.exp(z).sum(axis=1))
    assert value == pytest.approx(s @ losses / (s.sum() if convention == "torch" else 4), rel=1e-14)


def test_schedules_accumulation_and_batches():
    decay = ExponentialDecay(0.1, 10, 0.5)
    assert decay(10) == pytest.approx(0.05, rel=1e-7) and decay(5) == pytest.approx(0.1 * 0.5**0.5, rel=1e-7)
    assert decay(7) == float(np.float32(decay(7))) != 0.1 * 0.5**0.7
    staircase = ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert [staircase(k) for k in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-7)
    assert learning_rates(StepLR(0.1, 2, 0.5), 6, 2) == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
    assert learning_rates(StepLR(1.0, 1), 3) == pytest.approx([1.0, 0.1, 0.01])
    grads = [{"w": np.array([1.0, 2.0])}, {"w": np.array([3.0, 6.0])}]
    assert accumulate_gradients(grads, "torch")["w"].tolist() == [4.0, 8.0]
    assert accumulate_gradients(grads, "keras")["w"].tolist() == [2.0, 4.0]
    assert [len(b) for b in default_batches(100, "keras").epoch(0)] == [32, 32, 32, 4]
    assert default_batches(100, "keras").shuffle and not default_batches(5, "torch").shuffle
    assert [b.tolist() for b in default_batches(3, "torch").epoch(0)] == [[0], [1], [2]]


def test_default_batches_are_reproducible_from_their_seed():
    """The same call draws the same shuffled batches (seed 0 unless given); another seed, another order."""
    first = [b.tolist() for b in default_batches(100, "keras").epoch(0)]
    assert first == [b.tolist() for b in default_batches(100, "keras", seed=0).epoch(0)]
    assert first != [b.tolist() for b in default_batches(100, "keras", seed=1).epoch(0)]


def test_adaptive_optimizers_first_steps_by_hand():
    g = np.array([0.5, -1e-4])
    steps = {}
    for name, cls in ADAPTIVE_OPTIMIZERS.items():
        for convention in ("torch", "keras"):
            p = {"p": np.zeros(2)}
            cls(convention=convention, learning_rate=0.1, epsilon=1e-3).update(p, {"p": g})
            steps[name, convention] = -p["p"]
    # Adamax, step 1: torch lr m_hat / (|g| + eps); Keras the same (u = |g|, then + eps): they part from step 2
    assert steps["adamax", "torch"] == pytest.approx(0.1 * g / (np.abs(g) + 1e-3), rel=1e-13)
    assert steps["adamax", "keras"] == pytest.approx(steps["adamax", "torch"], rel=1e-13)
    # AMSGrad, step 1: Adam's, torch's epsilon after the bias correction, Keras's before
    assert steps["amsgrad", "torch"] == pytest.approx(0.1 * g / (np.abs(g) + 1e-3), rel=1e-13)
    assert steps["amsgrad", "keras"] == pytest.approx(0.1 * g / (np.abs(g) + 1e-3 / math.sqrt(1e-3)), rel=1e-12)
    # Adadelta, step 1: sqrt(eps) / sqrt((1 - rho) g**2 + eps) * g
    for convention, rho in (("torch", 0.9), ("keras", 0.95)):
        expected = 0.1 * np.sqrt(1e-3) / np.sqrt((1 - rho) * g * g + 1e-3) * g
        assert steps["adadelta", convention] == pytest.approx(expected, rel=1e-13)


def test_adaptive_optimizers_refuse_bad_input():
    for build, message in [
        (lambda: NAdam(momentum_decay=-1.0), "NAdam: expected 0.0 <= momentum_decay < inf"),
        (lambda: NAdam(beta_1=1.0), "NAdam: expected 0.0 <= beta_1 < 1.0"),
        (lambda: NAdam(beta_2=1.5), "NAdam: expected 0.0 <= beta_2 < 1.0"),
        (lambda: NAdam(convention="keras", momentum_decay=0.004), "Nadam has no momentum_decay"),
        (lambda: Adamax(epsilon=-1.0), "Adamax: expected 0.0 <= epsilon < inf"),
        (lambda: Adamax(beta_1=1.0), "Adamax: expected 0.0 <= beta_1 < 1.0"),
        (lambda: Adamax(beta_2=-0.1), "Adamax: expected 0.0 <= beta_2 < 1.0"),
        (lambda: AMSGrad(beta_2=1.0), "AMSGrad: expected 0.0 <= beta_2 < 1.0"),
        (lambda: Adadelta(rho=1.5), "Adadelta: expected 0.0 <= rho <= 1.0"),
        (lambda: Adadelta(rho=-0.1), "Adadelta: expected 0.0 <= rho <= 1.0"),
        (lambda: NAdam(epsilon=-1.0), "NAdam: expected 0.0 <= epsilon < inf"),
        (lambda: Adadelta(epsilon=-1e-6), "Adadelta: expected 0.0 <= epsilon < inf"),
        (lambda: ExponentialDecay(0.1, 0, 0.5), "expected decay_steps > 0"),
        (lambda: StepLR(0.1, 0), "expected step_size > 0"),
        (lambda: accumulate_gradients([{"w": np.ones(1)}], "jax"), "convention must be 'torch' or 'keras'"),
        (lambda: weighted_cross_entropy(np.ones((2, 3)), np.eye(3)[:2], np.ones(3), "jax"), "convention must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            build()


def test_nadam_and_adamax_keep_clipping_and_weight_decay():
    """The Optimizer contract: clipping first, then torch's L2 through the formula."""
    p = {"p": np.ones(2)}
    NAdam(learning_rate=0.1, clipvalue=0.1, weight_decay=0.5).update(p, {"p": np.array([5.0, -5.0])})
    q = {"p": np.ones(2)}
    NAdam(learning_rate=0.1).update(q, {"p": np.array([0.1 + 0.5, -0.1 + 0.5])})
    assert p["p"] == pytest.approx(q["p"], rel=1e-15)
    assert NAdam(convention="keras").config()["momentum_decay"] == 1.0
    r = {"p": np.zeros(1)}
    SGD(0.1, nesterov=True, convention="keras").update(r, {"p": np.ones(1)})  # Keras: plain SGD
    assert r["p"][0] == pytest.approx(-0.1)


def test_float32_constants_and_the_second_adadelta_step():
    """The details the framework tests hold, held here without a framework too."""
    assert GELU(True, "keras").k == float(np.float32(0.044715)) != GELU(True, "torch").k == 0.044715
    nadam = NAdam(convention="torch")
    nadam.update({"p": np.zeros(1)}, {"p": np.ones(1)})
    assert nadam.mu_product == float(np.float32(np.float32(1.0) * np.float32(nadam.mu(1, 0.96))))
    assert NAdam.decay["keras"] == float(np.float32(0.96)) and NAdam.decay["torch"] == 0.96
    g, rho, eps = np.array([0.5]), 0.9, 1e-3
    s1 = (1 - rho) * g * g
    delta1 = np.sqrt(eps) / np.sqrt(s1 + eps) * g
    d1 = (1 - rho) * delta1 * delta1
    s2 = rho * s1 + (1 - rho) * g * g
    delta2 = np.sqrt(d1 + eps) / np.sqrt(s2 + eps) * g
    params = {"p": np.zeros(1)}
    optimizer = Adadelta(learning_rate=1.0, rho=rho, epsilon=eps)
    optimizer.update(params, {"p": g})
    optimizer.update(params, {"p": g})
    assert params["p"] == pytest.approx(-(delta1 + delta2), rel=1e-14)
