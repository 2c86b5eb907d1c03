"""A script's BatchNorm and Dropout: the reference network that computes what the script's pass computed.

- **BatchNorm** (``reference_of``): the script's own epsilon (``eps``/``epsilon``), else the lesson's;
  a Dense bias the script does not have is 0; the running statistics do not enter a training pass.
- **LayerNorm** (``reference_of``): the lesson's epsilon, whatever the script's: the lesson gives it to
  both frameworks (their defaults differ, 1e-5 and 1e-3), so another one is a mistake, named by
  ``layernorm_read``.
- **Dropout** (``dropout_masks``): the script draws its own random mask, and nnparity reads it back
  from the array the loop kept: for each hidden layer, in order, an array of the layer's shape
  (N, units) holding only 0 and one other value c. Its zeros are the dropped units; c is the
  scale: 1 / (1 - p) for inverted dropout (PyTorch's and Keras's), whose p the reference then
  uses; c = 1 (a 0/1 or boolean mask) is dropout without the scale, checked against the lesson's
  rate, and named as the cause when the gradients diverge.
"""

from __future__ import annotations

import numpy as np

from conformance.cases import reference_model
from conformance.lessons import Lesson
from reference import BatchNormConvention, RegularizedMLP

from .calls import LearnerError
from .intermediates import _views


def reference_of(lesson: Lesson, params: dict, scalars: dict, dropout: tuple | None = None):
    """(the reference network from the script's starting weights, the BatchNorm or LayerNorm epsilon it uses or None).

    ``dropout``: (masks, rate) from ``dropout_masks``, for a lesson with dropout (module doc)."""
    if lesson.dropout:
        masks, rate = dropout if dropout is not None else (None, float(lesson.dropout))
        model = RegularizedMLP(params, lesson.activations, lesson.loss, dropout=rate)
        model.set_dropout_masks(masks)
        return model, None
    if lesson.layernorm:  # conformance.cases builds it with the lesson's epsilon
        return reference_model(lesson, params), float(lesson.layernorm_epsilon)
    if not lesson.batchnorm:
        return reference_model(lesson, params), None
    eps = next((scalars[n] for n in ("eps", "epsilon", "bn_eps", "bn_epsilon") if n in scalars),
               lesson.batchnorm_epsilon)
    full = dict(params)
    for layer in range(1, lesson.n_layers):
        units = lesson.sizes[layer]
        if lesson.use_bias:
            full.setdefault(f"b{layer}", np.zeros(units))
        full[f"moving_mean{layer}"], full[f"moving_variance{layer}"] = np.zeros(units), np.ones(units)
    convention = BatchNormConvention(lesson.batchnorm_momentum, float(eps), "unbiased")
    return RegularizedMLP(full, lesson.activations, lesson.loss, batchnorm=convention), float(eps)


def dropout_masks(records, lesson: Lesson, n: int) -> tuple[dict[str, np.ndarray], float, float]:
    """({"dropout1": keep-mask (n, units), ...}, the rate for the reference, the script's scale c)."""
    masks, scales, used = {}, [], set()
    for layer in range(1, lesson.n_layers):
        shape = (n, lesson.sizes[layer])
        for i, (label, _, value) in enumerate(records):
            views = _views(value, shape) if i not in used else []
            if not views:
                continue
            values = np.unique(views[0])
            if len(values) == 2 and values[0] == 0 and values[1] > 0:
                masks[f"dropout{layer}"], used = views[0] != 0, used | {i}
                scales.append(float(values[1]))
                break
        else:
            raise LearnerError(
                f"lesson {lesson.name} has dropout: nnparity reads the mask your loop drew from the array it keeps, "
                f"and found no array of shape {shape} (layer {layer}) holding only 0 and one other value. Keep each "
                f"mask in a variable: mask{layer} = (np.random.rand(*a{layer}.shape) > p) / (1 - p)")
    scale = scales[0]
    rate = 1 - 1 / scale if scale > 1 else float(lesson.dropout)
    return masks, rate, scale
