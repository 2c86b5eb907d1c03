"""The reference computing in float32 itself, against a framework in float32.

The lesson checks (``checks.py``) run the reference in float64 on float32-rounded
inputs, so that a comparison measures the framework's rounding alone. A learner
who writes ``MLP(..., dtype="float32")`` gets the reference's own float32 mode:
every array float32, as torch's and Keras's float32 models keep them. This module
runs that mode on a lesson and compares it with the framework's float32 run:
same weights, same data, both rounding to float32 at every operation.
"""

from __future__ import annotations

import numpy as np

from frameworks import convention_of
from reference import get_optimizer

from ..cases import optimizer_of, reference_model, share_dropout_masks
from ..checks import actual
from ..compare import Comparison, compare
from ..lessons import Lesson, canonical_params, lesson_data
from ..tolerances import tolerance

FLOAT32_CHECKS = ("forward", "loss", "gradients", "step")


def reference_in_float32(check: str, lesson: Lesson, framework: str, given: str = "float32") -> dict[str, np.ndarray]:
    """The reference's value of ``check`` for ``lesson``, computed in float32 (weights, data and every step).

    ``given``: the dtype of the weights and data handed to the reference. "float64" is what a
    learner's NumPy arrays are: the reference must round them to float32 itself.
    """
    params = {k: np.asarray(v, dtype=given) for k, v in canonical_params(lesson).items()}
    X, y = (np.asarray(a, dtype=given) for a in lesson_data(lesson))
    model = reference_model(lesson, params, convention=framework, loss_dtype="float32", framework=framework,
                            dtype="float32")
    share_dropout_masks(model, lesson, len(X))
    if check == "forward":
        model.forward(X)
        return model.trace()
    if check == "loss":
        return {"loss": np.asarray(model.loss_value(X, y), dtype=np.float32)}
    if check == "gradients":
        return model.gradients(X, y)
    if check == "step":
        name, hyper = optimizer_of(lesson)
        model.step(X, y, get_optimizer(name, convention=convention_of(framework), **hyper))
        return dict(model.params)
    raise ValueError(f"unknown check {check!r}; expected one of {FLOAT32_CHECKS}")


def compare_float32(check: str, lesson: Lesson, framework: str, given: str = "float32") -> Comparison:
    """The framework's float32 ``check`` against the reference's own float32 one.

    Every array of the reference must be float32 (``dtype=``): a float64 array
    would mean the reference left float32 somewhere. The loss is a Python float
    (``MLP.loss_value``), so its dtype is not checked.
    """
    tol = tolerance("float32", "reference", lesson)
    theirs = actual(check, lesson, framework, "float32")
    ours = reference_in_float32(check, lesson, framework, given)
    what = f"{check} of {lesson.name}-{framework}, the reference in float32 (given {given} arrays)"
    if check == "loss":
        return compare(theirs, ours, atol=tol.atol, rtol=tol.rtol, what=what)
    # the actual side of compare is the one whose dtype is checked: put the reference there
    return compare(ours, theirs, atol=tol.atol, rtol=tol.rtol, what=what, dtype="float32")
