"""LayerNorm's epsilon: torch 1e-5, Keras 1e-3; one formula (docs/conventions-layers.md).

Four rows of six features (two of standard deviation about 1, two of about 0.007, one of
them around 1) through torch's ``nn.LayerNorm(6)`` and Keras's ``LayerNormalization()``, each
at its default, with the same gamma and beta; then dL/dx, dL/dgamma and dL/dbeta of
``sum(w * y)``. Each framework matches the reference at its own default epsilon (the
float64 tolerance) and not at the other's, by the measured amount; at the same epsilon both
match the one formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference.layernorm import LayerNorm

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE = "float64"
OTHER = {"torch": "keras", "keras": "torch"}


def inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6))
    x[1] *= 0.007
    x[2] = 1 + 0.007 * rng.normal(size=6)
    return x, rng.normal(size=6), rng.normal(size=6), rng.normal(size=(4, 6))


def reference(convention: str, epsilon=None) -> dict:
    x, gamma, beta, w = inputs()
    norm = LayerNorm(6, epsilon, convention)
    norm.gamma, norm.beta = gamma, beta
    y = norm.forward(x)
    dx, grads = norm.backward(w)
    return {"y": y, "dx": dx, **grads}


def torch_run(epsilon=None) -> dict:
    import torch

    x, gamma, beta, w = inputs()
    norm = torch.nn.LayerNorm(6, dtype=torch.float64, **({} if epsilon is None else {"eps": epsilon}))
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(gamma))
        norm.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    y = norm(xt)
    (y * torch.tensor(w)).sum().backward()
    return {"y": y.detach().numpy(), "dx": xt.grad.numpy(), "gamma": norm.weight.grad.numpy(),
            "beta": norm.bias.grad.numpy()}


def keras_run(epsilon=None) -> dict:
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the LayerNorm gradients are taken with TensorFlow's GradientTape")
    import tensorflow as tf

    from frameworks.keras_twin import keras_dtype

    x, gamma, beta, w = inputs()
    with keras_dtype(DTYPE):
        norm = keras.layers.LayerNormalization(**({} if epsilon is None else {"epsilon": epsilon}))
        norm.build((None, 6))
        norm.gamma.assign(gamma)
        norm.beta.assign(beta)
        xt = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = norm(xt)
            total = tf.reduce_sum(y * w)
        dx, dgamma, dbeta = tape.gradient(total, [xt, norm.gamma, norm.beta])
    return {"y": y.numpy(), "dx": dx.numpy(), "gamma": dgamma.numpy(), "beta": dbeta.numpy()}


RUN = {"torch": torch_run, "keras": keras_run}


@pytest.mark.parametrize("framework", list(OTHER))
def test_layernorm_default_epsilons_differ_as_documented(framework):
    needs(framework)
    tol = tolerance(DTYPE)
    actual, own, other = RUN[framework](), reference(framework), reference(OTHER[framework])
    assert_agree(actual, own, atol=tol.atol, rtol=tol.rtol, what=f"LayerNorm: {framework} at its default epsilon")
    versus_other = compare(actual, other, atol=tol.atol, rtol=tol.rtol)
    assert not versus_other.passed, f"LayerNorm: {framework} now also matches {OTHER[framework]}'s default epsilon"
    predicted = compare(other, own, atol=0.0, rtol=0.0)
    assert versus_other.max_abs_err == pytest.approx(predicted.max_abs_err, rel=1e-6)
    # measured: the outputs 1.146 apart (the row of std 0.007 around 1), dL/dx 114.1 apart
    assert compare({"y": other["y"]}, {"y": own["y"]}, atol=0, rtol=0).max_abs_err == pytest.approx(1.146, rel=0.01)
    assert predicted.max_abs_err == pytest.approx(114.1, rel=0.01)


@pytest.mark.parametrize("framework", list(OTHER))
def test_layernorm_is_one_formula_at_the_same_epsilon(framework):
    needs(framework)
    tol = tolerance(DTYPE)
    actual = RUN[framework](1e-3)
    for convention in OTHER:
        assert_agree(actual, reference(convention, 1e-3), atol=tol.atol, rtol=tol.rtol,
                     what=f"LayerNorm(epsilon=1e-3): {framework} vs the {convention} convention")


def test_layernorm_epsilon_matters_only_for_a_row_of_small_variance():
    apart = np.abs(reference("torch")["y"] - reference("keras")["y"]).max(axis=1)
    assert (apart[[1, 2]] > 1.0).all() and (apart[[0, 3]] < 2e-3).all(), apart


def test_layernorm_refuses_bad_input():
    with pytest.raises(ValueError, match="LayerNorm: convention must be 'torch' or 'keras'"):
        LayerNorm(6, convention="jax")
    with pytest.raises(ValueError, match="LayerNorm: expected a positive epsilon. Received: epsilon=0"):
        LayerNorm(6, epsilon=0)
    with pytest.raises(ValueError, match=r"LayerNorm: expected x of shape \(N, 6\). Received: \(4, 5\)"):
        LayerNorm(6).forward(np.ones((4, 5)))
