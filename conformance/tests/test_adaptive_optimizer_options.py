"""NAdam, Adamax, AMSGrad and Adadelta with clipping or weight decay set, against torch and Keras.

``test_adaptive_optimizer_conventions.py`` runs these optimizers with neither: a constructor that
dropped its ``clipvalue``, ``clipnorm``, ``global_clipnorm`` or ``weight_decay`` (the mutation run of
docs/mutation.md found each one) passed it. Here every option is given to the framework and to the
reference under that framework's convention, on ``conformance/optimizer_runs.py``'s problem for 20
steps in float64:

- Keras: the option is the optimizer's own argument (its clipping before decoupled weight decay);
- torch: ``weight_decay`` is the optimizer's argument (L2, through the formula); the clipping is
  ``torch.nn.utils.clip_grad_value_`` / ``clip_grad_norm_`` called on the gradients before
  ``step()`` (on each parameter alone for ``clipnorm``: reference/clipping.py).

Each run must agree with the reference at the float64 tolerance, and differ from the reference
run without the option by more than it (so the option is one the problem feels).
"""

from __future__ import annotations

import pytest

from conformance.optimizer_runs import (
    keras_optimizer,
    keras_steps,
    reference_steps,
    torch_optimizer,
    torch_steps,
)
from conformance.tests.support import needs
from reference.adaptive_optimizers import ADAPTIVE_OPTIMIZERS

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE, STEPS = "float64", 20
HYPER = {"learning_rate": 1e-2, "epsilon": 1e-7}
# Given to Keras as float64 numbers (optimizer_runs.keras_optimizer): Keras's own default betas are Python
# floats its backend rounds through float32 (docs/conventions.md#float32-casts), 1.2e-6 apart in 20 steps.
BETAS = {"beta_1": 0.9, "beta_2": 0.999}
# W's gradients start near 1 (optimizer_runs.problem: p - target of two standard normals), so each
# option binds: values clamped to 0.05, each tensor's norm (about 3 for W) cut to 0.1, the global one
# too; weight decay 0.5 moves p by 0.5 * p * learning_rate a step (Keras) or adds 0.5 * p to g (torch).
OPTIONS = {"clipvalue": 0.05, "clipnorm": 0.1, "global_clipnorm": 0.1, "weight_decay": 0.5}


class ClippedTorchOptimizer:
    """A ``torch.optim`` optimizer whose ``step()`` first clips the gradients as torch users do."""

    def __init__(self, optimizer, params, option: str, value: float):
        self.optimizer, self.params, self.option, self.value = optimizer, params, option, value

    def step(self):
        import torch

        if self.option == "clipvalue":
            torch.nn.utils.clip_grad_value_(self.params, self.value)
        elif self.option == "global_clipnorm":
            torch.nn.utils.clip_grad_norm_(self.params, self.value)
        else:
            for p in self.params:
                torch.nn.utils.clip_grad_norm_([p], self.value)
        self.optimizer.step()


def hyper(optimizer: str) -> dict:
    return {**HYPER, **(BETAS if "beta_1" in ADAPTIVE_OPTIMIZERS[optimizer].defaults["torch"] else {})}


def torch_run(optimizer: str, option: str) -> dict:
    if option == "weight_decay":
        return torch_steps(torch_optimizer(optimizer, {**hyper(optimizer), option: OPTIONS[option]}), STEPS, DTYPE)[-1]
    make = torch_optimizer(optimizer, hyper(optimizer))
    return torch_steps(lambda params: ClippedTorchOptimizer(make(params), params, option, OPTIONS[option]),
                       STEPS, DTYPE)[-1]


def keras_run(optimizer: str, option: str) -> dict:
    return keras_steps(keras_optimizer(optimizer, {**hyper(optimizer), option: OPTIONS[option]}, DTYPE), STEPS, DTYPE)[-1]


def reference_run(optimizer: str, convention: str, **option) -> dict:
    return reference_steps(ADAPTIVE_OPTIMIZERS[optimizer](convention=convention, **hyper(optimizer), **option), STEPS)[-1]


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("optimizer", list(ADAPTIVE_OPTIMIZERS))
def test_adaptive_optimizer_options_are_the_framework_s(optimizer, framework, option):
    needs(framework)
    tol = tolerance(DTYPE)
    actual = (torch_run if framework == "torch" else keras_run)(optimizer, option)
    expected = reference_run(optimizer, framework, **{option: OPTIONS[option]})
    assert_agree(actual, expected, atol=tol.atol, rtol=tol.rtol, what=f"{optimizer} {option} ({framework})")
    without = compare(actual, reference_run(optimizer, framework), atol=tol.atol, rtol=tol.rtol)
    assert not without.passed, f"{option}={OPTIONS[option]} does not change {optimizer}'s 20 steps: the row proves nothing"
