"""The ``gradient_norms`` check: the size of every layer's gradient, and the vanishing gradient.

At the lesson's own initial weights (``initial_params``: its initializer, its
biases), on its whole training set, each side computes every layer's
gradient norm ``|dW_l| = sqrt(sum(dL/dW_l ** 2))`` (Frobenius), and the ratio
of the first layer's to the last layer's::

    vanishing = |dW_1| / |dW_L|

Backpropagation multiplies the gradient by ``f'(z) * W`` once per layer. A
sigmoid's derivative is at most 0.25, so through ten sigmoid layers the first
layer's gradient is about a million times smaller than the last one's
(deep-sigmoid: about 1e-6), while ReLU with He init keeps it of the same order
(deep-relu: about 0.2). The norms and the ratio are compared to the
reference's through ``compare.py`` with a relative tolerance
(its rows in ``tolerances.py``), since a vanishing norm is tiny by design.

PyTorch: ``[p.grad.norm() for p in weights]`` after ``loss.backward()``.
Keras: ``[ops.norm(g) for g in tape.gradient(loss, kernels)]``.
"""

from __future__ import annotations

import numpy as np

from ..cases import CaseInputs
from ..compare import Comparison, compare
from ..lessons import Lesson, get_lesson
from ..tolerances import tolerance


def ratio_name(lesson: Lesson) -> str:
    return f"|dW1| / |dW{lesson.n_layers}|"


def gradient_norms(grads: dict[str, np.ndarray], lesson: Lesson) -> dict[str, np.ndarray]:
    """{"|dW1|": ..., "|dW2|": ..., "|dW1| / |dWL|": ...} from one side's gradients."""
    norms = {f"|dW{l}|": np.linalg.norm(np.asarray(grads[f"W{l}"], dtype=np.float64))
             for l in range(1, lesson.n_layers + 1)}
    norms[ratio_name(lesson)] = norms["|dW1|"] / norms[f"|dW{lesson.n_layers}|"]
    return {k: np.asarray(v) for k, v in norms.items()}


def compare_gradient_norms(lesson: Lesson | str, framework: str, dtype: str,
                           tol_dtype: str | None = None) -> tuple[Comparison, dict]:
    """The ``gradient_norms`` check for one case, and the ratio each side measured.

    A lesson with regularizers: in training mode, the first step's dropout masks on both sides.
    ``tol_dtype``: judge by another dtype's tolerance (a known difference's bound, ``known.py``).
    """
    lesson = get_lesson(lesson) if isinstance(lesson, str) else lesson
    inputs = CaseInputs.build(lesson, dtype, initial=True)  # the lesson's own initial weights, once for both
    model = inputs.reference_model(framework, own_loss=True)
    expected = gradient_norms(model.gradients(inputs.ref_X, inputs.ref_y), lesson)
    actual = gradient_norms(inputs.twin(framework).gradients(inputs.X, inputs.y), lesson)
    tol = tolerance(tol_dtype or dtype, "gradient_norms")
    result = compare(actual, expected, atol=tol.atol, rtol=tol.rtol,
                     what=f"gradient_norms of {lesson.name}-{framework}-{dtype}")
    name = ratio_name(lesson)
    info = {"ratio": name, "reference": float(expected[name]), framework: float(actual[name])}
    return result, info
