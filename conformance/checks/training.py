"""The ``training`` check: train the lesson to its end in the reference and in a framework.

A learner's question is not only "is one step the same?" but "do I get the same
network at the end of the lesson?". Both sides start from the lesson's own
initial weights (``initial_params``), train for the lesson's epochs with its
optimizer, learning rate and batches (``reference/training.py`` and the twins'
``fit``), and are compared through ``compare.py``. The batches are the lesson's
``batch_size``, taken in order every epoch, never shuffled (``epoch_batches``: what
Keras's ``fit(shuffle=False)`` and torch's ``DataLoader(shuffle=False)`` give):

- float64: the parameters after every checkpoint epoch (``checkpoints``), the
  loss curve, and the predicted class of every test point must agree within
  the float64 training row of ``tolerances.py`` (a class that differs is off by 1, far
  outside it).
- float32: the number of correctly classified test points must agree within
  one (the float32 training row): float32 rounding compounds over
  thousands of steps, and a chaotic run ends elsewhere.

A lesson whose runs measured outside its dtype's row has its own, with the
measurement (``tolerances.py``).

As in every check, the float32 reference runs in float64 on the float32-rounded
weights and data. Each side's loss curve and final parameters are kept in a
``TrainingRun`` (``nnparity plot`` draws them).

Lessons with regularizers train the reference network ``cases.reference_model``
builds, under the framework's BatchNorm convention; every step applies that step's
dropout masks on all three sides (``cases.masks_by_step``), and the test points
are predicted in inference mode (no dropout, BatchNorm's running statistics).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from frameworks import get_twin
from reference import OPTIMIZERS, MiniBatches
from reference.training import fit

from ..cases import (
    CaseInputs,
    lesson_optimizer,
    masks_by_step,
    reference_model,
    rounded,
)
from ..compare import Comparison, compare
from ..lessons import Lesson, get_lesson, lesson_data, lesson_test_data
from ..tolerances import tolerance


def checkpoints(lesson: Lesson) -> int:
    """Epochs between parameter snapshots: every epoch for short lessons (<= 100), else ten snapshots."""
    return 1 if lesson.epochs <= 100 else max(lesson.epochs // 10, 1)


def epoch_batches(lesson: Lesson) -> MiniBatches:
    """The batches of every epoch of the ``training`` check: the lesson's ``batch_size`` (None: full
    batch), in order, never shuffled: the slices ``reference/training.py``'s loop takes, as index
    arrays for the twins' ``fit`` (``frameworks/twin.py``). The step-level ``trajectory`` check
    shuffles instead (``checks.training_batches``)."""
    return MiniBatches(len(lesson_data(lesson)[0]), lesson.batch_size, shuffle=False)


def classes(output: np.ndarray) -> np.ndarray:
    """Predicted class per row: output >= 0.5 for one output unit, argmax for several."""
    output = np.asarray(output)
    if output.shape[1] == 1:
        return (output[:, 0] >= 0.5).astype(np.int64)
    return output.argmax(axis=1)


@dataclass(frozen=True)
class TrainingRun:
    """One side's whole training run."""

    framework: str  # "reference", "torch" or "keras"
    dtype: str
    losses: np.ndarray  # (epochs,): each epoch's mean loss before its updates
    snapshots: dict  # epoch -> {"W1": ..., "b1": ...} after that epoch (reference layout); 0: the start
    test_output: np.ndarray  # the trained network's output on the test points
    seconds: float

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameters at the end of the run."""
        return self.snapshots[max(self.snapshots)]

    @property
    def predictions(self) -> np.ndarray:
        return classes(self.test_output)

    def correct(self, y_test: np.ndarray) -> int:
        """How many test points the trained network classifies correctly."""
        return int(np.sum(self.predictions == classes(y_test)))


def missing_optimizer(lesson: Lesson) -> str | None:
    """Why the lesson's optimizer cannot run here (the reference does not have it), or None."""
    if lesson.optimizer in OPTIMIZERS:
        return None
    return (f"needs the {lesson.optimizer!r} optimizer, which the reference does not have yet "
            f"(it comes with issue #3, the optimizers)")


def not_trained(lesson: Lesson) -> str | None:
    """Why the ``training`` check does not apply to the lesson, or None."""
    if lesson.epochs == 0:
        return "the lesson does not train (epochs=0): it is about the network at its initial weights"
    return missing_optimizer(lesson)


def reference_optimizer(lesson: Lesson, framework: str = "torch"):
    """The lesson's optimizer in the reference, following ``framework``'s formulas where the two
    frameworks differ (``CONVENTIONS`` in ``reference/optimizers.py``: Adam's epsilon, momentum's sign, ...),
    and the lesson's learning-rate schedule if it has one (``cases.lesson_optimizer``)."""
    return lesson_optimizer(lesson, lesson.optimizer, lesson.hyperparameters, framework)


