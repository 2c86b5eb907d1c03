"""GELU, SELU and softplus: where torch and Keras differ, proven against both (docs/conventions-activations.md).

For each row, torch's and Keras's (TensorFlow's) function and its gradient are
computed in float64 on one grid of z (-6 to 6 by 0.1, and 0, 20.1, 25, -20). Then:

1. each framework agrees with the reference under its own convention (the float64 tolerance);
2. it disagrees with the reference under the other framework's, by what the two
   reference formulas predict;
3. that amount is the one measured and written in the docs (1%).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conformance.tests.support import assert_own_formula_not_the_other, needs
from reference.activation_conventions import GELU, SELU, Softplus

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE = "float64"
Z = np.concatenate([np.linspace(-6, 6, 121), [0.0, 20.1, 25.0, -20.0]])


def torch_call(name: str):
    import torch.nn.functional as F

    return {"gelu": F.gelu, "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"), "selu": F.selu,
            "softplus": F.softplus}[name]


def keras_call(name: str):
    import keras

    return {"activations.gelu": keras.activations.gelu, "ops.gelu": keras.ops.gelu,
            "selu": keras.activations.selu, "softplus": keras.activations.softplus}[name]


def torch_value_and_gradient(name: str) -> dict:
    import torch

    z = torch.tensor(Z, requires_grad=True)
    a = torch_call(name)(z)
    a.sum().backward()
    return {"value": a.detach().numpy(), "gradient": z.grad.numpy()}


def keras_value_and_gradient(name: str) -> dict:
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the activation gradients are taken with TensorFlow's GradientTape")
    import tensorflow as tf

    z = tf.Variable(Z)
    with tf.GradientTape() as tape:
        a = keras_call(name)(z)
        total = tf.reduce_sum(a)
    return {"value": a.numpy(), "gradient": tape.gradient(total, z).numpy()}


def reference(activation) -> dict:
    a = activation.forward(Z)
    return {"value": a, "gradient": activation.derivative(Z, a)}


# row -> ({framework: its call}, {framework: the reference under its convention}, measured gap)
DIFFERENCES = {
    "gelu-ops-default-is-tanh": ({"torch": "gelu", "keras": "ops.gelu"},
                                 {"torch": GELU(False, "torch"), "keras": GELU(True, "keras")}, 8.684e-4),
    "gelu-tensorflow-float32-constant": ({"torch": "gelu", "keras": "activations.gelu"},
                                         {"torch": GELU(False, "torch"), "keras": GELU(False, "keras")}, 5.649e-9),
    "gelu-tanh-tensorflow-float32-constant": ({"torch": "gelu_tanh", "keras": "ops.gelu"},
                                              {"torch": GELU(True, "torch"), "keras": GELU(True, "keras")}, 9.790e-10),
    "selu-derivative-at-0": ({"torch": "selu", "keras": "selu"},
                             {"torch": SELU("torch"), "keras": SELU("keras")}, 7.074e-1),
    "softplus-threshold": ({"torch": "softplus", "keras": "softplus"},
                           {"torch": Softplus("torch"), "keras": Softplus("keras")}, 1.865e-9),
}
OTHER = {"torch": "keras", "keras": "torch"}
RUN = {"torch": torch_value_and_gradient, "keras": keras_value_and_gradient}


@pytest.mark.parametrize("framework", list(OTHER))
@pytest.mark.parametrize("difference", list(DIFFERENCES))
def test_activations_differ_as_documented(difference, framework):
    needs(framework)
    calls, references, measured = DIFFERENCES[difference]
    tol = tolerance(DTYPE)
    actual = RUN[framework](calls[framework])
    own, other = reference(references[framework]), reference(references[OTHER[framework]])
    assert_own_formula_not_the_other(actual, own, other, measured, tol, difference, framework, OTHER[framework], gap_rel=1e-3)


def test_the_activation_gaps_sit_where_documented():
    """Where each gap is: GELU's value (4.7e-4) beside its gradient (8.7e-4); SELU's only at z = 0; softplus's
    above torch's threshold, in the value and the derivative alike."""
    exact, approximate = reference(GELU(False, "torch")), reference(GELU(True, "keras"))
    assert np.max(np.abs(exact["value"] - approximate["value"])) == pytest.approx(4.732e-4, rel=0.01)
    selu = {c: reference(SELU(c)) for c in OTHER}
    apart = np.flatnonzero(selu["torch"]["gradient"] != selu["keras"]["gradient"])
    assert Z[apart].tolist() == [0.0, 0.0] and (selu["torch"]["value"] == selu["keras"]["value"]).all()
    assert selu["torch"]["gradient"][apart[0]] == pytest.approx(1.7581, abs=1e-4)
    assert selu["keras"]["gradient"][apart[0]] == pytest.approx(1.0507, abs=1e-4)
    soft = {c: reference(Softplus(c)) for c in OTHER}
    for quantity in ("value", "gradient"):
        apart = np.flatnonzero(np.abs(soft["torch"][quantity] - soft["keras"][quantity]) > 1e-15)
        assert Z[apart].tolist() == [20.1, 25.0], quantity


