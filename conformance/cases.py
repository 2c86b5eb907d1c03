"""A case and everything it is run from, built once: what both sides, the probes and the walk share.

A **case** is one (lesson, framework, dtype), optionally with a named optimizer
setting in place of the lesson's (``nnparity run --optimizer``). Its **inputs**
(``CaseInputs``) are made once: the lesson's weights and data as the framework
receives them (float64, rounded by the framework to the dtype it runs in), the same
rounded to ``dtype`` and held in float64 as the reference receives them, the
optimizer, the mini-batches and the dropout masks. The reference network of the
case (``reference_model``) follows the framework's conventions where the two
frameworks differ and no setting makes them agree:

- BatchNorm's running variance (``reference/batchnorm.py``);
- a cross-entropy computed from the probabilities or from the logits, and how a
  probability of 0 or 1 is clipped (``LOSS_CONVENTIONS`` below);
- an optimizer's formula (``reference/optimizers.py``, through ``convention_of``).

For float32 the reference runs in float64 on the float32-rounded weights and
data, so a comparison measures the framework's float32 rounding alone.

Cross-entropy conventions at a saturated output (a logit of +-40, a probability of
exactly 0 or 1; measured in docs/conventions.md#cross-entropy and ``conformance/tests/test_edges.py``)::

    loss  framework     computes                                          reference
    bce   torch         nn.BCELoss(sigmoid(z)): log clamped at -100       BCE(convention="torch"), unfused
    bce   keras         the logits the sigmoid attached (_keras_logits)   fused: BCE-with-logits
    bce   keras-jax     p clipped to [1e-7, 1 - 1e-7] (no logits on JAX)  BCE(convention="keras"), unfused
    bce   keras-torch   p clipped to [1e-7, 1 - 1e-7], then torch BCE     BCE(convention="keras"), unfused
    cce   torch         nn.CrossEntropyLoss(z): from the logits           fused: CCE-with-logits
    cce   keras         the logits the softmax attached                   fused
    cce   keras-jax     p / sum(p), clipped                               CCE(convention="keras"), unfused
    cce   keras-torch   p / sum(p), clipped                               CCE(convention="keras"), unfused

Only Keras's TensorFlow backend reads ``_keras_logits`` (keras/src/backend/tensorflow/nn.py);
the JAX and torch backends clip the probabilities. Keras clips in the tensor's dtype,
so a float32 model clips at 1 - 1.19e-7 (``reference.losses.keras_clip_range``).

Dropout is random and the frameworks' generators differ, so all three sides apply
the same keep-masks (``conformance.lessons.dropout_masks``): one set per training
step, handed to the reference model and to the twins (``set_dropout_masks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from frameworks import convention_of, get_twin
from reference import (
    LOSSES,
    MLP,
    BatchNormConvention,
    Loss,
    MiniBatches,
    RegularizedMLP,
    get_optimizer,
)
from reference.batchnorm import get_convention as get_batchnorm_convention
from reference.loss_conventions import ClassWeightedCrossEntropy
from reference.training_conventions import ExponentialDecay, Scheduled

from .lessons import (
    Lesson,
    canonical_params,
    dropout_masks,
    initial_params,
    lesson_data,
)
from .optimizer_specs import get_optimizer_spec

DTYPES = ("float64", "float32")
TRAJECTORY_STEPS = (10, 100)  # the trajectory check compares the weights after each of these step counts

# loss -> framework -> (convention on probabilities, whether the logits are used when the
# last activation is the loss's own: sigmoid for bce, softmax for cce)
LOSS_CONVENTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "bce": {
        "torch": ("torch", False),
        "keras": ("keras", True),
        "keras-jax": ("keras", False),
        "keras-torch": ("keras", False),
    },
    "cce": {
        "torch": ("torch", True),
        "keras": ("keras", True),
        "keras-jax": ("keras", False),
        "keras-torch": ("keras", False),
    },
}


@dataclass(frozen=True)
class Case:
    lesson: str
    framework: str
    dtype: str
    optimizer: str | None = None  # a key of OPTIMIZER_SPECS in place of the lesson's optimizer

    @property
    def id(self) -> str:
        suffix = f"-{self.optimizer}" if self.optimizer else ""
        return f"{self.lesson}-{self.framework}-{self.dtype}{suffix}"


def all_cases(lessons, frameworks, dtypes, optimizers=(None,)) -> list[Case]:
    return [Case(lesson, fw, dt, opt) for lesson in lessons for fw in frameworks for dt in dtypes
            for opt in optimizers]


def rounded(array, dtype: str) -> np.ndarray:
    """``array`` rounded to ``dtype`` and held in float64: the reference's input for that dtype."""
    return np.asarray(array, dtype=dtype).astype(np.float64)


