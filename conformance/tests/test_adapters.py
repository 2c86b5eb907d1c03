"""The adapters: a Keras optimizer with torch's formula and a torch optimizer with Keras's, held to the other framework.

Each adapter and the other framework's own optimizer are stepped 20 times on
``conformance/optimizer_runs.py``'s problem with the same hyper-parameters, in float64:
they agree at the float64 tolerance at every step, as does the reference under that
framework's convention; and the adapter's own framework's built-in does not (the reason the
adapter exists: docs/conventions-optimizers.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.optimizer_runs import keras_steps, largest_gap, reference_steps, torch_steps
from conformance.tests.support import needs
from reference import Adagrad, Adam, RMSprop
from reference.adaptive_optimizers import Adamax, AMSGrad, NAdam

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE, STEPS = "float64", 20
TOL = tolerance(DTYPE)
ADAM = {"learning_rate": 1e-2, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
RMS = {"learning_rate": 1e-3, "rho": 0.9, "epsilon": 1e-7}
# row -> (reference class, hyper-parameters (Keras's names))
ROWS = {
    "adam": (Adam, ADAM),
    "rmsprop": (RMSprop, {**RMS, "momentum": 0.0, "centered": False}),
    "rmsprop-centered": (RMSprop, {**RMS, "momentum": 0.0, "centered": True}),
    "rmsprop-momentum": (RMSprop, {**RMS, "momentum": 0.9, "centered": False}),
    "amsgrad": (AMSGrad, ADAM),
    "adagrad": (Adagrad, {"learning_rate": 1e-2, "initial_accumulator_value": 0.1, "epsilon": 1e-7}),
    "adamax": (Adamax, ADAM),
}
# reference class -> (Keras adapter, Keras's own, torch's own, torch adapter), by name
CLASSES = {
    Adam: ("TorchAdam", "Adam", "Adam", "KerasAdam"),
    AMSGrad: ("TorchAdam", "Adam", "Adam", "KerasAdam"),
    RMSprop: ("TorchRMSprop", "RMSprop", "RMSprop", "KerasRMSprop"),
    Adagrad: ("TorchAdagrad", "Adagrad", "Adagrad", "KerasAdagrad"),
    Adamax: ("TorchAdamax", "Adamax", "Adamax", "KerasAdamax"),
}


def torch_kwargs(cls, hyper: dict) -> dict:
    out = {"lr": hyper["learning_rate"], "eps": hyper["epsilon"], **({"amsgrad": True} if cls is AMSGrad else {})}
    if "beta_1" in hyper:
        return {**out, "betas": (hyper["beta_1"], hyper["beta_2"])}
    if "rho" in hyper:
        return {**out, "alpha": hyper["rho"], "momentum": hyper["momentum"], "centered": hyper["centered"]}
    return {**out, "initial_accumulator_value": hyper["initial_accumulator_value"]}


def keras_kwargs(cls, hyper: dict) -> dict:
    return {**{k: v if isinstance(v, bool) else np.float64(v) for k, v in hyper.items()},
            **({"amsgrad": True} if cls is AMSGrad else {})}


def agree_at_every_step(run, other, what):
    for k, (a, b) in enumerate(zip(run, other, strict=True), 1):
        assert_agree(a, b, atol=TOL.atol, rtol=TOL.rtol, what=f"{what}, step {k}")


@pytest.mark.parametrize("row", list(ROWS))
def test_keras_adapter_computes_torch_s_optimizer(row):
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks import keras_adapters

    cls, hyper = ROWS[row]
    names = CLASSES[cls]
    adapter, builtin = getattr(keras_adapters, names[0]), getattr(keras.optimizers, names[1])
    torch_cls = getattr(torch.optim, names[2])
    theirs = torch_steps(lambda params: torch_cls(params, **torch_kwargs(cls, hyper)), STEPS, DTYPE)
    ours = keras_steps(lambda: adapter(**keras_kwargs(cls, hyper)), STEPS, DTYPE)
    agree_at_every_step(ours, theirs, f"{adapter.__name__} vs torch.optim.{torch_cls.__name__}")
    agree_at_every_step(ours, reference_steps(cls(convention="torch", **hyper), STEPS), "vs the torch convention")
    plain = keras_steps(lambda: builtin(**keras_kwargs(cls, hyper)), STEPS, DTYPE)
    assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "Keras's own now matches torch"


@pytest.mark.parametrize("row", list(ROWS))
def test_torch_adapter_computes_keras_s_optimizer(row):
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks import torch_adapters

    cls, hyper = ROWS[row]
    names = CLASSES[cls]
    adapter, keras_cls = getattr(torch_adapters, names[3]), getattr(keras.optimizers, names[1])
    theirs = keras_steps(lambda: keras_cls(**keras_kwargs(cls, hyper)), STEPS, DTYPE)
    ours = torch_steps(lambda params: adapter(params, **hyper, **({"amsgrad": True} if cls is AMSGrad else {})),
                       STEPS, DTYPE)
    agree_at_every_step(ours, theirs, f"{adapter.__name__} vs keras.optimizers.{keras_cls.__name__}")
    agree_at_every_step(ours, reference_steps(cls(convention="keras", **hyper), STEPS), "vs the keras convention")
    torch_cls = getattr(torch.optim, names[2])
    plain = torch_steps(lambda params: torch_cls(params, **torch_kwargs(cls, hyper)), STEPS, DTYPE)
    assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "torch's own now matches Keras"


def test_torch_batchnorm_adapter_computes_keras_s_batchnormalization():
    """``KerasBatchNorm1d`` beside Keras's ``BatchNormalization()``: 5 training calls on batches of 10, then inference;
    every output and the moving statistics agree at the float64 tolerance, which torch's own ``BatchNorm1d`` with
    Keras's momentum and epsilon does not (its running variance is unbiased)."""
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.keras_twin import keras_dtype
    from frameworks.torch_adapters import KerasBatchNorm1d

    rng = np.random.default_rng(0)
    batches, x_eval = [rng.normal(2.0, 1.5, (10, 4)) for _ in range(5)], rng.normal(2.0, 1.5, (6, 4))

    def run_torch(layer):
        out = {f"train{i}": layer.train()(torch.tensor(x)).detach().numpy() for i, x in enumerate(batches)}
        out["eval"] = layer.eval()(torch.tensor(x_eval)).detach().numpy()
        moving = layer.moving_variance if isinstance(layer, KerasBatchNorm1d) else layer.running_var
        return {**out, "moving_variance": moving.numpy()}

    with keras_dtype(DTYPE):
        layer = keras.layers.BatchNormalization()
        theirs = {f"train{i}": keras.ops.convert_to_numpy(layer(x, training=True)) for i, x in enumerate(batches)}
        theirs["eval"] = keras.ops.convert_to_numpy(layer(x_eval, training=False))
        theirs["moving_variance"] = keras.ops.convert_to_numpy(layer.moving_variance)
    ours = run_torch(KerasBatchNorm1d(4, dtype=torch.float64))
    assert_agree(ours, theirs, atol=TOL.atol, rtol=TOL.rtol, what="KerasBatchNorm1d vs BatchNormalization()")
    plain = run_torch(torch.nn.BatchNorm1d(4, momentum=1 - 0.99, eps=1e-3, dtype=torch.float64))
    failing = {item.name for item in compare(plain, theirs, atol=TOL.atol, rtol=TOL.rtol).failures()}
    assert failing == {"moving_variance", "eval"}, failing


