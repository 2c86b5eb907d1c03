"""Weights and optimizer state moved across frameworks through safetensors: training resumed in the other
framework continues the trajectory trained straight through (each segment under its framework's formula)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

pytest.importorskip("torch", reason="export needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="export needs Keras: pip install 'nnparity[keras]'")
pytest.importorskip("safetensors", reason="export needs safetensors: pip install 'nnparity[export]'")

import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

import nnparity  # noqa: E402
from conformance.compare import compare  # noqa: E402
from conformance.tolerances import tolerance  # noqa: E402
from frameworks.keras_twin import keras_dtype  # noqa: E402
from nnparity.weights.files import WeightsError  # noqa: E402
from nnparity.weights.state import read_keras, read_torch  # noqa: E402
from pair_zoo import data, keras, keras_mlp, torch_mlp  # noqa: E402

K = 4  # steps before the move, and after it
SIZES, ACTS = (4, 8, 1), ("tanh", "sigmoid")
X, Y = data(4, 1, "bce")
SETTINGS = {  # name -> (torch optimizer, Keras optimizer, BatchNorm?)
    "sgd-momentum": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                     lambda: keras.optimizers.SGD(np.float64(0.1), momentum=np.float64(0.9)), False),
    "adam": (lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7),
             # every float as np.float64: TensorFlow rounds a Python float through float32 (float32-hyperparameters)
             lambda: keras.optimizers.Adam(np.float64(0.01), beta_1=np.float64(0.9), beta_2=np.float64(0.999),
                                           epsilon=np.float64(1e-7)), False),
    "batchnorm-sgd": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                      lambda: keras.optimizers.SGD(np.float64(0.1), momentum=np.float64(0.9)), True),
}


def models(batchnorm: bool):
    tm = torch_mlp(SIZES, ("relu", "sigmoid") if batchnorm else ACTS, batchnorm=(0.1, 1e-3) if batchnorm else None)
    with keras_dtype("float64"):
        km = keras_mlp(SIZES, ("relu", "sigmoid") if batchnorm else ACTS,
                       batchnorm=dict(momentum=0.9, epsilon=1e-3) if batchnorm else None)
    return tm.double(), km


def torch_steps(model, opt, steps, first=1, keras_formulas=range(0)):
    """Full-batch steps; at the steps in ``keras_formulas`` torch computes Keras's formulas: Adam's epsilon-hat
    and BatchNorm's biased running variance (nnparity/pairs/torch_follow.py, torch_side.py)."""
    x, y, loss_fn = torch.tensor(X), torch.tensor(Y), torch.nn.BCELoss()
    eps = [g.get("eps") for g in opt.param_groups]
    for t in range(first, first + steps):
        keras_way = t in keras_formulas
        for g, e in zip(opt.param_groups, eps):
            if e is not None:
                g["eps"] = e / math.sqrt(1 - g["betas"][1] ** t) if keras_way else e
        corrections, h = [], x
        for module in model:
            if isinstance(module, torch.nn.BatchNorm1d) and keras_way:
                corrections.append((module, module.momentum * h.detach().var(0, unbiased=False) / (len(h) - 1)))
            h = module(h)
        opt.zero_grad()
        loss_fn(h, y).backward()
        for module, amount in corrections:
            module.running_var.sub_(amount)
        opt.step()


def keras_steps(model, opt, steps):
    x, y = tf.constant(X), tf.constant(Y)
    with keras_dtype("float64"):
        loss_fn = keras.losses.BinaryCrossentropy()  # a Keras loss casts to the floatx it was made under
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)


