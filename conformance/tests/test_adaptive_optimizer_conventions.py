"""NAdam, Adamax, AMSGrad and Adadelta: where torch and Keras differ, proven against both (docs/conventions-optimizers.md).

Each row gives both frameworks the same hyper-parameters (or each its own defaults) and
steps them 20 times on ``conformance/optimizer_runs.py``'s problem in float64. Then, as
``test_optimizer_conventions.py`` does for the lessons' optimizers:

1. each framework agrees with the reference under its own convention (the float64 tolerance);
2. it disagrees with the reference under the other's, by what the two reference formulas predict;
3. that amount is the one measured and written in the docs (1%).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.optimizer_runs import (
    keras_optimizer,
    keras_steps,
    reference_steps,
    torch_optimizer,
    torch_steps,
)
from conformance.tests.support import assert_own_formula_not_the_other, needs
from reference.adaptive_optimizers import ADAPTIVE_OPTIMIZERS, Adadelta, NAdam

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE, STEPS = "float64", 20
OTHER = {"torch": "keras", "keras": "torch"}
ADAM_LIKE = dict(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-7)

# row -> (optimizer, hyper-parameters for both or "defaults" (each framework its own),
#         max |reference under torch's convention - under Keras's| after 20 steps, as measured)
DIFFERENCES = {
    "nadam-momentum-decay": ("nadam", ADAM_LIKE, 5.667e-3),  # torch 0.96**(0.004 t), Keras 0.96**t
    "adamax-epsilon-in-max": ("adamax", ADAM_LIKE, 4.861e-6),
    "amsgrad-epsilon-hat": ("amsgrad", ADAM_LIKE, 8.055e-3),
    "nadam-defaults": ("nadam", "defaults", 1.771e-2),
    "adamax-defaults": ("adamax", "defaults", 2.010e-2),
    "adadelta-defaults": ("adadelta", "defaults", 6.897e-2),  # lr 1.0 against 1e-3
}
# row -> (optimizer, hyper-parameters for torch, for Keras): the two formulas give the same weights.
SAME = {
    "adadelta-one-formula": ("adadelta", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6)),
}


def run(framework: str, optimizer: str, hyper: dict) -> list[dict]:
    if framework == "torch":
        return torch_steps(torch_optimizer(optimizer, hyper), STEPS, DTYPE)
    return keras_steps(keras_optimizer(optimizer, hyper, DTYPE), STEPS, DTYPE)


def hyper_of(convention: str, optimizer: str, hyper) -> dict:
    """The hyper-parameters a row gives ``convention``'s framework (its defaults, written out, for "defaults")."""
    return dict(ADAPTIVE_OPTIMIZERS[optimizer].defaults[convention]) if hyper == "defaults" else dict(hyper)


def reference(convention: str, optimizer: str, hyper) -> list[dict]:
    return reference_steps(ADAPTIVE_OPTIMIZERS[optimizer](convention=convention,
                                                          **hyper_of(convention, optimizer, hyper)), STEPS)


@pytest.mark.parametrize("framework", list(OTHER))
@pytest.mark.parametrize("difference", list(DIFFERENCES))
def test_adaptive_optimizers_differ_as_documented(difference, framework):
    needs(framework)
    optimizer, hyper, measured = DIFFERENCES[difference]
    tol = tolerance(DTYPE)
    actual = run(framework, optimizer, hyper_of(framework, optimizer, hyper))[-1]
    own, other = reference(framework, optimizer, hyper)[-1], reference(OTHER[framework], optimizer, hyper)[-1]
    assert_own_formula_not_the_other(actual, own, other, measured, tol, difference, framework, OTHER[framework])


@pytest.mark.parametrize("framework", list(OTHER))
@pytest.mark.parametrize("same", list(SAME))
def test_adaptive_optimizers_agree_where_documented(same, framework):
    needs(framework)
    optimizer, hyper = SAME[same]
    tol = tolerance(DTYPE)
    actual = run(framework, optimizer, hyper)[-1]
    for convention in OTHER:
        assert_agree(actual, reference(convention, optimizer, hyper)[-1], atol=tol.atol, rtol=tol.rtol,
                     what=f"{same}: {framework} vs the {convention} convention")


def test_torch_nadam_momentum_decay_1_is_keras_but_for_its_float32_decay():
    """torch's ``NAdam(momentum_decay=1.0)`` computes Keras's Nadam, except for the 0.96 Keras rounds to float32."""
    needs("torch")
    needs("keras")
    tol = tolerance(DTYPE)
    torch_run = run("torch", "nadam", {**ADAM_LIKE, "momentum_decay": 1.0})[-1]
    keras_run = run("keras", "nadam", ADAM_LIKE)[-1]
    assert_agree(torch_run, reference("torch", "nadam", {**ADAM_LIKE, "momentum_decay": 1.0})[-1], atol=tol.atol,
                 rtol=tol.rtol)
    apart = compare(torch_run, keras_run, atol=0.0, rtol=0.0).max_abs_err
    assert apart == pytest.approx(3.220e-9, rel=0.05)  # measured: float32(0.96) in Keras's mu_t
    assert compare(torch_run, keras_run, atol=tolerance("float32").atol, rtol=tolerance("float32").rtol).passed


def test_each_nadam_convention_accepts_what_its_framework_accepts():
    """Keras's Nadam takes no momentum_decay; torch's does. The reference's conventions say the same."""
    NAdam(convention="torch", momentum_decay=0.5)
    with pytest.raises(ValueError, match="^NAdam: keras.optimizers.Nadam has no momentum_decay"):
        NAdam(convention="keras", momentum_decay=0.5)
    needs("keras")
    import keras

    with pytest.raises((TypeError, ValueError), match="momentum_decay"):
        keras.optimizers.Nadam(momentum_decay=0.5)


