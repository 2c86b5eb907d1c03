"""The lessons that show a training convention: ``spiral-schedule`` and ``sensor-class-weights``.

The conformance suite runs every check on both (forward to training, float64 and float32, torch and
Keras). Here: what each lesson's setting is for, and that each framework needs the setting the twin
gives it, measured. docs/conventions-training.md and docs/conventions-losses.md link these rows.

- ``spiral-schedule`` declares Keras's ExponentialDecay in float64, every step. Without the schedule
  (a constant rate, or torch's ``StepLR`` stepped once an epoch over these ten epochs) the run parts
  from the reference at once; Keras given Python floats computes the schedule in float32 and misses
  the float64 tolerance, while its rates are the reference's float32 schedule to the bit.
- ``sensor-class-weights`` declares the weighted sum divided by the sum of the weights. torch's
  default (``CrossEntropyLoss(weight=w)`` on class indices) is that; Keras's default
  (``fit(class_weight=...)``) divides by N; they are the weights' mean apart (2.0 here).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conformance.tests.support import check_case, needs
from reference import get_optimizer
from reference.loss_conventions import ClassWeightedCrossEntropy
from reference.training_conventions import ExponentialDecay, Scheduled

from ..cases import TRAJECTORY_STEPS, Case, CaseInputs, trajectory_items
from ..checks.training import reference_run
from ..compare import assert_agree, compare
from ..lessons import LESSONS, canonical_params, lesson_data, lesson_test_data
from ..tolerances import tolerance

SCHEDULE, WEIGHTS = LESSONS["spiral-schedule"], LESSONS["sensor-class-weights"]
TOL = tolerance("float64")
STEPS = max(TRAJECTORY_STEPS)


def reference_trajectory(lesson, schedule) -> dict:
    """The reference's parameters after 10 and 100 steps of the lesson's batches, with ``schedule`` (or none)."""
    inputs = CaseInputs.build(lesson, "float64")
    optimizer = get_optimizer(lesson.optimizer, convention="torch", **lesson.hyperparameters)
    optimizer = Scheduled(optimizer, schedule) if schedule else optimizer
    model = inputs.reference_model("torch")
    return trajectory_items(model.train(inputs.ref_X, inputs.ref_y, optimizer, inputs.batches(STEPS),
                                        record=TRAJECTORY_STEPS))


def twin_trajectory(twin, lesson) -> dict:
    inputs = CaseInputs.build(lesson, "float64")
    twin.set_params(inputs.params)
    return trajectory_items(twin.train(inputs.X, inputs.y, lesson.optimizer, lesson.hyperparameters,
                                       inputs.batches(STEPS), record=TRAJECTORY_STEPS))


def float64_schedule(lesson=SCHEDULE, dtype="float64") -> ExponentialDecay:
    return ExponentialDecay(lesson.hyperparameters["learning_rate"], dtype=dtype, **dict(lesson.lr_schedule))


def greatest_difference(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in b)


# ----- spiral-schedule ---------------------------------------------------------------------------------------

def test_the_schedule_is_what_the_lesson_is_about():
    """The reference trained with the schedule ends lower than at its first rate held constant: measured 0.5830
    against 0.6707, and 192 correct test points against 164."""
    y_test = lesson_test_data(SCHEDULE)[1]
    scheduled, constant = reference_run(SCHEDULE, "float64"), reference_run(replace(SCHEDULE, lr_schedule=()), "float64")
    assert scheduled.losses[-1] == pytest.approx(0.5830, abs=1e-4)
    assert constant.losses[-1] == pytest.approx(0.6707, abs=1e-4)
    assert (scheduled.correct(y_test), constant.correct(y_test)) == (192, 164)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_twin_without_the_schedule_parts_from_the_reference(framework):
    """The twin of the lesson without its lr_schedule (a constant rate: also torch's StepLR(step_size=20,
    gamma=0.9) stepped once an epoch, which these ten epochs never reach) against the reference with it:
    measured 2.3e-2 apart after 100 steps (torch and Keras), far outside the float64 tolerance."""
    needs(framework)
    from frameworks import get_twin

    plain = replace(SCHEDULE, name="spiral-schedule-constant", lr_schedule=())
    actual = twin_trajectory(get_twin(framework, plain, "float64"), plain)
    expected = reference_trajectory(SCHEDULE, float64_schedule())
    assert not compare(actual, expected, atol=TOL.atol, rtol=TOL.rtol).passed
    assert greatest_difference(actual, expected) == pytest.approx(2.33e-2, rel=0.05)
    assert_agree(actual, reference_trajectory(plain, None), atol=TOL.atol, rtol=TOL.rtol)


def test_keras_given_python_floats_computes_the_schedule_in_float32(monkeypatch):
    """The Keras twin's schedule made from Python floats (as Keras's own examples write it) computes float32
    rates, and the run ends 4.7e-9 from the float64 schedule the lesson declares after 100 steps (measured),
    outside the float64 tolerance. Nor is it the reference's float32 ExponentialDecay to the bit: inside the
    compiled step TensorFlow's float32 power is not NumPy's (measured 1.7e-9 apart after 100 steps, where the
    same schedule called eagerly gives NumPy's rates exactly). The twin's np.float64 numbers are the setting:
    Keras then computes the schedule in float64, as the reference and torch's LambdaLR do."""
    needs("keras")
    from frameworks import keras_twin

    built, made = keras_twin.exponential_decay, []

    def from_python_floats(learning_rate, settings, number):
        made.append(built(float(learning_rate), settings, float))
        return made[-1]

    monkeypatch.setattr(keras_twin, "exponential_decay", from_python_floats)
    actual = twin_trajectory(keras_twin.Twin(SCHEDULE, "float64"), SCHEDULE)  # a twin of its own: not the cached one
    assert [keras_twin.ops.convert_to_numpy(schedule(np.int64(1))).dtype for schedule in made] == [np.float32]
    declared = reference_trajectory(SCHEDULE, float64_schedule())
    assert not compare(actual, declared, atol=TOL.atol, rtol=TOL.rtol).passed
    assert greatest_difference(actual, declared) == pytest.approx(4.7e-9, rel=0.2)
    float32_rates = reference_trajectory(SCHEDULE, float64_schedule(dtype="float32"))
    assert greatest_difference(actual, float32_rates) == pytest.approx(1.7e-9, rel=0.2)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_staircase_schedule_is_computed_too(framework):
    """The lesson's schedule floored every 30 steps (``staircase``: Keras's ExponentialDecay(staircase=True),
    torch's LambdaLR with step // 30): 100 steps cross three stairs, at the float64 tolerance."""
    lesson = replace(SCHEDULE, name="spiral-schedule-staircase",
                     lr_schedule=(("decay_steps", 30), ("decay_rate", 0.5), ("staircase", True)))
    check_case("trajectory", Case(lesson.name, framework, "float64"), lesson=lesson)


# ----- sensor-class-weights ----------------------------------------------------------------------------------

def lesson_logits():
    """The sensor lesson's logits at its canonical weights, its one-hot targets and their class indices."""
    inputs = CaseInputs.build(WEIGHTS, "float64")
    model = inputs.reference_model("torch")
    model.forward(inputs.ref_X)
    return model.z[-1], inputs.ref_y, inputs.ref_y.argmax(axis=1)


def reference_loss(divisor: str) -> dict:
    z, y, _ = lesson_logits()
    loss = ClassWeightedCrossEntropy(WEIGHTS.class_weights, divisor).from_logits()
    return {"loss": np.asarray(loss.forward(z, y)), "dL/dz": loss.backward(z, y)}


def torch_default(targets: str) -> dict:
    """``nn.CrossEntropyLoss(weight=w)`` as a torch user writes it, on class indices or on one-hot targets."""
    import torch

    z, y, labels = lesson_logits()
    zt = torch.tensor(z, requires_grad=True)
    target = torch.tensor(labels) if targets == "indices" else torch.tensor(y)
    loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(WEIGHTS.class_weights, dtype=torch.float64))(zt, target)
    loss.backward()
    return {"loss": loss.detach().numpy(), "dL/dz": zt.grad.numpy()}


