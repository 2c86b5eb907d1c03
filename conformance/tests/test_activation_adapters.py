"""The activation adapters: torch's GELU and SELU in Keras, Keras's SELU in torch, held to the other framework;
softplus, which needs none (torch.nn.Softplus(threshold=40) computes Keras's numbers, a huge threshold overflows).

Each adapter's value and gradient (``backward`` in torch, ``GradientTape`` on TensorFlow) on
``test_activation_conventions.py``'s grid of z, in float64, agree with the other framework's own
at the float64 tolerance; the adapter's own framework's built-in does not, by the gap measured
in docs/conventions-activations.md (the reason the adapter exists).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs

from ..compare import assert_agree, compare
from ..tolerances import tolerance
from .test_activation_conventions import Z

DTYPE = "float64"
TOL = tolerance(DTYPE)
# row of docs/conventions-activations.md -> (torch's approximate=, Keras's built-in, its measured gap from torch)
GELU_ROWS = {
    "gelu-tensorflow-float32-constant": ("none", "activations.gelu", 5.649e-9),
    "gelu-tanh-tensorflow-float32-constant": ("tanh", "ops.gelu", 9.790e-10),
}
SELU_GAP = 7.074e-1  # selu'(0): torch scale * alpha = 1.7581 against Keras's scale = 1.0507


def torch_run(function) -> dict:
    import torch

    z = torch.tensor(Z, requires_grad=True)
    a = function(z)
    a.sum().backward()
    return {"value": a.detach().numpy(), "gradient": z.grad.numpy()}


def keras_run(function) -> dict:
    """``function`` and its gradient on TensorFlow, under Keras's float64 settings (a layer computes in float64)."""
    needs("keras")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the activation gradients are taken with TensorFlow's GradientTape")
    import tensorflow as tf

    from frameworks.keras_twin import keras_dtype

    z = tf.Variable(Z)
    with keras_dtype(DTYPE), tf.GradientTape() as tape:
        a = function(z)
        total = tf.reduce_sum(a)
    return {"value": keras.ops.convert_to_numpy(a), "gradient": tape.gradient(total, z).numpy()}


def differs_by(run: dict, theirs: dict, measured: float, what: str):
    result = compare(run, theirs, atol=TOL.atol, rtol=TOL.rtol)
    assert not result.passed, f"{what} now matches: the adapter is no longer needed"
    assert result.max_abs_err == pytest.approx(measured, rel=0.01), f"{what}: the documented gap has changed"


@pytest.mark.parametrize("row", list(GELU_ROWS))
def test_keras_gelu_adapter_computes_torch_s_gelu(row):
    needs("torch")
    needs("keras")
    import keras
    import torch.nn.functional as F

    from frameworks.keras_adapters import TorchGELU, torch_gelu

    approximate, builtin, measured = GELU_ROWS[row]
    theirs = torch_run(lambda z: F.gelu(z, approximate=approximate))
    ours = keras_run(lambda z: torch_gelu(z, approximate))
    assert_agree(ours, theirs, atol=TOL.atol, rtol=TOL.rtol, what=f"torch_gelu(approximate={approximate!r}) vs F.gelu")
    layer = keras_run(lambda z: TorchGELU(approximate)(z))
    assert_agree(layer, theirs, atol=TOL.atol, rtol=TOL.rtol, what=f"TorchGELU({approximate!r}) vs nn.GELU")
    own = {"activations.gelu": keras.activations.gelu, "ops.gelu": keras.ops.gelu}[builtin]
    differs_by(keras_run(own), theirs, measured, f"keras.{builtin}")


def test_keras_gelu_adapter_refuses_an_unknown_approximation():
    needs("keras")
    from frameworks.keras_adapters import torch_gelu

    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'.*Received: approximate=True"):
        torch_gelu(np.zeros(2), True)


