"""Every optimizer with each option every optimizer takes: weight decay and the three clippings.

test_conventions.py proves the formulas where torch and Keras differ, on SGD and
Adam. Here every optimizer of the reference (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, Adamax,
AMSGrad, Adadelta)
is run with each option of the shared ``Optimizer`` machinery, 10 steps of the
spiral lesson in float64, against each framework under its own convention:

- the reference agrees with the framework (the float64 tolerance), and
- the option bites: without it, the same run ends farther away than the tolerance
  (so an option the reference dropped on the way would be seen).
"""

from __future__ import annotations

import pytest

from conformance.optimizer_specs import OPTIMIZER_SPECS
from conformance.tests.support import needs
from conformance.tests.test_optimizer_conventions import (
    DTYPE,
    FORMULA_FRAMEWORKS,
    framework_run,
    reference_run,
)
from reference import OPTIMIZERS

from ..compare import assert_agree, compare
from ..tolerances import tolerance

# optimizer -> the named setting it starts from (optimizer_specs.py)
BASE = {"sgd": "momentum", "adam": "adam", "adamw": "adamw", "rmsprop": "rmsprop-momentum", "adagrad": "adagrad",
        "nadam": "nadam", "adamax": "adamax", "amsgrad": "amsgrad", "adadelta": "adadelta"}
# The sizes test_conventions.py uses on this lesson, where each clipping is active on every step.
OPTIONS = {"weight_decay": 0.05, "clipvalue": 0.02, "clipnorm": 0.05, "global_clipnorm": 0.1}


def test_every_optimizer_has_a_base_setting():
    assert set(BASE) == set(OPTIMIZERS)


@pytest.mark.parametrize("framework", FORMULA_FRAMEWORKS)
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("optimizer", list(BASE))
def test_option_agrees_with_the_framework(optimizer, option, framework):
    needs(framework)
    base = OPTIMIZER_SPECS[BASE[optimizer]].hyperparameters
    hyper = {**base, option: OPTIONS[option]}
    tol = tolerance(DTYPE)
    actual = framework_run(framework, optimizer, hyper, None)
    ours = reference_run(framework, optimizer, hyper, None)
    assert_agree(actual, ours, atol=tol.atol, rtol=tol.rtol, what=f"{optimizer} with {option} on {framework}")
    without = reference_run(framework, optimizer, base, None)
    assert not compare(actual, without, atol=tol.atol, rtol=tol.rtol).passed, \
        f"{optimizer}: {option}={OPTIONS[option]} changes nothing on this lesson, so it proves nothing"
