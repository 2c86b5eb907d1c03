"""Every documented difference between torch's and Keras's optimizer formulas is real, at the size measured.

The conventions table of docs/optimizers.md links each row here. For a row, the
same hyper-parameters go to both frameworks, which train the spiral lesson for
10 steps in float64. Then:

1. each framework agrees with the reference under its own convention (the float64 tolerance);
2. it disagrees with the reference under the other framework's convention: the
   check would fail, by the amount the two reference formulas predict;
3. that amount is the one measured and written in the table (1%).

If a framework changed its formula, (1) fails; if the difference vanished or
changed size, (2) or (3) fails. The settings of ``SAME`` are the opposite
promise: there the two formulas are equal, and a difference appearing fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.lessons import canonical_params, get_lesson, lesson_data
from conformance.optimizer_specs import OPTIMIZER_SPECS
from conformance.tests.support import (
    assert_own_formula_not_the_other,
    needs,
    skip_reason,
)
from frameworks import get_twin
from reference import CONVENTIONS, OPTIMIZERS, get_optimizer

from ..cases import case_inputs, reference_model, training_batches
from ..compare import assert_agree, compare
from ..tolerances import tolerance

LESSON, DTYPE, STEPS = "spiral", "float64", 10
OTHER = {"torch": "keras", "keras": "torch"}
# The two formula families, proven on torch and on Keras's TensorFlow backend. Keras on JAX and
# torch runs the same Keras optimizers, but computes float64 partly in float32 (conformance/known/__init__.py);
# their steps and trajectories are checked by test_step, test_trajectory and test_optimizers.
FORMULA_FRAMEWORKS = list(OTHER)
# A step decay: the first 5 steps at the spec's rate, the last 5 at a tenth of it.
SGD_SCHEDULE = [0.01] * 5 + [0.001] * 5
RMSPROP_SCHEDULE = [0.001] * 5 + [0.0001] * 5


def spec(name: str, **changes) -> dict:
    return {**OPTIMIZER_SPECS[name].hyperparameters, **changes}


# row -> (optimizer, hyper-parameters, learning rate per step or None (constant),
#         max |reference under torch's convention - under Keras's| after 10 steps, as measured)
DIFFERENCES = {
    "adam-epsilon-hat": ("adam", spec("adam"), None, 2.150e-4),
    "sgd-momentum-under-schedule": ("sgd", spec("momentum"), SGD_SCHEDULE, 1.529e-2),
    "sgd-nesterov-under-schedule": ("sgd", spec("nesterov"), SGD_SCHEDULE, 1.364e-2),
    "rmsprop-epsilon-in-root": ("rmsprop", spec("rmsprop"), None, 1.063e-2),
    "rmsprop-centered-epsilon-in-root": ("rmsprop", spec("rmsprop-centered"), None, 1.376e-2),
    "rmsprop-momentum-under-schedule": ("rmsprop", spec("rmsprop-momentum"), RMSPROP_SCHEDULE, 3.063e-2),
    "adagrad-epsilon-in-root": ("adagrad", spec("adagrad"), None, 2.078e-9),
    "adam-l2-vs-decoupled-decay": ("adam", spec("adam", weight_decay=0.01), None, 1.997e-2),
    "sgd-momentum-l2-vs-decoupled-decay": ("sgd", spec("momentum", weight_decay=0.01), None, 7.288e-3),
    "global-clipnorm-1e-6": ("sgd", spec("sgd", global_clipnorm=0.1), None, 2.578e-8),
    "clipnorm-1e-6": ("sgd", spec("sgd", clipnorm=0.05), None, 4.878e-8),
    # the four of reference/adaptive_optimizers.py, through the twins (docs/conventions-optimizers.md)
    "nadam-float32-decay": ("nadam", spec("nadam"), None, 5.475e-10),  # momentum_decay 1.0: Keras's float32 0.96
    "adamax-epsilon-in-max": ("adamax", spec("adamax"), None, 1.991e-8),
    "amsgrad-epsilon-hat": ("amsgrad", spec("amsgrad"), None, 2.150e-4),
}

# row -> (optimizer, hyper-parameters, learning rates): the two formulas give the same weights.
SAME = {
    "sgd-momentum-constant-rate": ("sgd", spec("momentum"), None),  # Keras's m = -learning_rate * torch's b
    "sgd-nesterov-constant-rate": ("sgd", spec("nesterov"), None),
    "sgd-l2-equals-decoupled-decay": ("sgd", spec("sgd", weight_decay=0.01), None),  # p - lr (g + wd p), both ways
    "adamw-decay": ("adamw", spec("adamw", epsilon=0.0), None),  # p (1 - lr wd) vs p - p wd lr; epsilon 0: no eps rule
    "clipvalue": ("sgd", spec("sgd", clipvalue=0.02), None),
    "adadelta-one-formula": ("adadelta", spec("adadelta"), None),
}


def finite(params: dict) -> dict:
    """``params``, having checked every number is finite (compare counts NaN against NaN as equal)."""
    bad = [name for name, value in params.items() if not np.all(np.isfinite(value))]
    assert not bad, f"non-finite weights in {bad}"
    return params


def reference_run(convention, optimizer, hyper, learning_rates):
    lesson = get_lesson(LESSON)
    params, X, y = case_inputs(lesson, DTYPE)
    opt = get_optimizer(optimizer, convention=convention, **hyper)
    return finite(reference_model(lesson, params).train(X, y, opt, training_batches(lesson, STEPS), (STEPS,),
                                                        learning_rates)[STEPS])


def framework_run(framework, optimizer, hyper, learning_rates):
    lesson = get_lesson(LESSON)
    twin = get_twin(framework, lesson, DTYPE)
    twin.set_params(canonical_params(lesson))
    X, y = lesson_data(lesson)
    return finite(twin.train(X, y, optimizer, hyper, training_batches(lesson, STEPS), (STEPS,), learning_rates)[STEPS])


@pytest.mark.parametrize("framework", FORMULA_FRAMEWORKS)
@pytest.mark.parametrize("difference", list(DIFFERENCES))
def test_the_frameworks_differ_as_documented(difference, framework):
    needs(framework)
    optimizer, hyper, learning_rates, measured = DIFFERENCES[difference]
    tol = tolerance(DTYPE)
    actual = framework_run(framework, optimizer, hyper, learning_rates)
    own = reference_run(framework, optimizer, hyper, learning_rates)
    other = reference_run(OTHER[framework], optimizer, hyper, learning_rates)
    assert_own_formula_not_the_other(actual, own, other, measured, tol, difference, framework, OTHER[framework])


@pytest.mark.parametrize("framework", FORMULA_FRAMEWORKS)
@pytest.mark.parametrize("same", list(SAME))
def test_where_the_formulas_agree_both_conventions_match(same, framework):
    needs(framework)
    optimizer, hyper, learning_rates = SAME[same]
    tol = tolerance(DTYPE)
    actual = framework_run(framework, optimizer, hyper, learning_rates)
    for convention in CONVENTIONS:
        assert_agree(actual, reference_run(convention, optimizer, hyper, learning_rates), atol=tol.atol,
                     rtol=tol.rtol, what=f"{same}: {framework} vs the {convention} convention")


# ----- defaults: the reference's per-convention defaults are the frameworks' own ---------------------------

def torch_defaults(optimizer: str) -> dict:
    """What ``torch.optim.<Optimizer>(params)`` uses, under Keras's names."""
    import torch

    from frameworks.torch_twin import OPTIMIZERS as TORCH_OPTIMIZERS
    from frameworks.torch_twin import hyper_names

    torch_names = {torch_name: name for name, torch_name in hyper_names(optimizer).items()}
    defaults = TORCH_OPTIMIZERS[optimizer]([torch.zeros(1, requires_grad=True)]).defaults
    out = {torch_names[k]: v for k, v in defaults.items() if k in torch_names}
    if "betas" in defaults:
        out["beta_1"], out["beta_2"] = defaults["betas"]
    return out


