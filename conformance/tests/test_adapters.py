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

from conformance.optimizer_runs import keras_steps, reference_steps, torch_steps
from conformance.tests.support import needs
from reference import Adam, RMSprop

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
}


def torch_kwargs(hyper: dict) -> dict:
    out = {"lr": hyper["learning_rate"], "eps": hyper["epsilon"]}
    if "beta_1" in hyper:
        return {**out, "betas": (hyper["beta_1"], hyper["beta_2"])}
    return {**out, "alpha": hyper["rho"], "momentum": hyper["momentum"], "centered": hyper["centered"]}


def keras_kwargs(hyper: dict) -> dict:
    return {k: v if isinstance(v, bool) else np.float64(v) for k, v in hyper.items()}


def agree_at_every_step(run, other, what):
    for k, (a, b) in enumerate(zip(run, other, strict=True), 1):
        assert_agree(a, b, atol=TOL.atol, rtol=TOL.rtol, what=f"{what}, step {k}")


@pytest.mark.parametrize("row", list(ROWS))
def test_keras_adapter_computes_torch_s_optimizer(row):
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.keras_adapters import TorchAdam, TorchRMSprop

    cls, hyper = ROWS[row]
    adapter, builtin = (TorchAdam, keras.optimizers.Adam) if cls is Adam else (TorchRMSprop, keras.optimizers.RMSprop)
    torch_cls = torch.optim.Adam if cls is Adam else torch.optim.RMSprop
    theirs = torch_steps(lambda params: torch_cls(params, **torch_kwargs(hyper)), STEPS, DTYPE)
    ours = keras_steps(lambda: adapter(**keras_kwargs(hyper)), STEPS, DTYPE)
    agree_at_every_step(ours, theirs, f"{adapter.__name__} vs torch.optim.{torch_cls.__name__}")
    agree_at_every_step(ours, reference_steps(cls(convention="torch", **hyper), STEPS), "vs the torch convention")
    plain = keras_steps(lambda: builtin(**keras_kwargs(hyper)), STEPS, DTYPE)
    assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "Keras's own now matches torch"


@pytest.mark.parametrize("row", list(ROWS))
def test_torch_adapter_computes_keras_s_optimizer(row):
    needs("torch")
    needs("keras")
    import keras
    import torch

    from frameworks.torch_adapters import KerasAdam, KerasRMSprop

    cls, hyper = ROWS[row]
    adapter = KerasAdam if cls is Adam else KerasRMSprop
    keras_cls = keras.optimizers.Adam if cls is Adam else keras.optimizers.RMSprop
    theirs = keras_steps(lambda: keras_cls(**keras_kwargs(hyper)), STEPS, DTYPE)
    ours = torch_steps(lambda params: adapter(params, **hyper), STEPS, DTYPE)
    agree_at_every_step(ours, theirs, f"{adapter.__name__} vs keras.optimizers.{keras_cls.__name__}")
    agree_at_every_step(ours, reference_steps(cls(convention="keras", **hyper), STEPS), "vs the keras convention")
    torch_cls = torch.optim.Adam if cls is Adam else torch.optim.RMSprop
    plain = torch_steps(lambda params: torch_cls(params, **torch_kwargs(hyper)), STEPS, DTYPE)
    assert not compare(plain[-1], theirs[-1], atol=TOL.atol, rtol=TOL.rtol).passed, "torch's own now matches Keras"
