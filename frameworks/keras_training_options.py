"""What a lesson adds to Keras's loss and optimizer: the L2 penalty, class weights, a learning-rate schedule.

The class weights and the schedule are Keras's own built-ins, set so that they compute what the lesson
declares (``conformance/lessons.py``: ``class_weights``, ``class_weight_divisor``, ``lr_schedule``):

- class weights: ``fit(class_weight={c: w})`` makes every sample weigh its class's weight, and
  the loss's default reduction divides the weighted sum by N ("batch_size");
  ``reduction="mean_with_sample_weight"`` divides it by the weights' sum instead, torch's default
  ("sum_of_weights"). The twin hands the loss the same sample weights, ``y @ class_weight``.
- the schedule: ``optimizers.schedules.ExponentialDecay``, which Keras computes in the dtype of its
  ``initial_learning_rate`` made a tensor: given ``np.float64`` numbers, in float64, as the reference
  and torch's ``LambdaLR`` do (a Python float would make it float32, also in a float64 model:
  docs/conventions-training.md).
"""

from __future__ import annotations

# keras_config first: it sets KERAS_BACKEND, TensorFlow's flags and JAX's float64 before Keras loads.
from .keras_config import keras  # isort: skip

import numpy as np
from keras import ops

# A lesson's class_weight_divisor -> the reduction of Keras's loss that divides by it.
CLASS_WEIGHT_REDUCTIONS = {"batch_size": "sum_over_batch_size", "sum_of_weights": "mean_with_sample_weight"}


def class_weighted_cross_entropy(class_weight, divisor: str):
    """loss(y, p): ``CategoricalCrossentropy`` with each sample weighed by its class's weight, the sample
    weights ``fit(class_weight=...)`` makes (one-hot y: y @ class_weight is exactly its class's weight),
    divided as ``divisor`` says (``CLASS_WEIGHT_REDUCTIONS``). Made under the twin's dtype policy."""
    loss_fn = keras.losses.CategoricalCrossentropy(reduction=CLASS_WEIGHT_REDUCTIONS[divisor])
    weights = np.asarray(class_weight, dtype=np.float64)
    return lambda y, p: loss_fn(y, p, sample_weight=ops.matmul(y, ops.cast(weights, y.dtype)))


def exponential_decay(learning_rate, settings, number=float):
    """``ExponentialDecay(learning_rate, decay_steps, decay_rate, staircase)`` from a lesson's ``lr_schedule``;
    ``number`` makes the decay rate the type of ``learning_rate`` (``keras_arguments.keras_value``)."""
    settings = dict(settings)
    return keras.optimizers.schedules.ExponentialDecay(
        learning_rate, settings["decay_steps"], number(settings["decay_rate"]),
        staircase=settings.get("staircase", False))


def with_regularization_losses(loss_fn, model):
    """loss_fn(y, p) + sum(model.losses): what ``fit`` adds by itself, and a GradientTape loop must add.

    ``model.losses`` computes each ``kernel_regularizer`` when read, so reading it
    inside the tape puts the penalty's gradient in ``tape.gradient``.
    """
    return lambda y, p: loss_fn(y, p) + sum(model.losses)