def framework_defaults(framework: str, optimizer: str) -> dict:
    """What the framework's constructor uses, under the reference's (Keras's) names."""
    if framework == "torch":
        import torch

        from conformance.optimizer_runs import TORCH_NAMES

        names = {v: k for k, v in TORCH_NAMES.items()}
        defaults = torch_optimizer(optimizer, {})([torch.zeros(1, requires_grad=True)]).defaults
        out = {names[k]: v for k, v in defaults.items() if k in names}
        if "betas" in defaults:
            out["beta_1"], out["beta_2"] = defaults["betas"]
        return out
    config = keras_optimizer(optimizer, {})().get_config()
    return {**config, "weight_decay": config["weight_decay"] or 0.0, "momentum_decay": 1.0}


@pytest.mark.parametrize("framework", list(OTHER))
@pytest.mark.parametrize("optimizer", list(ADAPTIVE_OPTIMIZERS))
def test_adaptive_optimizer_defaults_are_the_framework_s(optimizer, framework):
    needs(framework)
    theirs = framework_defaults(framework, optimizer)
    ours = ADAPTIVE_OPTIMIZERS[optimizer].defaults[framework]
    # approx: Keras reads its learning rate back from a float32 variable (1e-3 as 0.0010000000474974513)
    assert {k: theirs[k] for k in ours} == pytest.approx(ours, rel=1e-7), f"{framework}'s {optimizer} defaults"
    # and what a constructor given nothing builds: torch's (the reference's default convention), or Keras's
    built = ADAPTIVE_OPTIMIZERS[optimizer]() if framework == "torch" else ADAPTIVE_OPTIMIZERS[optimizer](convention="keras")
    assert built.convention == framework
    assert {k: getattr(built, k) for k in ours} == pytest.approx({k: theirs[k] for k in ours}, rel=1e-7)


class NAdamFloat64Product(NAdam):
    """torch's NAdam as if it kept ``P_t`` in float64: the reference without its float32 rounding."""

    def update(self, params, grads):
        self.mu_product *= self.mu(self.iterations + 1, 0.96)
        super(NAdam, self).update(params, grads)


def test_nadam_float32_details_matter():
    """The two float32 details of NAdam's conventions each move the weights by more than the float64
    tolerance, so the rows above hold them: torch's float32 ``P_t`` and Keras's float32 0.96 in ``mu_t``."""
    tol = tolerance(DTYPE)
    exact_decay = NAdam(convention="keras", **ADAM_LIKE)
    exact_decay.decay = {"keras": 0.96}
    for changed, convention, measured in ((NAdamFloat64Product(convention="torch", **ADAM_LIKE), "torch", 1.233e-10),
                                          (exact_decay, "keras", 3.268e-9)):
        gap = compare(reference_steps(changed, STEPS)[-1], reference(convention, "nadam", ADAM_LIKE)[-1],
                      atol=tol.atol, rtol=tol.rtol)
        assert not gap.passed and gap.max_abs_err == pytest.approx(measured, rel=0.05)


# (optimizer, hyper-parameter, a value torch refuses) for every check the reference makes
REFUSED = [("nadam", "beta_1", 1.0), ("nadam", "beta_2", 1.0), ("nadam", "epsilon", -1.0),
           ("nadam", "momentum_decay", -1.0), ("nadam", "learning_rate", -1.0), ("adamax", "beta_1", 1.0),
           ("adamax", "beta_2", 1.0), ("adamax", "epsilon", -1.0), ("amsgrad", "beta_2", 1.0),
           ("amsgrad", "epsilon", -1.0), ("adadelta", "rho", 1.5), ("adadelta", "epsilon", -1.0)]


@pytest.mark.parametrize("optimizer,key,value", REFUSED)
def test_what_torch_refuses_the_reference_refuses(optimizer, key, value):
    """The reference refuses a value torch refuses, under both conventions (Keras takes nearly anything: measured,
    every one of these but momentum_decay, which its Nadam has no argument for)."""
    for convention in OTHER:
        with pytest.raises(ValueError, match=key):
            ADAPTIVE_OPTIMIZERS[optimizer](convention=convention, **{key: value})
    needs("torch")
    import torch

    hyper = {"beta_1": 0.9, "beta_2": 0.999, key: value} if key.startswith("beta") else {key: value}
    with pytest.raises(ValueError):
        torch_optimizer(optimizer, hyper)([torch.zeros(1, requires_grad=True)])


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_adadelta_rho_at_its_bounds_steps_as_torch(rho):
    """torch's Adadelta takes 0 <= rho <= 1, and so does the reference: at both ends it steps as torch."""
    needs("torch")
    tol = tolerance(DTYPE)
    hyper = {"learning_rate": 0.5, "rho": rho, "epsilon": 1e-6}
    assert_agree(run("torch", "adadelta", hyper)[-1], reference("torch", "adadelta", hyper)[-1], atol=tol.atol,
                 rtol=tol.rtol, what=f"Adadelta(rho={rho})")


def test_adadelta_rho_1_is_accepted_by_torch_and_the_reference():
    needs("torch")
    import torch

    torch_optimizer("adadelta", {"rho": 1.0})([torch.zeros(1, requires_grad=True)])
    params = {"p": np.zeros(2)}
    Adadelta(learning_rate=0.5, rho=1.0).update(params, {"p": np.array([1.0, -2.0])})  # s, d stay 0: delta = g
    assert params["p"].tolist() == [-0.5, 1.0]
