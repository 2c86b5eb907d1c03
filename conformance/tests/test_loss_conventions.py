"""The loss's input, MSE's broadcasting and class weights: where torch and Keras differ (docs/conventions-losses.md).

Each row calls torch's and Keras's loss as a user ports it (the same call shape, each
framework's default), in float64, and takes the loss and its gradient with respect to
the prediction. Each framework agrees with the reference under its own convention (the
float64 tolerance) and not under the other's, by the measured amount.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference.activations import Softmax
from reference.loss_conventions import mse_of_shapes, weighted_cross_entropy
from reference.losses import CategoricalCrossEntropy, CategoricalCrossEntropyWithLogits

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE = "float64"
OTHER = {"torch": "keras", "keras": "torch"}
CLASS_WEIGHT = np.array([1.0, 2.0, 0.5])


def data() -> dict:
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 2, 1, 0])
    z = rng.normal(size=(6, 3))
    return {"y_pred": rng.normal(size=(8, 1)), "y": rng.normal(size=8), "z": z, "labels": labels,
            "onehot": np.eye(3)[labels], "p": Softmax().forward(z)}


def as_result(value, gradient) -> dict:
    return {"value": np.asarray(value, dtype=np.float64), "gradient": np.asarray(gradient, dtype=np.float64)}


def reference(row: str, convention: str) -> dict:
    d = data()
    if row == "loss-input-softmax-twice":  # torch's loss takes the probabilities as logits
        loss = CategoricalCrossEntropyWithLogits() if convention == "torch" else CategoricalCrossEntropy("keras")
        return as_result(loss.forward(d["p"], d["onehot"]), loss.backward(d["p"], d["onehot"]))
    if row == "mse-broadcasting":
        return as_result(*mse_of_shapes(d["y_pred"], d["y"], convention))
    return as_result(*weighted_cross_entropy(d["z"], d["onehot"], CLASS_WEIGHT, convention))


def torch_run(row: str) -> dict:
    import torch
    import torch.nn.functional as F

    d = data()
    labels = torch.tensor(d["labels"])
    if row == "loss-input-softmax-twice":
        x = torch.tensor(d["p"], requires_grad=True)
        value = torch.nn.CrossEntropyLoss()(x, labels)
    elif row == "mse-broadcasting":
        x = torch.tensor(d["y_pred"], requires_grad=True)
        with pytest.warns(UserWarning, match="different to the input size"):
            value = F.mse_loss(x, torch.tensor(d["y"]))
    else:
        x = torch.tensor(d["z"], requires_grad=True)
        value = torch.nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHT))(x, labels)
    value.backward()
    return as_result(value.item(), x.grad.numpy())


def keras_run(row: str) -> dict:
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the loss gradients are taken with TensorFlow's GradientTape")
    import tensorflow as tf

    from frameworks.keras_twin import keras_dtype

    d = data()
    x = tf.Variable({"loss-input-softmax-twice": d["p"], "mse-broadcasting": d["y_pred"]}.get(row, d["z"]))
    with keras_dtype(DTYPE), tf.GradientTape() as tape:
        if row == "loss-input-softmax-twice":
            value = keras.losses.CategoricalCrossentropy()(d["onehot"], x)
        elif row == "mse-broadcasting":
            value = keras.losses.MeanSquaredError()(d["y"], x)
        else:  # what fit(class_weight=...) hands the loss: each sample's class weight (test below)
            value = keras.losses.CategoricalCrossentropy(from_logits=True)(d["onehot"], x,
                                                                           sample_weight=d["onehot"] @ CLASS_WEIGHT)
    return as_result(value.numpy(), tape.gradient(value, x).numpy())


RUN = {"torch": torch_run, "keras": keras_run}
# row -> the losses under the two conventions, as measured (torch's, Keras's)
DIFFERENCES = {
    "loss-input-softmax-twice": (1.1028, 1.3024),
    "mse-broadcasting": (1.2356, 1.0471),
    "class-weight-normalisation": (1.1838, 1.3811),
}


@pytest.mark.parametrize("framework", list(OTHER))
@pytest.mark.parametrize("difference", list(DIFFERENCES))
def test_losses_differ_as_documented(difference, framework):
    needs(framework)
    tol = tolerance(DTYPE)
    actual, own, other = RUN[framework](difference), reference(difference, framework), reference(difference,
                                                                                              OTHER[framework])
    assert_agree(actual, own, atol=tol.atol, rtol=tol.rtol, what=f"{difference}: {framework} vs its own convention")
    versus_other = compare(actual, other, atol=tol.atol, rtol=tol.rtol)
    assert not versus_other.passed, f"{difference}: {framework} now also matches {OTHER[framework]}'s formula"
    measured = dict(zip(OTHER, DIFFERENCES[difference]))
    assert float(own["value"]) == pytest.approx(measured[framework], abs=1e-4)
    assert float(other["value"]) == pytest.approx(measured[OTHER[framework]], abs=1e-4)


def test_class_weight_totals_are_the_weights_sum_and_n():
    """The two class-weighted losses are one sum divided by two totals: sum of the weights (7.0 here) and N (6)."""
    torch_loss, keras_loss = (reference("class-weight-normalisation", c)["value"] for c in OTHER)
    assert float(keras_loss / torch_loss) == pytest.approx((data()["onehot"] @ CLASS_WEIGHT).sum() / 6, rel=1e-12)


def test_keras_fit_class_weight_is_the_sample_weight_divided_by_n():
    """``model.fit(class_weight=...)`` itself, one SGD step at learning rate 1 on a linear layer holding the identity
    (so its outputs are the logits z): the kernel moves by X^T dL/dz with the Keras convention's dL/dz."""
    needs("keras")
    import keras

    from frameworks.keras_twin import keras_dtype

    d = data()
    with keras_dtype(DTYPE):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, use_bias=False,
                                                                         kernel_initializer="identity")])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=np.float64(1.0)),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=True))
        model.fit(d["z"], d["onehot"], class_weight=dict(enumerate(CLASS_WEIGHT)), batch_size=6, epochs=1,
                  shuffle=False, verbose=0)
        kernel = keras.ops.convert_to_numpy(model.layers[0].kernel)
    tol = tolerance(DTYPE)
    for convention, agrees in (("keras", True), ("torch", False)):
        _, dz = weighted_cross_entropy(d["z"], d["onehot"], CLASS_WEIGHT, convention)
        result = compare({"kernel": kernel}, {"kernel": np.eye(3) - d["z"].T @ dz}, atol=tol.atol, rtol=tol.rtol)
        assert result.passed == agrees, result.message()