def keras_default() -> dict:
    """Keras's ``CategoricalCrossentropy()`` with the sample weights ``fit(class_weight=...)`` makes."""
    import tensorflow as tf

    from frameworks.keras_twin import keras, keras_dtype

    z, y, labels = lesson_logits()
    with keras_dtype("float64"):
        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            loss = keras.losses.CategoricalCrossentropy(from_logits=True)(
                y, zt, sample_weight=np.asarray(WEIGHTS.class_weights)[labels])
        return {"loss": loss.numpy(), "dL/dz": tape.gradient(loss, zt).numpy()}


@pytest.mark.parametrize("framework, divisor", [("torch", "sum_of_weights"), ("keras", "batch_size")])
def test_each_framework_s_default_is_its_own_divisor(framework, divisor):
    needs(framework)
    actual = torch_default("indices") if framework == "torch" else keras_default()
    assert_agree(actual, reference_loss(divisor), atol=TOL.atol, rtol=TOL.rtol, what=f"{framework}'s default")
    other = "batch_size" if divisor == "sum_of_weights" else "sum_of_weights"
    assert not compare(actual, reference_loss(other), atol=TOL.atol, rtol=TOL.rtol).passed


def test_the_defaults_are_the_weights_mean_apart():
    """Measured on the lesson at its canonical weights: torch's default loss 0.6920... is Keras's over 2.0, the
    mean of the samples' weights (100 samples of each class, weights 1, 1, 4: 600 / 300)."""
    needs("torch")
    needs("keras")
    torch_loss, keras_loss = float(torch_default("indices")["loss"]), float(keras_default()["loss"])
    _, y, _ = lesson_logits()
    mean_weight = float(np.mean(y @ np.asarray(WEIGHTS.class_weights)))
    assert mean_weight == 2.0
    assert keras_loss / torch_loss == pytest.approx(mean_weight, rel=1e-12)