@dataclass(frozen=True)
class CaseInputs:
    """What one case runs from, made once and handed to both sides, the probes and the walk.

    ``params``, ``X``, ``y``: what the framework's twin receives (float64; the twin rounds them to
    its dtype). ``ref_params``, ``ref_X``, ``ref_y``: the same rounded to ``dtype`` and held in
    float64, what the reference receives. ``initial=True`` starts from the lesson's own initial
    weights (its initializer: the training and gradient-norm checks) instead of the canonical ones.
    """

    lesson: Lesson
    dtype: str
    params: dict
    X: np.ndarray
    y: np.ndarray
    ref_params: dict
    ref_X: np.ndarray
    ref_y: np.ndarray

    @classmethod
    def build(cls, lesson: Lesson, dtype: str, initial: bool = False) -> "CaseInputs":
        params = initial_params(lesson) if initial else canonical_params(lesson)
        X, y = lesson_data(lesson)
        return cls(lesson, dtype, params, X, y, {k: rounded(v, dtype) for k, v in params.items()},
                   rounded(X, dtype), rounded(y, dtype))

    def reference_model(self, framework: str | None, own_loss: bool = False) -> MLP:
        """A fresh reference network on ``ref_params`` with the first step's dropout masks set, following
        ``framework``'s optimizer and BatchNorm conventions and computing the loss as it does in ``dtype``;
        ``own_loss``: the reference's own loss instead (from the logits where it can: the training and
        gradient-norm checks)."""
        model = reference_model(self.lesson, self.ref_params, framework, self.dtype,
                                framework=None if own_loss else framework)
        share_dropout_masks(model, self.lesson, len(self.X))
        return model

    def twin(self, framework: str):
        """The framework's twin of the lesson (built once per process), loaded with ``params`` and the
        first step's dropout masks."""
        twin = get_twin(framework, self.lesson, self.dtype)
        twin.set_params(self.params)
        share_dropout_masks(twin, self.lesson, len(self.X))
        return twin

    def batches(self, steps: int) -> list[np.ndarray]:
        """The index arrays of the first ``steps`` training steps (``training_batches``)."""
        return training_batches(self.lesson, steps)


def case_inputs(lesson: Lesson, dtype: str):
    """(params, X, y) as the reference sees them for ``dtype`` (float64 holding ``dtype`` values)."""
    inputs = CaseInputs.build(lesson, dtype)
    return inputs.ref_params, inputs.ref_X, inputs.ref_y


def optimizer_of(lesson: Lesson, optimizer: str | None = None) -> tuple[str, dict]:
    """(reference optimizer name, hyper-parameters): the lesson's own, or the named spec's."""
    if optimizer is None:
        return lesson.optimizer, lesson.hyperparameters
    spec = get_optimizer_spec(optimizer)
    return spec.optimizer, spec.hyperparameters


def training_batches(lesson: Lesson, steps: int) -> list[np.ndarray]:
    """The index arrays of the first ``steps`` steps over the lesson's data (its batch_size; None: full batch)."""
    X, _ = lesson_data(lesson)
    return MiniBatches(len(X), lesson.batch_size, seed=lesson.seed).take(steps)


def trajectory_items(snapshots: dict[int, dict]) -> dict[str, np.ndarray]:
    """{k: {"W1": ...}} -> {"W1@k": ...}: the weights after k steps, named for the report."""
    return {f"{name}@{k}": value for k, params in snapshots.items() for name, value in params.items()}


