"""The training machinery: the reference's loop, the training check's rules, and its teeth.

Break the training loop in a way a one-step check cannot see (the order of the
batches, where the loss is read) and the ``training`` check must fail and say where.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conformance.cases import Case
from conformance.checks import run_check
from conformance.checks.training import (
    TrainingRun,
    checkpoints,
    compare_runs,
    framework_run,
    reference_run,
)
from conformance.lessons import LESSONS, initial_params, lesson_data
from conformance.tolerances import tolerance
from frameworks import available_frameworks
from frameworks.twin import epoch_losses
from frameworks.twin import fit as twin_fit
from reference import MLP, MiniBatches, get_optimizer
from reference import training as reference_training
from reference.training import batches, fit

FRAMEWORK = next(iter(available_frameworks()), None)
needs_framework = pytest.mark.skipif(FRAMEWORK is None, reason="no framework installed to compare against")


def test_batches_in_order_with_a_short_last_one():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0).reshape(5, 1)
    sizes = [len(xb) for xb, _ in batches(X, y, 2)]
    assert sizes == [2, 2, 1]
    np.testing.assert_array_equal(np.vstack([xb for xb, _ in batches(X, y, 2)]), X)
    (whole,) = list(batches(X, y, None))
    assert whole[0] is X


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_a_bad_batch_size_is_named(bad):
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(np.zeros((3, 2)), np.zeros((3, 1)), bad))


def test_fit_refuses_x_and_y_of_different_lengths():
    lesson = LESSONS["spiral"]
    model = MLP(initial_params(lesson), lesson.activations, lesson.loss)
    X, y = lesson_data(lesson)
    with pytest.raises(ValueError, match=r"X.shape=\(300, 2\), y.shape=\(299, 1\)"):
        fit(model, X, y[:-1], get_optimizer("sgd", learning_rate=0.1), 1)


def test_the_loss_curve_is_read_before_each_update():
    """Full batch: epoch e's loss is the loss of the weights after e - 1 updates."""
    lesson = LESSONS["spiral"]
    X, y = lesson_data(lesson)
    model = MLP(initial_params(lesson), lesson.activations, lesson.loss)
    first = model.loss_value(X, y)
    losses = fit(model, X, y, get_optimizer("sgd", learning_rate=0.05), 3)
    assert losses[0] == first
    assert losses.shape == (3,) and losses[2] < losses[0]


def test_checkpoints():
    assert checkpoints(LESSONS["perceptron-and"]) == 1  # 15 epochs: every one (and 0, the start)
    assert checkpoints(LESSONS["xor-mse"]) == 1000  # 10000 epochs: ten snapshots
    run = reference_run(LESSONS["perceptron-and"], "float64")
    assert sorted(run.snapshots) == list(range(0, 16))


def _with_output(run: TrainingRun, output: np.ndarray) -> TrainingRun:
    return dataclasses.replace(run, framework="fake", test_output=output)


def test_float32_allows_one_test_point_and_no_more():
    lesson = LESSONS["tabular-3-4-1"]
    ref = reference_run(lesson, "float32")
    out = ref.test_output.copy()
    correct = np.flatnonzero(ref.predictions == (lesson_data(lesson)[1][:, 0] >= 0.5))
    out[correct[0]] = 1 - out[correct[0]]  # one correct point now wrong
    assert compare_runs(lesson, ref, _with_output(ref, out))[0].passed
    out[correct[1]] = 1 - out[correct[1]]  # two
    result, _ = compare_runs(lesson, ref, _with_output(ref, out))
    assert not result.passed and result.worst == "correct test points"
    assert tolerance("float32", "training").atol == 1.0


def test_float64_wants_every_prediction():
    lesson = LESSONS["tabular-3-4-1"]
    ref = reference_run(lesson, "float64")
    out = ref.test_output.copy()
    out[0] = 1 - out[0]
    result, _ = compare_runs(lesson, ref, _with_output(ref, out))
    assert [item.name for item in result.failures()] == ["predicted class"]


