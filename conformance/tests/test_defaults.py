"""The reference's default arguments against torch's and Keras's defaults.

A learner who leaves an argument out gets a default, and the frameworks do not
always agree on it. Every check elsewhere passes its arguments explicitly, so
this file is where the defaults themselves are compared: each reference default
is the framework's (compared by value or by distribution), or the difference is
stated and measured here. (The optimizers' defaults, per convention, are in
test_conventions.py.)

===================  ===============================  ================================  =====================
reference default    PyTorch default                  Keras 3 default                   here
===================  ===============================  ================================  =====================
LeakyReLU slope      0.01 (``F.leaky_relu``)          0.2 (``activations.leaky_relu``)  torch's
                                                      0.3 (``layers.LeakyReLU``)
Normal scale         1.0 (``init.normal_``)           0.05 (``RandomNormal``)           torch's
Uniform (low, high)  (0, 1) (``init.uniform_``)       (-0.05, 0.05) (``RandomUniform``) torch's
glorot/he normal     not truncated (``xavier_normal_``,  truncated at 2 std             torch's
                     ``kaiming_normal_``)             (``GlorotNormal``, ``HeNormal``)
BCE, CCE convention  torch's (``BCELoss``, ``NLLLoss``)  clip to [1e-7, 1 - 1e-7]       torch's
MLP dtype            float32 (``get_default_dtype``)  float32 (``config.floatx``)       float64: differs
MLP loss             (none)                           (none)                            MSE, the mean
===================  ===============================  ================================  =====================
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from conformance.checks.components import (
    INIT_FANS,
    activation_inputs,
    compare_draws,
    loss_inputs,
)
from conformance.tests.support import needs
from reference import MLP, get_activation, get_initializer, get_loss
from reference.losses import BinaryCrossEntropy, CategoricalCrossEntropy

from ..compare import assert_agree, compare
from ..tolerances import tolerance

# ----- LeakyReLU's slope ---------------------------------------------------------------------------------------


def test_leaky_relu_default_slope_is_torch_s():
    needs("torch")
    import torch
    import torch.nn.functional as F

    z, da = activation_inputs()
    zt = torch.tensor(z, requires_grad=True)
    a = F.leaky_relu(zt)  # torch's default negative_slope
    a.backward(torch.tensor(da))
    act = get_activation("leaky_relu")  # the reference's default slope
    ours = act.forward(z)
    tol = tolerance("float64")
    assert_agree({"a": ours, "dz": act.backward(z, ours, da)},
                 {"a": a.detach().numpy(), "dz": zt.grad.numpy()}, atol=tol.atol, rtol=tol.rtol,
                 what="leaky_relu with the default slope, against F.leaky_relu")


def test_leaky_relu_default_slope_differs_from_keras_s():
    """Keras's two defaults (0.2 for the function, 0.3 for the layer) are not the reference's (torch's 0.01)."""
    needs("keras")
    import keras

    function_slope = inspect.signature(keras.activations.leaky_relu).parameters["negative_slope"].default
    layer_slope = keras.layers.LeakyReLU().negative_slope
    assert (function_slope, layer_slope) == (0.2, 0.3), "Keras's LeakyReLU defaults changed: update the docs"
    z, _ = activation_inputs()
    ours = get_activation("leaky_relu").forward(z)
    theirs = np.asarray(keras.activations.leaky_relu(z))  # Keras's default slope
    # at z < 0 the two differ by (0.2 - 0.01) * |z|: the largest |z| < 0 of the inputs is 1001
    assert np.max(np.abs(ours - theirs)) == pytest.approx((function_slope - 0.01) * 1001, rel=1e-6)


# ----- initializers ---------------------------------------------------------------------------------------------


def torch_draw(init) -> np.ndarray:
    """A (fan_in, fan_out) kernel drawn by ``init(weight)`` with torch's defaults (weight in torch's layout)."""
    import torch

    torch.manual_seed(1)
    w = torch.empty(INIT_FANS[1], INIT_FANS[0], dtype=torch.float64)
    with torch.no_grad():
        init(w)
    return w.numpy().T.copy()


def keras_draw(init) -> np.ndarray:
    return np.asarray(init(INIT_FANS, dtype="float64"))


# reference initializer (default arguments) -> the torch.nn.init function whose defaults it reproduces
TORCH_SAME_DEFAULTS = {
    "normal": "normal_",  # std=1.0
    "uniform": "uniform_",  # a=0.0, b=1.0
    "glorot_normal": "xavier_normal_",  # a plain normal: not truncated
    "he_normal": "kaiming_normal_",  # a=0, mode="fan_in", nonlinearity="leaky_relu": gain sqrt(2), as relu; not truncated
}


@pytest.mark.parametrize("name", list(TORCH_SAME_DEFAULTS))
def test_initializer_defaults_are_torch_s(name):
    needs("torch")
    from torch import nn

    theirs = torch_draw(getattr(nn.init, TORCH_SAME_DEFAULTS[name]))
    result = compare_draws(get_initializer(name), theirs, what=f"{name}() against torch's {TORCH_SAME_DEFAULTS[name]}")
    assert result.passed, result.message()


# reference initializer -> (the Keras initializer with its defaults, the reference's arguments that match it)
KERAS_DEFAULTS = {
    "normal": ("RandomNormal", {"scale": 0.05}),
    "uniform": ("RandomUniform", {"low": -0.05, "high": 0.05}),
    "glorot_normal": ("GlorotNormal", {"truncated": True}),
    "he_normal": ("HeNormal", {"truncated": True}),
}


@pytest.mark.parametrize("name", list(KERAS_DEFAULTS))
def test_initializer_defaults_differ_from_keras_s(name):
    """Keras's defaults are another distribution: the reference's defaults miss it, the arguments above match it."""
    needs("keras")
    import keras

    keras_name, matching = KERAS_DEFAULTS[name]
    theirs = keras_draw(getattr(keras.initializers, keras_name)(seed=1))
    default = compare_draws(get_initializer(name), theirs, what=f"{name}() against Keras's {keras_name}()")
    assert not default.passed, f"{name}: the reference's default now matches Keras's {keras_name}()"
    explicit = compare_draws(get_initializer(name, **matching), theirs, what=f"{name}({matching}) against Keras")
    assert explicit.passed, explicit.message()


# ----- losses and the MLP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,torch_loss", [("bce", "binary_cross_entropy"), ("cce", "nll_loss")])
def test_probability_losses_default_to_torch_s_convention(name, torch_loss):
    """BCE and CCE on probabilities without a convention are torch's, at 0 and 1 too (torch clamps log at -100)."""
    needs("torch")
    import torch
    import torch.nn.functional as F

    pred, y = loss_inputs(name, "torch")
    p, yt = torch.tensor(pred, requires_grad=True), torch.tensor(y)
    value = F.binary_cross_entropy(p, yt) if name == "bce" else F.nll_loss(torch.log(p), yt.argmax(dim=1))
    value.backward()
    loss = get_loss(name)  # no convention given
    assert isinstance(loss, (BinaryCrossEntropy, CategoricalCrossEntropy))
    tol = tolerance("float64")
    assert_agree({"loss": np.asarray(loss.forward(pred, y)), "dpred": loss.backward(pred, y)},
                 {"loss": np.asarray(value.item()), "dpred": p.grad.numpy()}, atol=tol.atol, rtol=tol.rtol,
                 what=f"{name} with its default convention, against torch's {torch_loss}")


def test_mlp_defaults_to_mse_in_float64_where_the_frameworks_default_to_float32():
    """``MLP(params, activations)``: the mean squared error (``nn.MSELoss()``), in float64. torch and Keras
    make float32 models unless told: the reference's default is the exact side of every comparison."""
    needs("torch")
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(3)
    W, b, X, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    model = MLP({"W1": W, "b1": b}, ["linear"])
    assert all(p.dtype == np.float64 for p in model.params.values())
    assert torch.get_default_dtype() == torch.float32
    Wt = torch.tensor(W, requires_grad=True)
    value = F.mse_loss(torch.tensor(X) @ Wt + torch.tensor(b), torch.tensor(y))
    value.backward()
    tol = tolerance("float64")
    assert_agree({"loss": np.asarray(model.loss_value(X, y)), "W1": model.backward(y)["W1"]},
                 {"loss": np.asarray(value.item()), "W1": Wt.grad.numpy()}, atol=tol.atol, rtol=tol.rtol,
                 what="MLP with its default loss, against F.mse_loss")


def test_keras_default_float_type_is_float32():
    needs("keras")
    import keras

    assert keras.config.floatx() == "float32"


def test_mlp_fuses_sigmoid_and_bce_by_default():
    """By default sigmoid + BCE is computed from the logits, as ``BCEWithLogitsLoss`` (and Keras on its own
    sigmoid): exact at a logit of 40, where torch's ``BCELoss`` on the probability gives log(1e-100)'s clamp."""
    needs("torch")
    import torch
    import torch.nn.functional as F

    z, y = np.array([[40.0], [-40.0], [3.0]]), np.array([[0.0], [1.0], [1.0]])
    model = MLP({"W1": np.eye(1)}, ["sigmoid"], "bce")
    fused = F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y)).item()
    on_probabilities = F.binary_cross_entropy(torch.sigmoid(torch.tensor(z)), torch.tensor(y)).item()
    assert compare({"loss": np.asarray(model.loss_value(z, y))}, {"loss": np.asarray(fused)},
                   atol=1e-12, rtol=1e-12).passed
    assert abs(fused - on_probabilities) > 1e-3  # the two forms really differ here


