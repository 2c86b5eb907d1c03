"""The model shapes compare_models takes beyond the lessons (LayerNorm, a functional chain, activation
layers), and the ones it refuses, each naming the layer, its position and what was received."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nnparity  # noqa: E402
from pair_zoo import L, data, keras  # noqa: E402

X, Y = data(4, 1, "mse")
MSE_SGD = dict(torch_loss=nn.MSELoss(), keras_loss=keras.losses.MeanSquaredError(),
               torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), keras_optimizer=keras.optimizers.SGD(0.1))


def torch_layernorm_net():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8, eps=1e-3), nn.Tanh(), nn.Linear(8, 1))


def test_layernorm_and_activation_layers_in_a_functional_chain_agree():
    inputs = keras.Input((4,))
    h = L.LayerNormalization(epsilon=1e-3)(L.Dense(8)(inputs))
    outputs = L.Dense(1)(L.Activation("tanh")(h))
    result = nnparity.compare_models(torch_layernorm_net(), keras.Model(inputs, outputs), X, Y, steps=5, **MSE_SGD)
    assert result.status == "passed", result.report()
    assert [name for name, _, _ in result.layers] == ["z1", "ln1", "a1", "z2"]
    assert "dL/dln_gamma1" in [i.name for i in result.comparisons["gradients"].items]


def test_layernorm_at_each_frameworks_default_epsilon():
    km = keras.Sequential([keras.Input((4,)), L.Dense(8), L.LayerNormalization(), L.Activation("tanh"), L.Dense(1)])
    torch_model = torch_layernorm_net()
    torch_model[1].eps = 1e-5  # torch's default
    result = nnparity.compare_models(torch_model, km, X, Y, steps=2, **MSE_SGD)
    assert result.divergence.quantity.name == "ln1"
    e = [e for e in result.explanations if e.key == "norm-epsilon"][0]
    assert "LayerNormalization(epsilon=1e-05)" in e.fix and e.verdict == "with it, the two models agree"


def test_a_functional_model_that_is_not_a_chain_is_refused():
    inputs = keras.Input((4,))
    a, b = L.Dense(8)(inputs), L.Dense(8)(inputs)
    model = keras.Model(inputs, L.Dense(1)(L.Add()([a, b])))
    with pytest.raises(nnparity.PairError, match=r"keras layer 1 \(Dense '.*'\): the functional model is not a chain"):
        nnparity.compare_models(torch_layernorm_net(), model, X, Y, steps=1, **MSE_SGD)


def test_a_torch_model_that_is_not_sequential_is_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(nnparity.PairError, match="expected an nn.Sequential, got Net"):
        nnparity.compare_models(Net(), keras.Sequential([keras.Input((4,)), L.Dense(1)]), X, Y, steps=1, **MSE_SGD)


def test_an_unsupported_keras_activation_is_refused_naming_it():
    km = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="mish"), L.Dense(1)])
    with pytest.raises(nnparity.PairError, match=r"keras layer 0 \(Dense '.*'\): activation 'mish' is not supported"):
        nnparity.compare_models(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1)), km, X, Y, steps=1, **MSE_SGD)


def test_two_layers_of_other_sizes_are_refused_naming_both():
    km = keras.Sequential([keras.Input((4,)), L.Dense(6), L.Dense(1)])
    with pytest.raises(nnparity.PairError, match=r"torch layer 0 \(Linear '0'\) is a dense 4 -> 8, keras layer 0 "
                       r"\(Dense '.*'\) a dense 4 -> 6"):
        nnparity.compare_models(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1)), km, X, Y, steps=1, **MSE_SGD)


@pytest.mark.parametrize("dtype,steps,message", [("float16", 1, "dtype must be one of"),
                                                 ("float64", 0, "steps must be a whole number of at least 1")])
def test_bad_arguments_are_refused_with_what_was_received(dtype, steps, message):
    with pytest.raises(ValueError, match=message):
        nnparity.compare_models(nn.Sequential(nn.Linear(4, 1)), keras.Sequential([keras.Input((4,)), L.Dense(1)]),
                                X, Y, steps=steps, dtype=dtype, **MSE_SGD)


def test_a_keras_model_that_is_not_built_is_refused_with_how_to_build_it():
    with pytest.raises(nnparity.PairError, match=r"is not built: give it an input shape"):
        nnparity.compare_models(nn.Sequential(nn.Linear(4, 1)), keras.Sequential([L.Dense(1)]), X, Y, steps=1,
                                **MSE_SGD)


def test_import_nnparity_loads_no_framework_and_its_names_load_on_use():
    import subprocess
    import sys

    code = ("import sys, nnparity; heavy = {'torch', 'keras', 'tensorflow', 'safetensors', 'nnparity.pairs'}; "
            "assert not heavy & set(sys.modules), heavy & set(sys.modules); "
            "assert {'compare_models', 'assert_models_agree', 'export_weights', 'load_weights'} <= set(nnparity.__all__); "
            "nnparity.compare_models; assert 'nnparity.pairs' in sys.modules and 'torch' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
