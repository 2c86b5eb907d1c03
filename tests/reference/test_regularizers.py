"""The reference's Dropout, BatchNorm and L2 penalty on their own: derivatives, statistics, clear errors.

Derivatives are checked against finite differences with the bar of test_gradcheck.py
(relative error at most 1e-7 in float64, ``rel_err``), but with the fourth-order
five-point stencil: BatchNorm over a 16-sample batch has large higher derivatives,
and the centred difference's O(h**2) error measured 1.5e-7 at h = 1e-5 (4e-8 at
h = 3e-6), right at the bar. The five-point error is O(h**4); rounding stays
about eps / h = 2e-11 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_gradcheck import MAX_REL_ERR, rel_err

from conformance.cases import reference_model, share_dropout_masks
from conformance.lessons import (
    LESSONS,
    SPIRAL_L2,
    canonical_params,
    dropout_masks,
    lesson_data,
)
from reference import L2, MLP, BatchNorm, Dropout, RegularizedMLP
from reference.batchnorm import CONVENTIONS
from reference.dropout import draw_mask, scaled_mask

H = 1e-5


def numeric_gradient(f, x: np.ndarray) -> np.ndarray:
    """dF/dx by the five-point stencil (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / 12h, one element at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        values = []
        for step in (-2 * H, -H, H, 2 * H):
            x[i] = old + step
            values.append(f())
        x[i] = old
        grad[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * H)
    return grad


REGULARIZED = sorted(name for name, spec in LESSONS.items() if spec.regularized)


def batchnorm(units, rng, running_variance="unbiased", momentum=0.9, epsilon=1e-5):
    return BatchNorm(rng.uniform(0.5, 1.5, units), rng.uniform(-0.5, 0.5, units), rng.uniform(-0.5, 0.5, units),
                     rng.uniform(0.5, 1.5, units), momentum=momentum, epsilon=epsilon,
                     running_variance=running_variance)


# --- Dropout ---------------------------------------------------------------------------------

def test_dropout_backward_is_the_same_scaled_mask():
    rng = np.random.default_rng(0)
    a, upstream = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    layer = Dropout(0.3)
    layer.set_mask(draw_mask(a.shape, 0.3, rng))

    def loss():
        return float(np.sum(upstream * layer.forward(a)))

    layer.forward(a)
    assert rel_err(layer.backward(upstream), numeric_gradient(loss, a)) <= MAX_REL_ERR


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dropout_is_inverted_and_keeps_its_dtype(dtype):
    """Training: kept units times 1/(1 - rate) rounded to the dtype, the rest 0. Inference: the identity."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 40)).astype(dtype)
    layer = Dropout(0.3, rng)
    y = layer.forward(a)
    kept = y != 0
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y[kept], a[kept] * np.dtype(dtype).type(1 / 0.7))
    np.testing.assert_array_equal(layer.forward(a, training=False), a)
    np.testing.assert_array_equal(layer.backward(np.ones_like(a)), np.ones_like(a))  # inference: identity


def test_dropout_draws_keep_one_minus_rate():
    """The reference's own masks: keep rate 1 - rate within 5 standard deviations, fresh at every forward."""
    rate, shape = 0.2, (400, 250)
    layer = Dropout(rate, np.random.default_rng(2))
    ones = np.ones(shape)
    first, second = layer.forward(ones) != 0, layer.forward(ones) != 0
    sigma = np.sqrt(rate * (1 - rate) / first.size)
    assert abs(first.mean() - (1 - rate)) < 5 * sigma
    assert not np.array_equal(first, second)


def test_dropout_mask_errors_name_the_problem():
    with pytest.raises(ValueError, match="0 <= rate < 1"):
        Dropout(1.0)
    layer = Dropout(0.5)
    with pytest.raises(TypeError, match="boolean keep-mask"):
        layer.set_mask(np.ones((2, 3)))
    layer.set_mask(np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"keep-mask has shape \(2, 3\), but the activations have shape \(4, 3\)"):
        layer.forward(np.ones((4, 3)))


def test_scaled_mask_rounds_the_scale_to_the_dtype():
    keep = np.array([True, False, True])
    assert scaled_mask(keep, 0.3, "float32").dtype == np.float32
    np.testing.assert_array_equal(scaled_mask(keep, 0.3, "float32"), [np.float32(1 / 0.7), 0, np.float32(1 / 0.7)])


# --- BatchNorm -------------------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batchnorm_backward(training):
    """dx (through the batch mean and variance in training), dgamma and dbeta against finite differences."""
    rng = np.random.default_rng(3)
    x, upstream = rng.normal(1.0, 2.0, (7, 4)), rng.normal(size=(7, 4))
    layer = batchnorm(4, rng)

    def loss():
        return float(np.sum(upstream * layer.forward(x, training)))

    layer.forward(x, training)
    dgamma, dbeta, dx = layer.backward(upstream)
    assert rel_err(dx, numeric_gradient(loss, x)) <= MAX_REL_ERR
    assert rel_err(dgamma, numeric_gradient(loss, layer.gamma)) <= MAX_REL_ERR
    assert rel_err(dbeta, numeric_gradient(loss, layer.beta)) <= MAX_REL_ERR


def test_batchnorm_training_output_has_the_batch_statistics_of_gamma_and_beta():
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, (64, 5))
    layer = batchnorm(5, rng, epsilon=1e-5)
    y = layer.forward(x)
    var = x.var(axis=0)
    np.testing.assert_allclose(y.mean(axis=0), layer.beta, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), np.abs(layer.gamma) * np.sqrt(var / (var + 1e-5)), rtol=1e-12)