def test_lessons_that_cannot_train_are_skipped_with_the_reason():
    result = run_check("training", Case("deep-sigmoid", FRAMEWORK or "torch", "float64"))
    assert result.skipped and "does not train" in result.skipped and not result.passed


class _ReversedMiniBatches(MiniBatches):
    def epoch(self, e):
        return super().epoch(e)[::-1]


def _fit_reading_the_loss_after_the_update(model, X, y, optimizer, epochs, batch_size=None, on_epoch_end=None,
                                           dropout_masks=None):
    losses = ORIGINAL_FIT(model, X, y, optimizer, epochs, batch_size, on_epoch_end, dropout_masks)
    return np.append(losses[1:], model.loss_value(X, y))


ORIGINAL_FIT = reference_training.fit


@needs_framework
def test_samples_in_the_wrong_order_fail_the_training_check(monkeypatch):
    case = Case("perceptron-and", FRAMEWORK, "float64")
    assert run_check("training", case).passed
    monkeypatch.setattr(reference_training, "MiniBatches", _ReversedMiniBatches)
    result = run_check("training", case)
    assert not result.passed
    assert result.comparison.failures()[0].name.endswith("after epoch 1")


@needs_framework
def test_a_loss_curve_read_after_the_update_fails_the_training_check(monkeypatch):
    from conformance.checks import training

    case = Case("spiral", FRAMEWORK, "float64")
    monkeypatch.setattr(training, "fit", _fit_reading_the_loss_after_the_update)
    result = run_check("training", case)
    assert [item.name for item in result.comparison.failures()] == ["loss curve"]


# ---- the regularized lessons: per-step dropout masks, each framework's BatchNorm convention ----------


@needs_framework
def test_a_reference_that_keeps_the_first_dropout_mask_fails_the_training_check(monkeypatch):
    """Every step draws its own masks on all three sides; a reference that reuses step 0's is caught."""
    from conformance.checks import training

    def fit_with_the_first_mask(*args, dropout_masks=None, **kwargs):
        return ORIGINAL_FIT(*args, dropout_masks=lambda step, n_rows: dropout_masks(0, n_rows), **kwargs)

    case = Case("spiral-dropout", FRAMEWORK, "float64")
    monkeypatch.setattr(training, "fit", fit_with_the_first_mask)
    result = run_check("training", case)
    assert not result.passed
    assert result.comparison.failures()[0].name.endswith("after epoch 200")  # the first snapshot after the start


@pytest.mark.parametrize("framework", available_frameworks())
def test_the_training_run_follows_the_framework_s_batchnorm_running_variance(framework):
    """Trained under the other framework's convention, the reference ends with another running variance."""
    lesson = LESSONS["spiral-batchnorm"]
    other = {"torch": "keras", "keras": "torch"}[framework]
    run = framework_run(lesson, framework, "float64")
    assert compare_runs(lesson, reference_run(lesson, "float64", framework), run)[0].passed
    result, _ = compare_runs(lesson, reference_run(lesson, "float64", other), run)
    assert not result.passed
    assert result.failures()[0].name == "moving_variance1 after epoch 200"


@pytest.mark.parametrize("framework", available_frameworks())
def test_spiral_3_layer_s_own_row_still_catches_the_other_adam(framework):
    """Its float64 row (1e-8, measured Adam amplification) is far under what a formula difference does:
    Adam under the other framework's epsilon convention fails at the first snapshot."""
    lesson = LESSONS["spiral-3-layer"]
    other = {"torch": "keras", "keras": "torch"}[framework]
    result, _ = compare_runs(lesson, reference_run(lesson, "float64", other), framework_run(lesson, framework, "float64"))
    assert not result.passed
    assert result.failures()[0].name == "W1 after epoch 100"


# ---- which batches the training check runs, and what the lesson says about it --------------------------------


