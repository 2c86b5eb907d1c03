"""Where the reference skips work, it computes what the plain formulas compute.

A training step leaves out dL/dX of the data (``input_gradient=False``), the fused
output reuses a_L from the forward pass, the sigmoid is ``1 / (1 + exp(-z))`` with its
harmless overflow silenced, and BatchNorm's backward is written with the parameter
gradients: each is checked against the spelling that does the work, bit for bit
where the arithmetic is the same, to rounding where it is not. So is the one speed
trick kept (``reductions.batch_sum``: a sum over the batch as one BLAS call).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conformance.lessons import LESSONS, canonical_params, lesson_data
from reference import MLP, SGD, get_activation, get_loss
from reference.batchnorm import BatchNorm
from reference.dense import Dense
from reference.reductions import _ones, batch_mean, batch_sum


def _model(lesson, dtype="float64"):
    spec = LESSONS[lesson]
    X, y = lesson_data(spec)
    return MLP(canonical_params(spec), spec.activations, spec.loss, dtype=dtype), X, y


@pytest.mark.parametrize("lesson", ["spiral", "sensor", "keras-4-64-32-1", "xor-mse"])
def test_backward_without_the_input_gradient_changes_nothing_else(lesson):
    model, X, y = _model(lesson)
    model.forward(X)
    full = model.backward(y)
    model.forward(X)
    short = model.backward(y, input_gradient=False)
    assert set(full) - set(short) == {"X"}
    for name, value in short.items():
        np.testing.assert_array_equal(value, full[name], err_msg=name)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("lesson", ["spiral", "sensor", "tanh-4-5-4-1"])
def test_step_is_plain_sgd_on_the_gradients(lesson, dtype):
    model, X, y = _model(lesson, dtype)
    before = {k: v.copy() for k, v in model.params.items()}
    loss_before = model.loss_value(X, y)
    grads = model.gradients(X, y)
    assert model.step(X, y, SGD(learning_rate=0.1)) == loss_before  # the loss before the update
    for name, p in model.params.items():
        assert p.dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(p, before[name] - 0.1 * grads[name], err_msg=name)


def test_dense_backward_skips_only_dx():
    rng = np.random.default_rng(0)
    layer = Dense(rng.standard_normal((3, 1)), rng.standard_normal(1))  # one unit: W.T is a (1, fan_in) view
    x, dz = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    layer.forward(x)
    dW, db, dx = layer.backward(dz)
    np.testing.assert_array_equal(dx, dz @ layer.kernel.T)  # one product per element: exact either way
    dW2, db2, none = layer.backward(dz, input_gradient=False)
    assert none is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("loss,activation,k", [("bce_logits", "sigmoid", 1), ("cce_logits", "softmax", 3)])
def test_fused_gradient_reuses_the_activation_exactly(loss, activation, k):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((7, k)) * 5
    y = np.eye(k)[rng.integers(0, k, 7)] if k > 1 else rng.integers(0, 2, (7, 1)).astype(float)
    fn = get_loss(loss)
    a = get_activation(activation).forward(z)
    np.testing.assert_array_equal(fn.backward(z, y, a=a), fn.backward(z, y))


def test_plain_sigmoid_matches_scipy_expit():
    """1 / (1 + exp(-z)) as written, against scipy's expit (a well-kept implementation)."""
    special = pytest.importorskip("scipy.special")
    s = get_activation("sigmoid")
    z = np.concatenate([np.linspace(-700, 700, 20001), [-1e-300, 0.0, 1e-300]])
    for dtype, limit in ((np.float64, 700), (np.float32, 80)):
        zz = z[np.abs(z) <= limit].astype(dtype)
        got = s.forward(zz)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, special.expit(zz), rtol=4 * np.finfo(dtype).eps, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow of exp(-z) below -709 is silenced, and harmless:
        far = s.forward(np.array([-1000.0, -746.0, -710.0]))
    np.testing.assert_array_equal(far, 0.0)  # the true values are below 1e-308
    assert np.all(special.expit(np.array([-1000.0, -746.0, -710.0])) < 1e-308)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (300, 16), (500, 64), (7, 3)])