def test_the_derivatives_at_large_z_are_torch_s_without_a_warning():
    """At z = -800 and 800, exp(-z) and exp(z) overflow on the branch each derivative discards: SELU's
    derivative is torch's (scale above 0, 0 far below) and softplus's is sigmoid(z) (0 and 1), with no
    overflow warning (the warning filter makes one an error here)."""
    needs("torch")
    import torch
    import torch.nn.functional as F

    tol = tolerance(DTYPE)
    z = np.array([-800.0, 800.0])
    for activation, call in ((SELU(), F.selu), (Softplus(), F.softplus), (Softplus("keras"), torch.sigmoid)):
        zt = torch.tensor(z, requires_grad=True)
        expected = call(zt)
        if call is not torch.sigmoid:  # for Keras's softplus the derivative is compared with sigmoid itself
            expected.sum().backward()
            expected = zt.grad
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            ours = activation.derivative(z, activation.forward(z))
        assert_agree({"gradient": expected.detach().numpy()}, {"gradient": ours}, atol=tol.atol, rtol=tol.rtol,
                     what=f"{activation!r}'s derivative at -800 and 800")


def test_torch_softplus_uses_the_formula_at_exactly_its_threshold():
    """torch's ``F.softplus`` returns z only where z > threshold: at z = 20 exactly it computes log(1 + exp(20)),
    2.1e-9 above 20 (beyond the float64 tolerance), and its derivative sigmoid(20), not 1."""
    needs("torch")
    import torch
    import torch.nn.functional as F

    tol = tolerance(DTYPE)
    zt = torch.tensor(np.array([20.0]), requires_grad=True)
    value = F.softplus(zt)
    value.sum().backward()
    softplus = Softplus("torch")
    ours = {"value": softplus.forward(np.array([20.0])), "gradient": softplus.derivative(np.array([20.0]), None)}
    assert_agree({"value": value.detach().numpy(), "gradient": zt.grad.numpy()}, ours, atol=tol.atol,
                 rtol=tol.rtol, what="softplus at its threshold")
    assert not compare(ours, {"value": np.array([20.0]), "gradient": np.array([1.0])}, atol=tol.atol,
                       rtol=tol.rtol).passed


def test_activation_conventions_refuse_an_unknown_convention():
    """Every refusal begins with the refusing call (as test_bad_input.py holds for the lessons' reference)."""
    for name, build in (("GELU", lambda: GELU(convention="jax")), ("SELU", lambda: SELU("jax")),
                        ("Softplus", lambda: Softplus("jax"))):
        with pytest.raises(ValueError, match=f"^{name}: convention must be 'torch' or 'keras'. Received: convention='jax'"):
            build()


def test_the_activations_default_to_torch_s_calls():
    """``GELU()``, ``SELU()`` and ``Softplus()`` compute torch's ``F.gelu(z)`` (exact), ``F.selu(z)`` and
    ``F.softplus(z)`` (threshold 20) as called with no argument: the reference's default convention is torch's."""
    needs("torch")
    tol = tolerance(DTYPE)
    for activation, call in ((GELU(), "gelu"), (SELU(), "selu"), (Softplus(), "softplus")):
        assert_agree(torch_value_and_gradient(call), reference(activation), atol=tol.atol, rtol=tol.rtol,
                     what=f"{activation!r} vs torch's F.{call}")
    # what the two GELUs' gap (DIFFERENCES) proves: the exact default is not the approximation
    assert not compare(reference(GELU()), reference(GELU(True)), atol=tol.atol, rtol=tol.rtol).passed