def test_torch_on_one_hot_targets_divides_by_n():
    """The same CrossEntropyLoss(weight=w) on one-hot float targets (class probabilities) divides by N, not by
    the weights' sum: Keras's default, not torch's own on class indices. The twin passes class indices."""
    needs("torch")
    assert_agree(torch_default("one-hot"), reference_loss("batch_size"), atol=TOL.atol, rtol=TOL.rtol)


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("check", ["loss", "gradients", "step", "trajectory"])
def test_the_other_divisor_declared_is_computed_too(framework, check):
    """The lesson declaring Keras's divisor ("batch_size"): each twin given its setting for it (torch:
    reduction="sum" over N; Keras: the default reduction) agrees with the reference at the float64 tolerance."""
    lesson = replace(WEIGHTS, name="sensor-class-weights-over-n", class_weight_divisor="batch_size")
    check_case(check, Case(lesson.name, framework, "float64"), lesson=lesson)


def test_the_weights_move_predictions_toward_the_heavy_class():
    """Trained, the weighted lesson predicts critical for 107 of the 300 points (the unweighted sensor lesson:
    100), at the cost of one more mistake (288 correct against 289)."""
    y_test = lesson_test_data(WEIGHTS)[1]
    weighted, plain = reference_run(WEIGHTS, "float64"), reference_run(LESSONS["sensor"], "float64")
    assert np.bincount(weighted.predictions)[2] == 107 and np.bincount(plain.predictions)[2] == 100
    assert (weighted.correct(y_test), plain.correct(y_test)) == (288, 289)
    assert canonical_params(WEIGHTS).keys() == canonical_params(LESSONS["sensor"]).keys()
    assert lesson_data(WEIGHTS)[0] is lesson_data(LESSONS["sensor"])[0]  # the same data, loaded once