def keras_defaults(optimizer: str) -> dict:
    """What ``keras.optimizers.<Optimizer>()`` uses (its config; weight_decay None means none; a hyper-parameter
    it has no argument for, Nadam's momentum_decay, is the value it computes: frameworks/keras_arguments.py)."""
    from frameworks.keras_arguments import NOT_KERAS_ARGUMENTS
    from frameworks.keras_twin import OPTIMIZERS as KERAS_OPTIMIZERS

    config = KERAS_OPTIMIZERS[optimizer]().get_config()
    if config.get("weight_decay") is None:
        config["weight_decay"] = 0.0
    if optimizer in NOT_KERAS_ARGUMENTS:
        config.update(NOT_KERAS_ARGUMENTS[optimizer][1])
    return config


FRAMEWORK_DEFAULTS = {"torch": torch_defaults, "keras": keras_defaults}


@pytest.mark.parametrize("framework", FORMULA_FRAMEWORKS)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_reference_defaults_are_the_framework_s(optimizer, framework):
    needs(framework)
    theirs = FRAMEWORK_DEFAULTS[framework](optimizer)
    ours = OPTIMIZERS[optimizer].defaults[framework]
    # approx: Keras keeps the learning rate in a float32 variable (0.01 reads back as 0.009999999776)
    assert {k: theirs[k] for k in ours} == pytest.approx(ours, rel=1e-7), f"{framework}'s {optimizer} defaults changed"


