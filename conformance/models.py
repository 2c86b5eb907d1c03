"""The reference network of a lesson, as every check builds it, and the dropout masks it shares.

A lesson without regularizers is a plain ``reference.MLP``; a lesson with
dropout, BatchNorm or an L2 penalty (``Lesson.regularized``) is a
``reference.RegularizedMLP``. Every check, the training run, the first-divergence
walk, ``nnparity show`` and the plots build the reference here, so a new kind of
layer is wired in once.

Dropout is random, and the frameworks' generators differ, so the three sides
apply the same keep-masks, drawn by ``conformance.lessons.dropout_masks``: one
set per training step, handed to the reference model and to the twins
(``set_dropout_masks``) before the step.
"""

from __future__ import annotations

from typing import Callable

from frameworks import convention_of
from reference import MLP, BatchNormConvention, RegularizedMLP
from reference.batchnorm import get_convention as get_batchnorm_convention

from .lessons import Lesson, dropout_masks
from .loss_conventions import reference_loss


def reference_model(lesson: Lesson, params, convention: str | None = None, loss_dtype: str = "float64",
                    framework: str | None = None, dtype: str = "float64") -> MLP:
    """The reference network of ``lesson``: an ``MLP``, or a ``RegularizedMLP``; float64 unless told.

    BatchNorm's running variance is each framework's own (``reference/batchnorm.py``),
    so a lesson with batchnorm needs the ``convention`` ("torch" or "keras", or a
    framework's name such as "keras-jax") to follow. ``framework``: compute the loss
    at saturated outputs as that framework does, in ``loss_dtype``
    (``loss_conventions.py``); None: the reference's own way (from the logits when it can).
    """
    loss, fuse = reference_loss(lesson.loss, framework, loss_dtype)
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
                          dropout=lesson.dropout, kernel_l2=lesson.kernel_l2, fuse=fuse)


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