def test_torch_schedule_adapter_gives_keras_s_float32_rates():
    """``KerasExponentialDecay`` stepped every batch: the rates Keras's ``SGD(ExponentialDecay(0.1, 10, 0.5))`` used, to
    the bit, where torch's ``LambdaLR`` with the float64 formula is 5.2e-9 away."""
    needs("torch")
    needs("keras")
    import torch

    from frameworks.torch_adapters import KerasExponentialDecay

    from .test_training_conventions import keras_exponential_decay

    theirs = np.array(keras_exponential_decay())
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.1)
    scheduler = KerasExponentialDecay(optimizer, 0.1, 10, 0.5)
    rates = []
    for _ in theirs:
        rates.append(optimizer.param_groups[0]["lr"])
        p.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
        scheduler.step()
    assert_agree({"rate": np.array(rates)}, {"rate": theirs}, atol=TOL.atol, rtol=TOL.rtol, what="KerasExponentialDecay")
    exact = 0.1 * 0.5 ** (np.arange(len(theirs)) / 10)
    assert not compare({"rate": exact}, {"rate": theirs}, atol=TOL.atol, rtol=TOL.rtol).passed


def test_torch_class_weight_adapter_gives_keras_s_loss_and_gradient():
    needs("torch")
    needs("keras")
    import keras
    import tensorflow as tf
    import torch

    from frameworks.keras_twin import keras_dtype
    from frameworks.torch_adapters import KerasClassWeightedCrossEntropy

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the Keras gradient is taken with TensorFlow's GradientTape")
    rng = np.random.default_rng(0)
    z, labels, w = rng.normal(size=(6, 3)), np.array([0, 1, 2, 2, 1, 0]), np.array([1.0, 2.0, 0.5])
    zt = torch.tensor(z, requires_grad=True)
    loss = KerasClassWeightedCrossEntropy(w)(zt, torch.tensor(labels))
    loss.backward()
    zk = tf.Variable(z)
    with keras_dtype(DTYPE), tf.GradientTape() as tape:
        theirs = keras.losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[labels], zk, sample_weight=w[labels])
    assert_agree({"loss": np.array(loss.item()), "dz": zt.grad.numpy()},
                 {"loss": theirs.numpy(), "dz": tape.gradient(theirs, zk).numpy()}, atol=TOL.atol, rtol=TOL.rtol,
                 what="KerasClassWeightedCrossEntropy vs fit(class_weight)'s loss")
    plain = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))(torch.tensor(z), torch.tensor(labels)).item()
    assert plain / loss.item() == pytest.approx(6 / w[labels].sum(), rel=1e-12)


