"""The schedule and class-weight lessons' checks have teeth: break the reference's schedule or its class-weighted
loss and the suite fails on ``spiral-schedule`` and ``sensor-class-weights``, naming the quantity.

As in test_regularizer_teeth.py: with the reference intact the checks pass, in float64 and float32; with a
classic mistake in place they fail. The mistakes are the conventions of the other framework's habit: the rate
stepped once an epoch (torch's StepLR) or never, the schedule's exponent floored, the weighted sum divided by N
(Keras's default) instead of the weights' sum, the weights left out.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks import actual, expected
from conformance.compare import compare
from conformance.lessons import LESSONS
from conformance.tolerances import tolerance
from frameworks import available_frameworks
from reference import loss_conventions
from reference.loss_conventions import ClassWeightedCrossEntropyWithLogits
from reference.training_conventions import ExponentialDecay, Scheduled

FRAMEWORKS = available_frameworks()
pytestmark = pytest.mark.skipif(not FRAMEWORKS, reason="no framework installed to compare against")
STEPS_PER_EPOCH = 10  # spiral-schedule: 300 points in batches of 30


def update_once_an_epoch(self, params, grads):
    """torch's StepLR habit: the rate moves with the epoch, not the step."""
    epoch_start = self.optimizer.iterations - self.optimizer.iterations % STEPS_PER_EPOCH
    self.optimizer.learning_rate = float(self.schedule(epoch_start))
    self.optimizer.update(params, grads)


def update_at_the_first_rate(self, params, grads):
    self.optimizer.learning_rate = float(self.schedule(0))
    self.optimizer.update(params, grads)


def staircase_call(self, step):
    f = self.dtype.type
    return float(f(self.initial_learning_rate) * np.power(f(self.decay_rate), np.floor(f(step) / f(self.decay_steps))))


WRONG_DIVISORS = {"sum_of_weights": "keras", "batch_size": "torch"}  # each divisor read as the other's


def weights_left_out(self, z, y):
    return loss_conventions.weighted_cross_entropy(z, y, np.ones_like(self.class_weight), self.convention)[0]


# mutation -> (object, attribute, replacement, lesson, check that must fail, quantity named)
MUTATIONS = {
    "schedule-stepped-once-an-epoch": (Scheduled, "update", update_once_an_epoch, "spiral-schedule", "trajectory", "W"),
    "schedule-never-stepped": (Scheduled, "update", update_at_the_first_rate, "spiral-schedule", "trajectory", "W"),
    "schedule-floored": (ExponentialDecay, "__call__", staircase_call, "spiral-schedule", "trajectory", "W"),
    "class-weights-over-n": (loss_conventions, "CLASS_WEIGHT_DIVISORS", WRONG_DIVISORS, "sensor-class-weights",
                             "loss", "loss"),
    "class-weights-left-out": (ClassWeightedCrossEntropyWithLogits, "forward", weights_left_out,
                               "sensor-class-weights", "loss", "loss"),
}


def run(check, lesson, framework, dtype):
    tol = tolerance(dtype, None, lesson)
    return compare(actual(check, lesson, framework, dtype), expected(check, lesson, dtype, convention=framework),
                   atol=tol.atol, rtol=tol.rtol, what=f"{check} of {lesson.name}-{framework}-{dtype}")


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_broken_schedule_or_weighted_loss_fails_the_suite(mutation, monkeypatch):
    target, attr, replacement, lesson_name, check, quantity = MUTATIONS[mutation]
    lesson = LESSONS[lesson_name]
    cases = [(FRAMEWORKS[0], dt) for dt in ("float64", "float32")]
    for fw, dt in cases:  # intact: the same checks pass
        assert run(check, lesson, fw, dt).passed, f"{check} of {lesson.name}-{fw}-{dt} fails before the mutation"
    monkeypatch.setattr(target, attr, replacement)
    for fw, dt in cases:
        result = run(check, lesson, fw, dt)
        assert not result.passed, f"{mutation}: {check} of {lesson.name}-{fw}-{dt} still passes"
        assert any(item.name.startswith(quantity) for item in result.failures()), (mutation, result.failures())