def reference_run(lesson: Lesson, dtype: str, framework: str = "torch",
                  inputs: CaseInputs | None = None) -> TrainingRun:
    """The reference's run, in float64 on ``dtype``-rounded weights and data, following ``framework``'s
    conventions (its optimizer formulas, its BatchNorm running variance; torch's unless told).
    ``inputs``: the case's (``CaseInputs.build(lesson, dtype, initial=True)``, made here if not given).

    Not cached: a cached run would outlive a test that breaks the reference on purpose.
    """
    inputs = inputs or CaseInputs.build(lesson, dtype, initial=True)
    X, y = inputs.ref_X, inputs.ref_y
    model = reference_model(lesson, inputs.ref_params, convention=framework)
    every = checkpoints(lesson)
    snapshots = {0: {k: v.copy() for k, v in model.params.items()}}

    def keep(epoch, m):
        if epoch % every == 0 or epoch == lesson.epochs:
            snapshots[epoch] = {k: v.copy() for k, v in m.params.items()}

    started = time.perf_counter()
    # One BLAS thread: OpenBLAS's two threads made these tiny matmuls up to 100x slower
    # on a busy 2-core machine (keras-4-64-32-1: 40 ms per epoch instead of 0.4 ms).
    with threadpool_limits(limits=1, user_api="blas"):
        losses = fit(model, X, y, reference_optimizer(lesson, framework), lesson.epochs, lesson.batch_size,
                     on_epoch_end=keep, dropout_masks=masks_by_step(lesson))
        test_output = model.predict(rounded(lesson_test_data(lesson)[0], dtype))
    return TrainingRun("reference", dtype, losses, snapshots, test_output, time.perf_counter() - started)


def framework_run(lesson: Lesson, framework: str, dtype: str, inputs: CaseInputs | None = None) -> TrainingRun:
    """The framework's run, from the same initial weights, on its twin (built once per process).
    ``inputs``: as for ``reference_run``."""
    inputs = inputs or CaseInputs.build(lesson, dtype, initial=True)
    twin = get_twin(framework, lesson, dtype)
    twin.set_params(inputs.params)
    X, y = inputs.X, inputs.y
    start = twin.get_params()
    started = time.perf_counter()
    losses, snapshots = twin.fit(X, y, lesson.optimizer, lesson.hyperparameters, lesson.epochs,
                                 epoch_batches(lesson), checkpoints(lesson), dropout_masks=masks_by_step(lesson))
    seconds = time.perf_counter() - started
    snapshots = {0: start, **snapshots}
    test_output = twin.forward(lesson_test_data(lesson)[0], training=False)[f"a{lesson.n_layers}"]
    return TrainingRun(framework, dtype, np.asarray(losses), snapshots, test_output, seconds)


def _snapshot_items(run: TrainingRun) -> dict[str, np.ndarray]:
    return {f"{name} after epoch {epoch}": value
            for epoch, params in sorted(run.snapshots.items()) for name, value in params.items()}


def _last(losses: np.ndarray) -> float | None:
    return float(losses[-1]) if len(losses) else None


def compare_runs(lesson: Lesson, ref: TrainingRun, fw: TrainingRun,
                 tol_dtype: str | None = None) -> tuple[Comparison, dict]:
    """Compare two runs of ``lesson`` (see the module doc); also return what a reader wants to see.

    ``tol_dtype``: judge by another dtype's tolerance (a known difference's bound, ``known.py``).
    """
    y_test = lesson_test_data(lesson)[1]
    what = f"training of {lesson.name}-{fw.framework}-{fw.dtype}"
    tol = tolerance(tol_dtype, "training") if tol_dtype else tolerance(fw.dtype, "training", lesson)
    if fw.dtype == "float64":
        expected = {**_snapshot_items(ref), "loss curve": ref.losses, "predicted class": ref.predictions}
        actual = {**_snapshot_items(fw), "loss curve": fw.losses, "predicted class": fw.predictions}
    else:
        expected = {"correct test points": np.asarray(ref.correct(y_test))}
        actual = {"correct test points": np.asarray(fw.correct(y_test))}
    # same_items: a snapshot one run kept and the other did not is a failure, not a gap in the comparison
    result = compare(actual, expected, atol=tol.atol, rtol=tol.rtol, what=what, same_items=True)
    final = ref.params
    info = {
        "epochs": lesson.epochs,
        "test points": int(len(y_test)),
        "reference": {"final loss": _last(ref.losses), "correct": ref.correct(y_test)},
        fw.framework: {"final loss": _last(fw.losses), "correct": fw.correct(y_test),
                       "seconds": round(fw.seconds, 3)},
        "greatest parameter difference": max(
            (float(np.max(np.abs(fw.params[k] - final[k]))) for k in final), default=0.0),
    }
    return result, info


def compare_training(lesson: Lesson | str, framework: str, dtype: str,
                     tol_dtype: str | None = None) -> tuple[Comparison, dict]:
    """The ``training`` check for one case: both runs, compared (``tol_dtype``: see ``compare_runs``)."""
    lesson = get_lesson(lesson) if isinstance(lesson, str) else lesson
    inputs = CaseInputs.build(lesson, dtype, initial=True)  # made once, handed to both sides
    return compare_runs(lesson, reference_run(lesson, dtype, framework, inputs),
                        framework_run(lesson, framework, dtype, inputs), tol_dtype)