def test_adagrad_initial_accumulator_defaults_differ():
    """torch starts the accumulator at 0, Keras at 0.1 (and Keras rounds that 0.1 through float32)."""
    hyper = {"learning_rate": 0.01}  # everything else left to each framework's default
    tol = tolerance(DTYPE)
    torch_ref, keras_ref = (reference_run(c, "adagrad", hyper, None) for c in CONVENTIONS)
    assert compare(torch_ref, keras_ref, atol=0.0, rtol=0.0).max_abs_err == pytest.approx(6.684e-2, rel=0.01)
    if skip_reason("torch") is None:
        assert_agree(framework_run("torch", "adagrad", hyper, None), torch_ref, atol=tol.atol, rtol=tol.rtol)
    if skip_reason("keras") is None:
        # docs/conventions.md#float32-casts: the default 0.1, a Python float, becomes float32(0.1) = 0.10000000149...
        # even in float64: 1.2e-10 away from the exact formula after 10 steps, and exact with that number.
        keras_run = framework_run("keras", "adagrad", hyper, None)
        off = compare(keras_run, keras_ref, atol=0.0, rtol=0.0).max_abs_err
        assert off == pytest.approx(1.23e-10, rel=0.05)
        rounded = reference_run("keras", "adagrad", {**hyper, "initial_accumulator_value": 0.10000000149011612},
                                None)
        assert_agree(keras_run, rounded, atol=tol.atol, rtol=tol.rtol)


def test_docs_table_has_every_row_with_its_measured_size():
    """docs/optimizers.md lists every difference with the size measured here, and every agreement."""
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "optimizers.md").read_text()
    for row, (*_, measured) in DIFFERENCES.items():
        line = next((ln for ln in doc.splitlines() if f"[`{row}`]" in ln), None)
        assert line is not None, f"docs/optimizers.md has no row linking {row}"
        mantissa, exponent = f"{measured:.2e}".split("e")
        assert re.search(rf"{mantissa}e-0*{int(exponent[1:])}\b", line), f"{row}: the docs do not say {measured:.2e}"
    for same in SAME:
        assert same in doc, f"docs/optimizers.md does not list {same}"
