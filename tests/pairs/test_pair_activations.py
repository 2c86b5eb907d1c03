"""compare_models on the activations beyond the lessons' (issue 22's GELU, SELU, softplus; ELU, SiLU,
softsign, hardtanh): a correct port agrees (or is ``known``, where TensorFlow computes a constant or a
derivative its own way), and a planted setting is named with its fix, tried. float64, a few steps."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nnparity  # noqa: E402
from frameworks.keras_adapters import TorchGELU, torch_gelu  # noqa: E402
from pair_zoo import L, data, keras  # noqa: E402

MSE = dict(torch_loss=nn.MSELoss(), keras_loss=keras.losses.MeanSquaredError())
SGD = dict(torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), keras_optimizer=keras.optimizers.SGD(0.1))


def torch_model(activation, *, bias=True):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8, bias=bias), activation, nn.Linear(8, 1, bias=bias))


def keras_model(activation, *, bias=True):
    hidden = [L.Dense(8, activation=activation, use_bias=bias)] if not isinstance(activation, keras.layers.Layer) \
        else [L.Dense(8, use_bias=bias), activation]
    return keras.Sequential([keras.Input((4,)), *hidden, L.Dense(1, use_bias=bias)])


def compare(activation_torch, activation_keras, X=None, *, bias=True, steps=3):
    X0, y = data(4, 1, "mse")
    return nnparity.compare_models(torch_model(activation_torch, bias=bias), keras_model(activation_keras, bias=bias),
                                   X0 if X is None else X, y, steps=steps, **MSE, **SGD)


def only(result, key, where="explanations"):
    found = [e for e in getattr(result, where) if e.key == key]
    assert len(found) == 1, f"{key!r} not once in {where}:\n{result.report()}"
    return found[0]


@pytest.mark.parametrize("torch_act, keras_act", [
    (nn.SiLU(), "swish"), (nn.SiLU(), "silu"), (nn.Softsign(), "softsign"), (nn.Softplus(), "softplus"),
    (nn.Hardtanh(), "hard_tanh"), (nn.ELU(), "elu"), (nn.ELU(alpha=0.5), L.ELU(alpha=0.5)), (nn.SELU(), "selu"),
    (nn.GELU(), torch_gelu), (nn.GELU(approximate="tanh"), TorchGELU("tanh")),
], ids=["silu-swish", "silu", "softsign", "softplus", "hardtanh", "elu", "elu-layer", "selu", "gelu-adapter",
        "gelu-tanh-adapter"])
def test_a_correct_port_agrees(torch_act, keras_act):
    result = compare(torch_act, keras_act)
    assert result.status == "passed", result.report()


@pytest.mark.parametrize("torch_act, keras_act, gap", [
    (nn.GELU(), "gelu", 5.7e-9), (nn.GELU(approximate="tanh"), keras.ops.gelu, 9.8e-10)])
def test_gelu_against_keras_s_own_is_known_by_its_float32_constants(torch_act, keras_act, gap):
    result = compare(torch_act, keras_act)
    assert result.status == "known" and result.divergence.quantity.name == "a1", result.report()
    e = only(result, "gelu-float32-constant", "accounted")
    measured = float(e.detail.split("up to ")[1].split(" ")[0])
    assert gap / 2 < measured < gap  # docs/conventions-activations.md: 5.649e-9 (exact), 9.790e-10 (tanh) at most
    assert "torch_gelu" in e.adapter and e.fix is None


@pytest.mark.parametrize("torch_act, keras_act, fix", [
    (nn.GELU(approximate="tanh"), "gelu", "nn.GELU(approximate='none')"),
    (nn.GELU(), keras.ops.gelu, "nn.GELU(approximate='tanh')"),  # keras.ops.gelu defaults to the approximation
    (nn.ELU(alpha=0.5), "elu", "nn.ELU(alpha=1.0)"),
    (nn.Softplus(beta=2.0), "softplus", "nn.Softplus(beta=1.0)"),
    (nn.Hardtanh(-2.0, 2.0), "hard_tanh", "nn.Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.LeakyReLU(), "leaky_relu", "nn.LeakyReLU(negative_slope=0.2)"),
], ids=["gelu-tanh-torch", "gelu-tanh-keras-ops", "elu-alpha", "softplus-beta", "hardtanh-range", "leaky-slope"])
def test_a_setting_of_the_activation_is_named_and_its_fix_agrees(torch_act, keras_act, fix):
    X = data(4, 1, "mse")[0] * 2  # inputs beyond hardtanh's +-1
    result = compare(torch_act, keras_act, X)
    assert result.status == "failed" and result.divergence.quantity.name == "a1", result.report()
    e = result.explanations[0]
    assert e.fix.startswith(fix), result.report()
    assert e.verdict.startswith("with it") and e.verdict.endswith("the two models agree"), result.report()


def test_a_leaky_relu_port_is_known_by_tensorflow_s_float32_slope():
    result = compare(nn.LeakyReLU(0.01), L.LeakyReLU(negative_slope=0.01))
    assert result.status == "known", result.report()
    assert only(result, "leaky-relu-float32-slope", "accounted").detail.startswith(
        "TensorFlow's leaky_relu kernel rounds the negative slope to float32 (0.009999999776482582 for 0.01)")


def test_selu_at_exactly_zero_is_known_with_its_gap_and_adapter():
    X = data(4, 1, "mse")[0]
    X[:3] = 0.0  # three rows of zeros and no bias: the SELU's inputs are exactly 0 there
    result = compare(nn.SELU(), "selu", X, bias=False)
    assert result.status == "known" and result.divergence.quantity.name == "dL/dz1", result.report()
    e = only(result, "selu-at-zero", "accounted")
    assert e.detail.startswith("24 inputs of torch's SELU are exactly 0") and "7.074e-01 apart" in e.detail
    assert "KerasSELU" in e.adapter and "torch_selu" in e.adapter


def test_softplus_above_torch_s_threshold_is_measured_and_fixed_by_a_higher_threshold():
    X = data(4, 1, "mse")[0] * 20  # first-layer inputs beyond 20, where torch's softplus returns z
    result = compare(nn.Softplus(), "softplus", X, steps=2)
    assert result.status == "failed" and result.divergence.quantity.name == "a1", result.report()
    e = only(result, "softplus-threshold")
    above, gap = int(e.detail.split(": ")[1].split(" ")[0]), float(e.detail.split("up to ")[1].split(" ")[0])
    assert above > 0 and 4e-18 < gap < 2.1e-9  # exp(-z) for z between 20 and 40
    assert e.fix.startswith("nn.Softplus(beta=1, threshold=40)") and e.verdict == "with it, the two models agree"


def test_an_unread_keras_function_is_refused_and_a_lambda_is_not_guessed():
    with pytest.raises(nnparity.PairError, match=r"activation '<lambda>' is not supported; supported: relu, .*gelu"):
        compare(nn.GELU(), lambda x: keras.activations.gelu(x, approximate=True))
    assert np.isfinite(compare(nn.Tanh(), "tanh").comparisons["forward"].max_abs_err)


def test_in_float32_gelu_s_constants_are_not_a_difference():
    X, y = data(4, 1, "mse")  # torch rounds 1/sqrt(2) to float32 as TensorFlow does: nothing to follow
    result = nnparity.compare_models(torch_model(nn.GELU()), keras_model("gelu"), X, y, steps=3, dtype="float32",
                                     **MSE, **SGD)
    assert result.status == "passed" and result.accounted == [], result.report()


def test_an_activation_layer_keeps_the_function_it_was_given():
    # keras.ops.gelu's config says "gelu", which rebuilt would be keras.activations.gelu (exact): the layer keeps
    # the function, so the tanh approximation on both sides is only TensorFlow's float32 constant apart
    result = compare(nn.GELU(approximate="tanh"), L.Activation(keras.ops.gelu))
    assert result.status == "known", result.report()
    assert [e.key for e in result.accounted] == ["gelu-float32-constant"]
    assert compare(nn.SELU(), L.Activation("selu")).status == "passed"


def test_hardtanh_at_exactly_its_bounds_is_known_by_its_derivative_there():
    X = data(4, 1, "mse")[0]
    X[:2] = 0.0  # rows of zeros and a bias of 1: the Hardtanh's inputs are exactly 1 there
    tm, km = torch_model(nn.Hardtanh()), keras_model("hard_tanh")
    with torch.no_grad():
        tm[0].bias.fill_(1.0)
    result = nnparity.compare_models(tm, km, X, data(4, 1, "mse")[1], steps=3, **MSE, **SGD)
    assert result.status == "known" and result.divergence.quantity.name == "dL/dz1", result.report()
    assert [e.key for e in result.accounted] == ["hardtanh-at-edges"]
    assert result.accounted[0].detail.startswith("16 inputs of torch's Hardtanh are exactly at its bounds")