def assert_same(actual: dict, expected: dict, what: str):
    tol = tolerance("float64")
    result = compare(actual, expected, atol=tol.atol, rtol=tol.rtol, what=what)
    assert result.passed, result.message()


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_torch_to_keras_continues_the_trajectory(setting, tmp_path):
    make_torch_opt, make_keras_opt, bn = SETTINGS[setting]
    tm, km = models(bn)
    straight = copy.deepcopy(tm)
    opt = make_torch_opt(tm.parameters())
    torch_steps(tm, opt, K)
    manifest = nnparity.export_weights(tm, str(tmp_path / "run.safetensors"), optimizer=opt)
    assert manifest["framework"] == "torch" and manifest["optimizer"]["step"] == (K if setting == "adam" else 0)
    with keras_dtype("float64"):
        kopt = make_keras_opt()
    nnparity.load_weights(str(tmp_path / "run.safetensors"), km, optimizer=kopt)
    keras_steps(km, kopt, K)
    torch_steps(straight, make_torch_opt(straight.parameters()), 2 * K, keras_formulas=range(K + 1, 2 * K + 1))
    assert_same(read_keras(km)[0], read_torch(straight)[0], f"{setting}: torch {K} steps, Keras {K}")
    # the optimizer's state mattered: a fresh Keras optimizer from the same weights ends elsewhere
    _, fresh = models(bn)
    with keras_dtype("float64"):
        fresh_opt = make_keras_opt()
    nnparity.load_weights(str(tmp_path / "run.safetensors"), fresh)
    keras_steps(fresh, fresh_opt, K)
    assert not compare(read_keras(fresh)[0], read_torch(straight)[0], atol=1e-9, rtol=1e-9).passed


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_keras_to_torch_continues_the_trajectory(setting, tmp_path):
    make_torch_opt, make_keras_opt, bn = SETTINGS[setting]
    tm, km = models(bn)
    nnparity.export_weights(km, str(tmp_path / "start.safetensors"))
    nnparity.load_weights(str(tmp_path / "start.safetensors"), tm)  # the straight run starts from Keras's weights
    straight = copy.deepcopy(tm)
    with keras_dtype("float64"):
        kopt = make_keras_opt()
    keras_steps(km, kopt, K)
    manifest = nnparity.export_weights(km, str(tmp_path / "run.safetensors"), optimizer=kopt)
    assert manifest["framework"] == "keras" and manifest["optimizer"]["step"] == K
    opt = make_torch_opt(tm.parameters())
    nnparity.load_weights(str(tmp_path / "run.safetensors"), tm, optimizer=opt)
    torch_steps(tm, opt, K, first=K + 1)
    torch_steps(straight, make_torch_opt(straight.parameters()), 2 * K, keras_formulas=range(1, K + 1))
    assert_same(read_torch(tm)[0], read_torch(straight)[0], f"{setting}: Keras {K} steps, torch {K}")


def test_the_manifest_names_the_conventions_that_change_numbers(tmp_path):
    tm, _ = models(True)
    opt = torch.optim.Adam(tm.parameters())
    torch_steps(tm, opt, 1)
    manifest = nnparity.export_weights(tm, str(tmp_path / "bn.safetensors"), optimizer=opt)
    assert manifest["running_variance"].startswith("unbiased")
    assert "after the bias correction" in manifest["optimizer"]["epsilon"]
    assert manifest["parameters"][:4] == ["W1", "b1", "gamma1", "beta1"]


@pytest.mark.parametrize("name", ["model.pt", "model.pkl", "weights.PTH", "run.ckpt"])
def test_a_pickle_file_is_refused_by_its_name(name, tmp_path):
    tm, _ = models(False)
    with pytest.raises(WeightsError, match="pickle, and loading a pickle runs the code it names"):
        nnparity.load_weights(str(tmp_path / name), tm)
    with pytest.raises(WeightsError, match="pickle"):
        nnparity.export_weights(tm, str(tmp_path / name))


def test_a_pickle_under_another_name_is_refused_by_its_bytes(tmp_path):
    tm, _ = models(False)
    path = tmp_path / "innocent.safetensors"
    torch.save(tm.state_dict(), path)
    with pytest.raises(WeightsError, match="its bytes are a pickle"):
        nnparity.load_weights(str(path), tm)


def test_a_file_that_does_not_fit_or_an_optimizer_of_another_class_is_refused(tmp_path):
    tm, _ = models(False)
    opt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    torch_steps(tm, opt, 1)
    path = str(tmp_path / "run.safetensors")
    nnparity.export_weights(tm, path, optimizer=opt)
    other = torch_mlp((4, 6, 1), ACTS).double()
    with pytest.raises(WeightsError, match=r"does not fit the model: W1: file \(4, 8\), model \(4, 6\)"):
        nnparity.load_weights(path, other)
    with pytest.raises(WeightsError, match="holds a SGD state; the optimizer given is a Adam"):
        nnparity.load_weights(path, tm, optimizer=torch.optim.Adam(tm.parameters()))