def test_keras_batchnorm_adapter_computes_torch_s_batchnorm1d():
    """``TorchBatchNormalization`` beside torch's ``BatchNorm1d(4)``: 5 training calls on batches of 10, then inference;
    every output and the running variance agree at the float64 tolerance, which Keras's own BatchNormalization with
    torch's momentum and epsilon does not."""
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.keras_adapters import TorchBatchNormalization
    from frameworks.keras_twin import keras_dtype

    rng = np.random.default_rng(1)
    batches, x_eval = [rng.normal(2.0, 1.5, (10, 4)) for _ in range(5)], rng.normal(2.0, 1.5, (6, 4))
    layer = torch.nn.BatchNorm1d(4, dtype=torch.float64)
    theirs = {f"train{i}": layer.train()(torch.tensor(x)).detach().numpy() for i, x in enumerate(batches)}
    theirs["eval"] = layer.eval()(torch.tensor(x_eval)).detach().numpy()
    theirs["running_var"] = layer.running_var.numpy()

    def run_keras(layer, moving):
        out = {f"train{i}": keras.ops.convert_to_numpy(layer(x, training=True)) for i, x in enumerate(batches)}
        out["eval"] = keras.ops.convert_to_numpy(layer(x_eval, training=False))
        return {**out, "running_var": keras.ops.convert_to_numpy(getattr(layer, moving))}

    with keras_dtype(DTYPE):
        ours = run_keras(TorchBatchNormalization(momentum=np.float64(0.1), epsilon=np.float64(1e-5)), "running_var")
        plain = run_keras(keras.layers.BatchNormalization(momentum=np.float64(0.9), epsilon=np.float64(1e-5)),
                          "moving_variance")
    assert_agree(ours, theirs, atol=TOL.atol, rtol=TOL.rtol, what="TorchBatchNormalization vs BatchNorm1d(4)")
    failing = {item.name for item in compare(plain, theirs, atol=TOL.atol, rtol=TOL.rtol).failures()}
    assert failing == {"running_var", "eval"}, failing


# torch's momentum_decay -> Keras's own Nadam's gap from torch.optim.NAdam after 20 steps, measured
# (docs/conventions-optimizers.md: torch's default schedule, and Keras's schedule but its 0.96 in float32)
NADAM_GAPS = {4e-3: 5.667e-3, 1.0: 3.220e-9}


@pytest.mark.parametrize("momentum_decay", list(NADAM_GAPS))
def test_keras_nadam_adapter_computes_torch_s_nadam_with_its_momentum_decay(momentum_decay):
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.keras_adapters import TorchNAdam

    hyper = {**ADAM, "momentum_decay": momentum_decay}
    theirs = torch_steps(lambda params: torch.optim.NAdam(params, **torch_kwargs(Adam, ADAM),
                                                          momentum_decay=momentum_decay), STEPS, DTYPE)
    ours = keras_steps(lambda: TorchNAdam(**keras_kwargs(NAdam, hyper)), STEPS, DTYPE)
    agree_at_every_step(ours, theirs, f"TorchNAdam(momentum_decay={momentum_decay}) vs torch.optim.NAdam")
    agree_at_every_step(ours, reference_steps(NAdam(convention="torch", **hyper), STEPS), "vs the torch convention")
    plain = keras_steps(lambda: keras.optimizers.Nadam(**keras_kwargs(NAdam, ADAM)), STEPS, DTYPE)
    assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "Keras's Nadam now matches torch"
    assert largest_gap(plain, theirs)[-1] == pytest.approx(NADAM_GAPS[momentum_decay], rel=0.01)


# torch.optim.NAdam's own setting -> its gap from Keras's Nadam after 20 steps, measured (the rows of
# docs/conventions-optimizers.md: Keras's schedule but its float32 0.96, and torch's default schedule)
TORCH_NADAM_GAPS = {1.0: 3.220e-9, 4e-3: 5.667e-3}


def test_torch_nadam_adapter_computes_keras_s_nadam():
    """``KerasNadam`` beside Keras's ``Nadam``: every step at the float64 tolerance, and the reference under Keras's
    convention; torch's ``NAdam`` is not Keras's under either momentum_decay, by the measured gaps."""
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.torch_adapters import KerasNadam

    theirs = keras_steps(lambda: keras.optimizers.Nadam(**keras_kwargs(NAdam, ADAM)), STEPS, DTYPE)
    ours = torch_steps(lambda params: KerasNadam(params, **ADAM), STEPS, DTYPE)
    agree_at_every_step(ours, theirs, "KerasNadam vs keras.optimizers.Nadam")
    agree_at_every_step(ours, reference_steps(NAdam(convention="keras", **ADAM, momentum_decay=1.0), STEPS),
                        "vs the keras convention")
    for momentum_decay, gap in TORCH_NADAM_GAPS.items():
        plain = torch_steps(lambda params: torch.optim.NAdam(params, **torch_kwargs(Adam, ADAM),  # noqa: B023
                                                             momentum_decay=momentum_decay), STEPS, DTYPE)
        assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "torch's NAdam matches Keras"
        assert largest_gap(plain, theirs)[-1] == pytest.approx(gap, rel=0.01), f"momentum_decay={momentum_decay}"