@pytest.mark.parametrize("running_variance,factor", [("unbiased", 10 / 9), ("biased", 1.0)])
def test_running_statistics_follow_the_convention(running_variance, factor):
    """From (0, 1): moving_mean = (1 - m) mean; moving_variance = m + (1 - m) var * N/(N-1) or var."""
    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 3.0, (10, 3))
    m = 0.9
    layer = BatchNorm(np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), momentum=m, epsilon=1e-3,
                      running_variance=running_variance)
    layer.forward(x)
    np.testing.assert_allclose(layer.moving_mean, (1 - m) * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(layer.moving_variance, m + (1 - m) * x.var(axis=0) * factor, rtol=1e-14)
    before = layer.moving_mean.copy()
    layer.forward(x, training=False)  # inference never moves them
    np.testing.assert_array_equal(layer.moving_mean, before)


def test_conventions_table_says_what_the_module_doc_says():
    assert (CONVENTIONS["torch"].momentum, CONVENTIONS["torch"].epsilon) == (0.9, 1e-5)
    assert (CONVENTIONS["keras"].momentum, CONVENTIONS["keras"].epsilon) == (0.99, 1e-3)
    assert CONVENTIONS["torch"].running_variance == "unbiased"
    assert CONVENTIONS["keras"].running_variance == "biased"


def test_batchnorm_errors_name_the_problem():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match=r"beta must have gamma's shape \(3,\). Received: beta.shape=\(4,\)"):
        BatchNorm(np.ones(3), np.ones(4), np.ones(3), np.ones(3), momentum=0.9, epsilon=1e-5,
                  running_variance="biased")
    with pytest.raises(ValueError, match="running_variance must be one of"):
        batchnorm(3, rng, running_variance="sample")
    layer = batchnorm(3, rng)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        layer.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer.forward(np.ones((1, 3)))


# --- L2 --------------------------------------------------------------------------------------

def test_l2_gradient_is_twice_the_factor_times_the_kernel():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(3, 4))
    penalty = L2(0.01)
    assert penalty.penalty(W) == pytest.approx(0.01 * np.sum(W**2), rel=1e-15)
    assert rel_err(penalty.gradient(W), numeric_gradient(lambda: penalty.penalty(W), W)) <= MAX_REL_ERR


# --- The regularized MLP -----------------------------------------------------------------------

@pytest.mark.parametrize("lesson", REGULARIZED + ["spiral-l2"])
def test_regularized_mlp_gradients(lesson):
    """Every trained parameter's and X's gradient against finite differences of the whole loss.

    The masks are fixed, so the loss is a deterministic function of the weights. The
    stencil moves one number by up to 2 h; through the layers (and BatchNorm's 1 / std)
    that moves a ReLU input by a few tens of h. The ReLU inputs are asserted to keep 50 h
    clear of the kink (measured: 71 h with dropout, 162 h with BatchNorm), so a kink
    crossing is reported as such, not as a wrong formula.
    """
    spec = SPIRAL_L2 if lesson == "spiral-l2" else LESSONS[lesson]
    X, y = lesson_data(spec)
    if spec.layernorm:
        # LayerNorm normalizes each row alone, so rows can be left out: those within 50 h of a ReLU kink
        # (measured: spiral-layernorm's rows 7 and 19 sit 13 h and 24 h from it, the others 188 h and more)
        probe = reference_model(spec, canonical_params(spec), convention="torch")
        probe.forward(X)
        clear = np.min([np.abs(n).min(axis=1) for n in probe.n[:-1]], axis=0) > 50 * H
        X, y = X[clear], y[clear]
    X, y = X[:16].copy(), y[:16]
    model = reference_model(spec, canonical_params(spec), convention="torch")
    share_dropout_masks(model, spec, len(X))
    model.forward(X)
    assert min(np.min(np.abs(n)) for n in model.n[:-1]) > 50 * H, "a ReLU input sits near the kink"
    analytic = model.gradients(X, y)
    assert sorted(analytic) == sorted(model.trainable + ["X"])
    for name in model.trainable:
        numeric = numeric_gradient(lambda: model.loss_value(X, y), model.params[name])
        assert rel_err(analytic[name], numeric) <= MAX_REL_ERR, f"{lesson}: gradient of {name}"
    assert rel_err(analytic["X"], numeric_gradient(lambda: model.loss_value(X, y), X)) <= MAX_REL_ERR


