"""The step and trajectory checks have teeth: break one line of a reference optimizer and they fail.

Each mutation is a mistake a learner makes when writing the optimizer (or
when copying one framework's formula for the other's). With it in place, the
named check fails on every case listed; with the reference intact, they pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import Case
from conformance.checks import run_check
from frameworks import available_frameworks
from reference import optimizers

pytestmark = pytest.mark.skipif(not available_frameworks(), reason="no framework installed to compare against")


def adam_without_bias_correction(self, p, g, state):
    m = state["m"] = self.beta_1 * state.get("m", 0.0) + (1 - self.beta_1) * g
    v = state["v"] = self.beta_2 * state.get("v", 0.0) + (1 - self.beta_2) * g * g
    p -= self.learning_rate * m / (np.sqrt(v) + self.epsilon)


def adam_with_the_other_epsilon(self, p, g, state):
    swapped = "keras" if self.convention == "torch" else "torch"
    self.convention, original = swapped, self.convention
    try:
        ORIGINAL["adam"](self, p, g, state)
    finally:
        self.convention = original


def momentum_forgets_its_buffer(self, p, g, state):
    p -= self.learning_rate * g  # momentum never applied: plain SGD


def momentum_added_with_the_wrong_sign(self, p, g, state):
    b = state["b"] = self.momentum * state.get("b", 0.0) - g
    p -= self.learning_rate * b


def rmsprop_epsilon_always_inside_the_root(self, p, g, state):
    v = state["v"] = self.rho * state.get("v", 0.0) + (1 - self.rho) * g * g
    p -= self.learning_rate * g / np.sqrt(v + self.epsilon)


def adagrad_forgets_the_past(self, p, g, state):
    s = self.initial_accumulator_value + g * g  # not accumulated: only this step's g**2
    p -= self.learning_rate * g / (np.sqrt(s) + self.epsilon)


def decay_always_l2(self, params, grads):
    for name, p in params.items():
        grads[name] = grads[name] + self.weight_decay * p
    saved, self.weight_decay = self.weight_decay, 0.0
    try:
        ORIGINAL["update"](self, params, grads)
    finally:
        self.weight_decay = saved


ORIGINAL = {"adam": optimizers.Adam.update_parameter, "update": optimizers.Optimizer.update}

FRAMEWORKS = tuple(available_frameworks())
BOTH = ("float64", "float32")
F64 = ("float64",)  # a convention mix-up is far below float32's trajectory tolerance, so float64 catches it

# mutation -> (class, attribute, replacement, lessons, optimizer spec, check, dtypes, frameworks)
MUTATIONS = {
    "adam-no-bias-correction": (optimizers.Adam, "update_parameter", adam_without_bias_correction,
                                ["keras-4-64-32-1", "spiral"], "adam", "step", BOTH, FRAMEWORKS),
    "adam-other-framework-epsilon": (optimizers.Adam, "update_parameter", adam_with_the_other_epsilon,
                                     ["keras-4-64-32-1", "spiral"], "adam", "trajectory", F64, FRAMEWORKS),
    "momentum-forgotten": (optimizers.SGD, "update_parameter", momentum_forgets_its_buffer,
                           ["spiral"], "momentum", "trajectory", BOTH, FRAMEWORKS),
    "momentum-wrong-sign": (optimizers.SGD, "update_parameter", momentum_added_with_the_wrong_sign,
                            ["spiral"], "momentum", "trajectory", BOTH, FRAMEWORKS),
    "rmsprop-epsilon-inside-for-torch": (optimizers.RMSprop, "update_parameter",
                                         rmsprop_epsilon_always_inside_the_root,
                                         ["spiral"], "rmsprop", "trajectory", F64, ("torch",)),
    "adagrad-not-accumulated": (optimizers.Adagrad, "update_parameter", adagrad_forgets_the_past,
                                ["spiral"], "adagrad", "trajectory", BOTH, FRAMEWORKS),
    "adamw-decay-as-l2": (optimizers.AdamW, "update", decay_always_l2,
                          ["spiral"], "adamw", "trajectory", F64, FRAMEWORKS),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_broken_optimizer_fails_the_checks(mutation, monkeypatch):
    cls, attr, replacement, lessons, spec, check, dtypes, frameworks = MUTATIONS[mutation]
    frameworks = [fw for fw in frameworks if fw in FRAMEWORKS]
    if not frameworks:
        pytest.skip("the framework this mutation is visible in is not installed")
    cases = [Case(lesson, fw, dtype, spec) for lesson in lessons for fw in frameworks for dtype in dtypes]
    for case in cases:
        assert run_check(check, case).passed, f"{check} of {case.id} fails before the mutation"
    monkeypatch.setattr(cls, attr, replacement)
    for case in cases:
        result = run_check(check, case)
        assert not result.passed, f"{mutation}: {check} of {case.id} still passes"
        assert result.comparison.message(), "a failure must come with a report"