def test_torch_selu_adapter_takes_keras_s_derivative_at_0():
    needs("torch")
    needs("keras")
    import keras
    import torch.nn.functional as F

    from frameworks.torch_adapters import KerasSELU

    theirs = keras_run(keras.activations.selu)
    ours = torch_run(KerasSELU())
    assert_agree(ours, theirs, atol=TOL.atol, rtol=TOL.rtol, what="KerasSELU vs keras.activations.selu")
    assert ours["gradient"][Z == 0] == pytest.approx(1.0507, abs=1e-4)
    differs_by(torch_run(F.selu), theirs, SELU_GAP, "torch's F.selu")


def test_keras_selu_adapter_takes_torch_s_derivative_at_0():
    needs("torch")
    needs("keras")
    import keras
    import torch.nn.functional as F

    from frameworks.keras_adapters import torch_selu

    theirs = torch_run(F.selu)
    ours = keras_run(torch_selu)
    assert_agree(ours, theirs, atol=TOL.atol, rtol=TOL.rtol, what="torch_selu vs F.selu")
    assert ours["gradient"][Z == 0] == pytest.approx(1.7581, abs=1e-4)
    differs_by(keras_run(keras.activations.selu), theirs, SELU_GAP, "keras.activations.selu")


# z a lesson's pre-activations can reach and far beyond: below TensorFlow's own cut-offs (it returns z above 34 in
# float64, 14 in float32), across exp's overflow (z = 709.78 in float64, 88.72 in float32), and past 1e9
WIDE_Z = np.concatenate([np.arange(-60.0, 2000.0, 0.25), [1e8, 1e10]])


def _softplus_runs(threshold: float, dtype: str) -> tuple[dict, dict]:
    """(torch.nn.Softplus(threshold=threshold), keras.activations.softplus): value and gradient on WIDE_Z in dtype."""
    needs("torch")
    needs("keras")
    import keras
    import torch

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient is taken with TensorFlow's GradientTape")
    import tensorflow as tf

    z = torch.tensor(WIDE_Z.astype(dtype), requires_grad=True)
    a = torch.nn.Softplus(threshold=threshold)(z)
    a.sum().backward()
    x = tf.Variable(WIDE_Z.astype(dtype))
    with tf.GradientTape() as tape:
        b = keras.activations.softplus(x)
        total = tf.reduce_sum(b)
    return ({"value": a.detach().numpy(), "gradient": z.grad.numpy()},
            {"value": keras.ops.convert_to_numpy(b), "gradient": tape.gradient(total, x).numpy()})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_softplus_with_threshold_40_computes_keras_s_softplus(dtype):
    """Softplus needs no adapter: torch.nn.Softplus(threshold=40) (nnparity's suggestion: translate, compare_models)
    agrees with Keras's softplus at the dtype's tolerance, value and gradient, over WIDE_Z (measured: 7.1e-15 in
    float64, 1.9e-6 in float32, where TensorFlow returns z from 14 on and torch log(1 + exp(z)) rounded)."""
    from nnparity.pairs.explain_activations import SOFTPLUS_THRESHOLD

    tol = tolerance(dtype)
    ours, theirs = _softplus_runs(SOFTPLUS_THRESHOLD, dtype)
    assert_agree(ours, theirs, atol=tol.atol, rtol=tol.rtol, what=f"nn.Softplus(threshold=40) vs keras softplus, {dtype}")


@pytest.mark.parametrize("dtype, overflow", [("float64", 709.78), ("float32", 88.72)])
def test_a_huge_softplus_threshold_overflows_where_keras_s_does_not(dtype, overflow):
    """torch.nn.Softplus(threshold=1e9) is not Keras's softplus: exp(z) overflows, so from z = log(max float) up to
    the threshold it returns inf (and a NaN gradient), where Keras returns z."""
    ours, theirs = _softplus_runs(1e9, dtype)
    broken = ~np.isfinite(ours["value"])
    assert WIDE_Z[broken].min() == pytest.approx(overflow, abs=0.25) and WIDE_Z[broken].max() < 1e9
    assert np.isnan(ours["gradient"][broken]).all()
    assert np.isfinite(theirs["value"]).all() and np.array_equal(theirs["value"][broken], WIDE_Z[broken].astype(dtype))