def reference_loss(loss: str, framework: str | None, dtype: str = "float64") -> tuple[Loss | str, bool]:
    """(the reference's loss, fuse) that computes ``loss`` the way ``framework`` does in ``dtype``.

    Losses without a convention (mse, half_sse, the logits losses), and ``framework=None``,
    give the reference's own choice: the name, fused when it can be.
    """
    by_framework = LOSS_CONVENTIONS.get(loss)
    if by_framework is None or framework is None:
        return loss, True
    if framework not in by_framework:
        raise ValueError(f"no {loss} convention recorded for framework {framework!r}; "
                         f"expected one of {sorted(by_framework)} (conformance/cases.py)")
    convention, fuse = by_framework[framework]
    return LOSSES[loss](convention=convention, clip_dtype=dtype), fuse


def uses_probabilities(loss: str, framework: str, last_activation: str) -> bool:
    """True when ``framework`` computes ``loss`` from the probabilities (not the logits)."""
    by_framework = LOSS_CONVENTIONS.get(loss)
    if by_framework is None:
        return False
    _, fuse = by_framework[framework]
    return not (fuse and LOSSES[loss].fused_activation == last_activation)


def reference_model(lesson: Lesson, params, convention: str | None = None, loss_dtype: str = "float64",
                    framework: str | None = None, dtype: str = "float64") -> MLP:
    """The reference network of ``lesson``: an ``MLP``, or a ``RegularizedMLP``; float64 unless told.

    BatchNorm's running variance is each framework's own (``reference/batchnorm.py``),
    so a lesson with batchnorm needs the ``convention`` ("torch" or "keras", or a
    framework's name such as "keras-jax") to follow. ``framework``: compute the loss
    at saturated outputs as that framework does, in ``loss_dtype`` (``LOSS_CONVENTIONS``);
    None: the reference's own way (from the logits when it can).
    """
    loss, fuse = reference_loss(lesson.loss, framework, loss_dtype)
    if lesson.class_weights:  # both frameworks compute it from the softmax's logits (frameworks/*_twin.py)
        loss, fuse = ClassWeightedCrossEntropy(lesson.class_weights, lesson.class_weight_divisor), True
    if not lesson.regularized:
        return MLP(params, lesson.activations, loss, dtype=dtype, fuse=fuse)
    batchnorm = None
    if lesson.batchnorm:
        if convention is None:
            raise ValueError(f"lesson {lesson.name!r}: BatchNorm's running variance depends on the framework; "
                             "pass convention='torch' or 'keras'")
        batchnorm = BatchNormConvention(lesson.batchnorm_momentum, lesson.batchnorm_epsilon,
                                        get_batchnorm_convention(convention_of(convention)).running_variance)
    return RegularizedMLP(params, lesson.activations, loss, dtype=dtype, batchnorm=batchnorm,
                          dropout=lesson.dropout, kernel_l2=lesson.kernel_l2, fuse=fuse,
                          layernorm=lesson.layernorm_epsilon if lesson.layernorm else None)


def share_dropout_masks(model_or_twin, lesson: Lesson, n_samples: int, step: int = 0) -> None:
    """Hand the lesson's dropout masks for ``step`` to a reference model or a twin (nothing without dropout)."""
    if lesson.dropout:
        model_or_twin.set_dropout_masks(dropout_masks(lesson, n_samples, step))


def masks_by_step(lesson: Lesson) -> Callable[[int, int], dict] | None:
    """``(step, n_rows) -> the lesson's masks of that step``, for a training loop's ``dropout_masks``.

    None without dropout: the loops then set no masks at all.
    """
    if not lesson.dropout:
        return None
    return lambda step, n_rows: dropout_masks(lesson, n_rows, step)


def learning_rate_schedule(lesson: Lesson, learning_rate: float) -> ExponentialDecay | None:
    """The lesson's schedule (``Lesson.lr_schedule``) from ``learning_rate``, in float64; None without one."""
    if not lesson.lr_schedule:
        return None
    return ExponentialDecay(learning_rate, dtype="float64", **dict(lesson.lr_schedule))


def lesson_optimizer(lesson: Lesson, name: str, hyper: dict, framework: str):
    """The reference's optimizer ``name`` under ``framework``'s formulas, its learning rate following the
    lesson's schedule where it has one (``Scheduled``: set from the step count before every update)."""
    optimizer = get_optimizer(name, convention=convention_of(framework), **hyper)
    schedule = learning_rate_schedule(lesson, optimizer.learning_rate)
    return Scheduled(optimizer, schedule) if schedule else optimizer