def test_batch_sum_and_mean_are_the_axis_0_reductions(shape, dtype):
    """reductions.batch_sum / batch_mean (ones @ x) against x.sum(axis=0) / x.mean(axis=0).

    Both add the N rows of each column, in a different order: the difference is
    rounding, bounded by N * eps * sum |x| (the standard bound for a sum of N terms).
    """
    x = np.random.default_rng(7).standard_normal(shape).astype(dtype)
    got_sum, got_mean = batch_sum(x), batch_mean(x)
    assert got_sum.dtype == x.dtype and got_sum.shape == (shape[1],)
    assert got_mean.dtype == x.dtype and got_mean.shape == (shape[1],)
    bound = shape[0] * np.finfo(dtype).eps * np.abs(x).sum(axis=0)
    assert np.all(np.abs(got_sum - x.sum(axis=0)) <= bound)
    assert np.all(np.abs(got_mean - x.mean(axis=0)) <= bound / shape[0])


# ----- the activations' backward and BatchNorm's, against the formulas in their docstrings

def _inputs(shape=(300, 16), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=4.0, size=shape), rng.normal(size=shape)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "step"])
def test_activation_backward_is_da_times_the_derivative_and_writes_to_no_input(name, dtype):
    z, da = (x.astype(dtype) for x in _inputs())
    act = get_activation(name)
    a = act.forward(z)
    z_before, a_before, da_before = z.copy(), a.copy(), da.copy()
    dz = act.backward(z, a, da)
    np.testing.assert_array_equal(dz, da * act.derivative(z, a))
    for kept, before in ((z, z_before), (a, a_before), (da, da_before)):
        np.testing.assert_array_equal(kept, before)
    assert dz.dtype == np.dtype(dtype)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_is_its_docstring_s_formulas(training):
    x, dy = _inputs((64, 5), seed=1)
    rng = np.random.default_rng(2)
    gamma, beta = rng.uniform(0.5, 1.5, 5), rng.normal(size=5)
    mean0, var0 = rng.normal(size=5), rng.uniform(0.5, 2.0, 5)
    bn = BatchNorm(gamma, beta, mean0.copy(), var0.copy(), momentum=0.9, epsilon=1e-5, running_variance="unbiased")
    y = bn.forward(x, training=training)
    dgamma, dbeta, dx = bn.backward(dy)
    mean, var = (x.mean(axis=0), x.var(axis=0)) if training else (mean0, var0)
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    # 64 samples of O(1) terms: a sum's rounding is a few float64 epsilons of 64 terms, 1e-13 is about 500
    # epsilons; a missing path or a wrong statistic is O(1)
    np.testing.assert_allclose(y, gamma * x_hat + beta, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dgamma, (dy * x_hat).sum(axis=0), rtol=0, atol=1e-13)
    np.testing.assert_allclose(dbeta, dy.sum(axis=0), rtol=0, atol=1e-13)
    dx_hat = dy * gamma
    if training:  # the three paths (its own x_hat, the mean, the variance), spelled as the module doc first does
        three_paths = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + 1e-5)
        np.testing.assert_allclose(dx, three_paths, rtol=0, atol=1e-13)
    else:
        np.testing.assert_allclose(dx, dx_hat / np.sqrt(var0 + 1e-5), rtol=0, atol=1e-13)


def test_batch_sum_s_cached_ones_are_read_only_and_per_dtype():
    """The ones vector is shared by every call with the same (N, dtype): nothing may write to it."""
    ones = _ones(7, np.dtype("float32"))
    assert not ones.flags.writeable and ones.dtype == np.float32 and ones.shape == (7,)
    assert _ones(7, np.dtype("float64")).dtype == np.float64
    assert batch_sum(np.ones((7, 2), dtype=np.float32)).dtype == np.float32