class RecordingTwin:
    """A twin that trains nothing: it records the index arrays its one loop (``train``) is given."""

    framework, dtype = "recording", "float64"

    def __init__(self, lesson):
        self.lesson, self.params, self.batches = lesson, {}, []

    def set_params(self, params):
        self.params = dict(params)

    def get_params(self):
        return dict(self.params)

    def train(self, X, y, optimizer, hyper, batches, record, learning_rates=None, dropout_masks=None, on_step=None):
        self.batches = [np.asarray(idx) for idx in batches]
        for k, idx in enumerate(self.batches, start=1):
            on_step(k, float(k))  # step k's "loss" is k
        return {k: self.get_params() for k in record}

    def fit(self, *args, **kwargs):
        return twin_fit(self, *args, **kwargs)

    def forward(self, X, training=True):
        return {f"a{self.lesson.n_layers}": np.zeros((len(X), self.lesson.sizes[-1]))}


def _rows_the_reference_trains_on(monkeypatch, lesson) -> list[np.ndarray]:
    """The rows of every step of the reference's whole run: its one loop, MLP.train, recorded."""
    seen = []
    original = MLP.train

    def recording_train(self, X, y, optimizer, batches, *args, **kwargs):
        batches = [np.asarray(idx) for idx in batches]
        seen.extend(X[idx] for idx in batches)
        return original(self, X, y, optimizer, batches, *args, **kwargs)

    monkeypatch.setattr(MLP, "train", recording_train)
    reference_run(lesson, "float64")
    return seen


def test_the_training_check_takes_keras_4_64_32_1_s_batches_in_order_every_epoch_as_its_lesson_says(monkeypatch):
    """The lesson says: batches of 32, in order, every epoch the same (fit(shuffle=False)). The twins' loop
    gets exactly those index arrays, epoch after epoch, and the reference's loop trains on the same rows."""
    from conformance.checks import training

    lesson = LESSONS["keras-4-64-32-1"]
    assert "the training check takes the batches in order every epoch (fit(shuffle=False))" in lesson.choices
    X, _ = lesson_data(lesson)
    n = len(X)
    in_order = [np.arange(start, min(start + 32, n)) for start in range(0, n, 32)]
    assert len(in_order[-1]) < 32  # a short last batch, as Keras's fit keeps it
    twin = RecordingTwin(lesson)
    monkeypatch.setattr(training, "get_twin", lambda framework, lesson, dtype: twin)
    framework_run(lesson, "recording", "float64")
    assert len(twin.batches) == lesson.epochs * len(in_order)
    for step, idx in enumerate(twin.batches):
        np.testing.assert_array_equal(idx, in_order[step % len(in_order)], err_msg=f"step {step}")
    reference_rows = _rows_the_reference_trains_on(monkeypatch, lesson)
    assert len(reference_rows) == len(twin.batches)
    for step, (rows, idx) in enumerate(zip(reference_rows, twin.batches)):
        np.testing.assert_array_equal(rows, X[idx], err_msg=f"step {step}")


def test_fit_is_its_twin_s_loop_over_every_epoch():
    """fit hands train every epoch's batches in one run, keeps the checkpoint epochs' parameters and
    averages each epoch's step losses weighted by their batch's rows."""
    lesson = LESSONS["keras-4-64-32-1"]
    twin = RecordingTwin(lesson)
    twin.set_params({"W1": np.zeros(1)})
    batches = MiniBatches(5, 2, shuffle=False)  # [0, 1], [2, 3], [4]: steps 1-3, then 4-6
    losses, snapshots = twin.fit(np.zeros((5, 4)), np.zeros((5, 1)), "sgd", {}, 2, batches, record_every=1)
    assert [list(idx) for idx in twin.batches] == [[0, 1], [2, 3], [4]] * 2
    np.testing.assert_array_equal(losses, [(1 * 2 + 2 * 2 + 3 * 1) / 5, (4 * 2 + 5 * 2 + 6 * 1) / 5])
    assert sorted(snapshots) == [1, 2]


def test_fit_sums_a_float32_loss_in_float32():
    """Keras reports float32 losses, and its loss tracker sums them in float32: so does fit."""
    sums = epoch_losses([np.float32(0.1)] * 3, [[1, 1, 1]], 3)
    assert sums.dtype == np.float32
    assert sums[0] == (np.float32(0.1) + np.float32(0.1) + np.float32(0.1)) / np.float32(3)
    assert epoch_losses([0.1] * 3, [[1, 1, 1]], 3).dtype == np.float64