def test_without_regularizers_it_is_the_plain_mlp():
    spec = LESSONS["spiral"]
    X, y = lesson_data(spec)
    plain = MLP(canonical_params(spec), spec.activations, spec.loss).gradients(X, y)
    regularized = RegularizedMLP(canonical_params(spec), spec.activations, spec.loss).gradients(X, y)
    assert sorted(plain) == sorted(regularized)
    for name in plain:
        np.testing.assert_array_equal(regularized[name], plain[name], err_msg=name)


def test_l2_adds_the_penalty_to_the_loss_and_nothing_to_the_biases():
    X, y = lesson_data(SPIRAL_L2)
    params = canonical_params(SPIRAL_L2)
    plain = MLP(params, SPIRAL_L2.activations, SPIRAL_L2.loss)
    penalized = reference_model(SPIRAL_L2, params)
    penalty = 2.0**-10 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert penalized.loss_value(X, y) == pytest.approx(plain.loss_value(X, y) + penalty, rel=1e-15)
    g_plain, g_pen = plain.gradients(X, y), penalized.gradients(X, y)
    np.testing.assert_allclose(g_pen["W1"] - g_plain["W1"], 2 * 2.0**-10 * params["W1"], atol=1e-15)
    np.testing.assert_array_equal(g_pen["b1"], g_plain["b1"])


def test_inference_uses_the_running_statistics_and_no_dropout():
    for name in REGULARIZED:
        spec = LESSONS[name]
        X, _ = lesson_data(spec)
        model = reference_model(spec, canonical_params(spec), convention="keras")
        share_dropout_masks(model, spec, len(X))
        before = {k: v.copy() for k, v in model.params.items()}
        model.forward(X, training=False)
        trace = model.trace()
        for key, value in trace.items():
            if key.startswith("dropout"):
                np.testing.assert_array_equal(value, trace["a" + key[len("dropout"):]], err_msg=key)
        for k in before:  # nothing moves in inference
            np.testing.assert_array_equal(model.params[k], before[k], err_msg=k)
        if spec.batchnorm:
            z, p = trace["z1"], model.params
            expected = p["gamma1"] * (z - p["moving_mean1"]) / np.sqrt(p["moving_variance1"] + spec.batchnorm_epsilon)
            np.testing.assert_allclose(trace["bn1"], expected + p["beta1"], rtol=1e-13, atol=1e-13)


def test_step_trains_gamma_and_beta_and_moves_the_running_statistics_by_the_forward_only():
    spec = LESSONS["spiral-batchnorm"]
    X, y = lesson_data(spec)
    from reference import SGD

    model = reference_model(spec, canonical_params(spec), convention="torch")
    start = {k: v.copy() for k, v in model.params.items()}
    grads = model.gradients(X, y)
    model.set_params(start)  # undo the gradients' forward on the running statistics
    model.step(X, y, SGD(0.05))
    for name in model.trainable:
        np.testing.assert_allclose(model.params[name], start[name] - 0.05 * grads[name], rtol=1e-13, atol=1e-15)
    mean = model.z[0].mean(axis=0)  # the step's forward saw the starting weights' z1
    np.testing.assert_allclose(model.params["moving_mean1"], 0.9 * start["moving_mean1"] + 0.1 * mean,
                               rtol=1e-13, atol=1e-15)


def test_regularized_mlp_errors_name_the_parameter():
    spec = LESSONS["spiral-batchnorm"]
    params = canonical_params(spec)
    bn = CONVENTIONS["torch"]
    del params["moving_variance2"]
    with pytest.raises(ValueError, match=r"missing \['moving_variance2'\]"):
        RegularizedMLP(params, spec.activations, spec.loss, batchnorm=bn)
    params = canonical_params(spec)
    with pytest.raises(ValueError, match="unexpected"):
        RegularizedMLP(params, spec.activations, spec.loss)  # gamma etc. given, no batchnorm
    with pytest.raises(TypeError, match="batchnorm must be a BatchNormConvention"):
        RegularizedMLP(params, spec.activations, spec.loss, batchnorm=True)
    params["gamma1"] = np.ones(3)
    with pytest.raises(ValueError, match=r"gamma1 must have shape \(16,\)"):
        RegularizedMLP(params, spec.activations, spec.loss, batchnorm=bn)
    model = reference_model(LESSONS["spiral-dropout"], canonical_params(LESSONS["spiral-dropout"]))
    with pytest.raises(ValueError, match=r"expected masks \['dropout1', 'dropout2'\]"):
        model.set_dropout_masks({"dropout1": np.ones((3, 16), bool)})
    with pytest.raises(ValueError, match="pass convention='torch' or 'keras'"):
        reference_model(spec, canonical_params(spec))


def test_dropout_masks_are_fixed_per_step_and_differ_between_steps():
    spec = LESSONS["spiral-dropout"]
    a, b, c = dropout_masks(spec, 300), dropout_masks(spec, 300), dropout_masks(spec, 300, step=1)
    assert sorted(a) == ["dropout1", "dropout2"] and a["dropout1"].shape == (300, 16)
    np.testing.assert_array_equal(a["dropout1"], b["dropout1"])
    assert not np.array_equal(a["dropout1"], c["dropout1"])
    assert dropout_masks(LESSONS["spiral"], 300) == {}
