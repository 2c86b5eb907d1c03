"""Each framework's own Dropout layer: the keep rate and the scaling a learner's one-liner gets.

The conformance lessons share one NumPy mask between the three sides (the
frameworks' generators draw different masks). These tests check the other half:
that ``nn.Dropout(p)`` and ``keras.layers.Dropout(rate)`` themselves keep a
fraction 1 - rate of the units, scale the kept ones by 1 / (1 - rate) rounded to
the working dtype (``reference.dropout.scaled_mask``), pass the same factor back
in the gradient, and do nothing at inference.

The keep-rate bounds are 5 standard deviations of a binomial proportion: a correct
layer fails them with probability under 1e-6 per bound (and the seeds are fixed).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import Dropout
from reference.dropout import scaled_mask

from ..compare import assert_agree

SHAPE = (400, 250)  # 100,000 units: sigma of the keep rate = sqrt(0.8 * 0.2 / 1e5) = 0.0013


def torch_dropout(x: np.ndarray, rate: float, training: bool, seed: int):
    """(y, dL/dx for L = sum(y)) from ``nn.Dropout(p=rate)``, in x's dtype."""
    import torch

    with torch.random.fork_rng():  # leave the global generator as it was
        torch.manual_seed(seed)
        layer = torch.nn.Dropout(p=rate)
        layer.train(training)
        xt = torch.tensor(x, requires_grad=True)
        y = layer(xt)
        y.sum().backward()
    return y.detach().numpy(), xt.grad.numpy()


def keras_dropout(x: np.ndarray, rate: float, training: bool, seed: int):
    """(y, dL/dx for L = sum(y)) from ``keras.layers.Dropout(rate, seed=seed)``, in x's dtype."""
    import tensorflow as tf

    from frameworks.keras_twin import (
        keras,  # first: it sets the backend and TF's flags before TF is imported
    )

    layer = keras.layers.Dropout(rate, seed=seed, dtype=str(x.dtype))
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xv, training=training)
        total = tf.reduce_sum(y)
    return np.asarray(y), np.asarray(tape.gradient(total, xv))


def reference_dropout(x: np.ndarray, rate: float, training: bool, seed: int):
    layer = Dropout(rate, np.random.default_rng(seed))
    y = layer.forward(x, training)
    return y, layer.backward(np.ones_like(x))


# framework -> its own dropout, called the way a learner calls it
DROPOUTS = {"torch": torch_dropout, "keras": keras_dropout, "reference": reference_dropout}


def _dropout(framework):
    if framework != "reference":
        needs(framework)  # honours --framework (mutmut's oracle runs torch alone)
    return DROPOUTS[framework]


def _inputs(dtype):
    x = np.random.default_rng(0).normal(size=SHAPE).astype(dtype)
    x[x == 0] = 1  # no exact zeros: a zero in the output is a dropped unit
    return x


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rate", [0.2, 0.3])
@pytest.mark.parametrize("framework", sorted(DROPOUTS))
def test_keep_rate_and_inverted_scaling(framework, rate, dtype):
    dropout = _dropout(framework)
    x = _inputs(dtype)
    y, grad = dropout(x, rate, True, seed=1)
    kept = y != 0
    sigma = np.sqrt(rate * (1 - rate) / kept.size)
    assert abs(kept.mean() - (1 - rate)) < 5 * sigma, f"keep rate {kept.mean():.4f}, expected {1 - rate}"
    # every unit (column) is dropped at the same rate: none always kept or always dropped
    sigma_unit = np.sqrt(rate * (1 - rate) / SHAPE[0])
    assert np.all(np.abs(kept.mean(axis=0) - (1 - rate)) < 5 * sigma_unit)
    # kept units are x * dtype(1 / (1 - rate)) exactly, dropped ones 0; the gradient is the same factor
    factor = scaled_mask(kept, rate, dtype)
    assert_agree({"y": y, "dL/dx": grad}, {"y": x * factor, "dL/dx": factor}, atol=0, rtol=0,
                 what=f"{framework} Dropout({rate}) in {dtype}")