# ----- optimizers: the convention left out ----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "adamax", "amsgrad",
                                       "adadelta"])
def test_an_optimizer_without_arguments_is_torch_s(optimizer):
    """``Adam()`` is ``torch.optim.Adam(params)``: torch's convention, every hyper-parameter torch's default
    (``config()``, under Keras's names); no clipping. (``Adam(convention="keras")`` is Keras's: test_conventions.py.)"""
    needs("torch")
    from reference import OPTIMIZERS

    from .test_optimizer_conventions import torch_defaults

    theirs = torch_defaults(optimizer)
    config = OPTIMIZERS[optimizer]().config()
    assert config.pop("convention") == "torch"
    assert config == pytest.approx(theirs), f"{optimizer}() is not torch.optim's default"


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "adamax", "amsgrad",
                                       "adadelta"])
def test_an_optimizer_prints_torch_s_defaults_by_keras_s_names(optimizer):
    """What a learner sees printed is those defaults, by name: repr reads as the call that makes it."""
    needs("torch")
    from reference import OPTIMIZERS

    from .test_optimizer_conventions import torch_defaults

    theirs = torch_defaults(optimizer)
    name, printed = _printed_call(repr(OPTIMIZERS[optimizer]()))
    assert name == type(OPTIMIZERS[optimizer]()).__name__
    assert printed.pop("convention") == "torch"
    assert printed == pytest.approx(theirs), f"repr of {optimizer}() does not show torch.optim's defaults"


def _printed_call(text: str) -> tuple[str, dict]:
    """"Adam(learning_rate=0.001, ...)" -> ("Adam", {"learning_rate": 0.001, ...})."""
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call) and not call.args, text
    return call.func.id, {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