def test_class_weighted_cross_entropy_of_logits_far_apart_row_by_row():
    """Rows whose logits lie about 1,000 apart (one near 1000, one near 0): the log-sum-exp of each row is
    shifted by that row's own largest logit, as torch's ``CrossEntropyLoss`` computes it; one shift for the
    whole batch would take exp(-1000) = 0 for the small row, and its loss would be log(0)."""
    needs("torch")
    import torch

    tol = tolerance(DTYPE)
    d = data()
    z = d["z"].copy()
    z[0] += 1000.0
    x = torch.tensor(z, requires_grad=True)
    value = torch.nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHT))(x, torch.tensor(d["labels"]))
    value.backward()
    with np.errstate(all="raise"):  # a log(0) or an overflow is a failure, not a warning
        ours = as_result(*weighted_cross_entropy(z, d["onehot"], CLASS_WEIGHT, "torch"))
    assert_agree(as_result(value.item(), x.grad.numpy()), ours, atol=tol.atol, rtol=tol.rtol,
                 what="class-weighted cross-entropy, rows 1000 apart")


def test_loss_conventions_refuse_bad_input():
    """Every refusal begins with the refusing call (as test_bad_input.py holds for the lessons' reference)."""
    with pytest.raises(ValueError, match=r"^mse_of_shapes: expected y_pred of shape \(N, 1\) and y of shape \(N,\)"):
        mse_of_shapes(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"^weighted_cross_entropy: expected one weight per class, shape \(3,\). "
                                         r"Received: \(2,\)"):
        weighted_cross_entropy(np.ones((4, 3)), np.eye(3)[[0, 1, 2, 0]], np.ones(2))
    with pytest.raises(ValueError, match="^mse_of_shapes: convention must be 'torch' or 'keras'. Received: convention='jax'"):
        mse_of_shapes(np.ones((4, 1)), np.ones(4), "jax")
    with pytest.raises(ValueError, match="^weighted_cross_entropy: convention must be 'torch' or 'keras'. "
                                         "Received: convention='jax'"):
        weighted_cross_entropy(np.ones((4, 3)), np.eye(3)[[0, 1, 2, 0]], np.ones(3), "jax")