@pytest.mark.parametrize("rate,training", [(0.5, False), (0.0, True)], ids=["at-inference", "rate-0-in-training"])
@pytest.mark.parametrize("framework", sorted(DROPOUTS))
def test_the_identity(framework, rate, training):
    """At inference dropout does nothing; nor does ``nn.Dropout(p=0)`` / ``Dropout(0.0)`` in training
    (legal in all three: every unit kept, unscaled)."""
    dropout = _dropout(framework)
    x = _inputs("float64")
    y, grad = dropout(x, rate, training, seed=1)
    assert_agree({"y": y, "dL/dx": grad}, {"y": x, "dL/dx": np.ones_like(x)}, atol=0, rtol=0,
                 what=f"{framework} Dropout({rate}), training={training}")


@pytest.mark.parametrize("framework", sorted(DROPOUTS))
def test_a_new_seed_draws_a_new_mask_and_the_same_seed_the_same(framework):
    dropout = _dropout(framework)
    x = np.ones((50, 40))
    first, again, other = (dropout(x, 0.5, True, seed=s)[0] != 0 for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_the_frameworks_draw_different_masks_from_the_same_seed():
    """Why the conformance lessons share a NumPy mask instead (docs/conventions.md#dropout)."""
    for fw in ("torch", "keras"):
        needs(fw)
    x = np.ones((50, 40))
    masks = {fw: DROPOUTS[fw](x, 0.5, True, seed=1)[0] != 0 for fw in ("torch", "keras", "reference")}
    assert not np.array_equal(masks["torch"], masks["keras"])
    assert not np.array_equal(masks["torch"], masks["reference"])


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_twins_shared_mask_is_checked_against_the_batch(framework):
    """The twins' dropout applies the handed-in mask; a mask for another batch size is refused by name."""
    from conformance.lessons import (
        LESSONS,
        canonical_params,
        dropout_masks,
        lesson_data,
    )
    from frameworks import get_twin

    needs(framework)
    spec = LESSONS["spiral-dropout"]
    twin = get_twin(framework, spec, "float64")
    twin.set_params(canonical_params(spec))
    X, _ = lesson_data(spec)
    twin.set_dropout_masks(dropout_masks(spec, 10))
    with pytest.raises(Exception, match=r"dropout.?1.*shared mask has shape \(10, 16\), but its input has shape "
                                        r"\(300, 16\)"):
        twin.forward(X)
    with pytest.raises(ValueError, match=r"expected masks \['dropout1', 'dropout2'\]. Received: \['dropout1'\]"):
        twin.set_dropout_masks({"dropout1": dropout_masks(spec, 10)["dropout1"]})
    inference = twin.forward(X, training=False)  # no dropout at inference: any mask will do
    np.testing.assert_array_equal(inference["dropout1"], inference["a1"])


def test_keras_twin_reads_the_current_mask_inside_a_traced_function():
    """A traced tf.function (as a compiled train step is) applies the mask set after tracing, at any batch size."""
    from conformance.lessons import (
        LESSONS,
        canonical_params,
        dropout_masks,
        lesson_data,
    )
    from frameworks import get_twin

    needs("keras")
    spec = LESSONS["spiral-dropout"]
    twin = get_twin("keras", spec, "float64")  # imports keras_twin, which sets TF's flags, before TF is imported

    import tensorflow as tf
    twin.set_params(canonical_params(spec))
    X, _ = lesson_data(spec)
    step = tf.function(lambda x: twin.trace_model(x, training=True), reduce_retracing=True)
    for n, mask_step in ((300, 0), (300, 1), (120, 2)):
        masks = dropout_masks(spec, n, step=mask_step)
        twin.set_dropout_masks(masks)
        traced = {k: np.asarray(v) for k, v in step(tf.constant(X[:n])).items()}
        eager = twin.forward(X[:n])
        assert_agree(traced, eager, atol=0, rtol=0, what=f"traced vs eager, mask of step {mask_step}, N={n}")
        np.testing.assert_array_equal(traced["dropout1"] != 0, masks["dropout1"] & (traced["a1"] != 0))
