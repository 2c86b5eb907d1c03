"""The conformance checks, shared by ``nnparity run`` and the pytest suite.

A check takes one case (lesson, framework, dtype), computes a quantity with the
framework's twin and with the NumPy reference from the same canonical weights
and data, and compares the two through the one helper (``compare.py``):

- ``forward``: every layer's pre-activation ``z_l`` and activation ``a_l``
- ``loss``: the loss value
- ``gradients``: dL/dW and dL/db of every layer, and dL/dX
- ``step``: every parameter after one step of the lesson's optimizer

For float32 the reference runs in float64 on the float32-rounded weights and
data, so the comparison measures the framework's float32 rounding alone.

Lessons with regularizers (``Lesson.regularized``) run in training mode: ``forward``
also compares BatchNorm's output ``bn{l}`` and Dropout's ``dropout{l}``; ``step``
also compares BatchNorm's running statistics, which the training forward moves by
the case's framework's convention; dropout masks are shared (``dropout_masks``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from frameworks import get_twin, unavailable_reason
from reference import MLP, BatchNormConvention, RegularizedMLP, get_optimizer
from reference.batchnorm import get_convention as get_batchnorm_convention

from .compare import Comparison, compare, tolerance
from .lessons import Lesson, canonical_params, dropout_masks, get_lesson, lesson_data

CHECKS = ("forward", "loss", "gradients", "step")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Case:
    lesson: str
    framework: str
    dtype: str

    @property
    def id(self) -> str:
        return f"{self.lesson}-{self.framework}-{self.dtype}"


@dataclass
class CheckResult:
    case: Case
    check: str
    comparison: Comparison

    @property
    def passed(self) -> bool:
        return self.comparison.passed

    def to_json(self) -> dict:
        c = self.comparison
        return {
            "lesson": self.case.lesson,
            "framework": self.case.framework,
            "dtype": self.case.dtype,
            "check": self.check,
            "passed": c.passed,
            "max_abs_err": _finite_or_none(c.max_abs_err),
            "max_rel_err": _finite_or_none(c.max_rel_err),
            "atol": c.atol,
            "rtol": c.rtol,
            "worst": c.worst,
        }


def _finite_or_none(x: float):
    return x if math.isfinite(x) else None


def _rounded(array, dtype: str) -> np.ndarray:
    """``array`` rounded to ``dtype`` and held in float64: the reference's input for that dtype."""
    return np.asarray(array, dtype=dtype).astype(np.float64)


def case_inputs(lesson: Lesson, dtype: str):
    """(params, X, y) as the reference sees them for ``dtype`` (float64 holding ``dtype`` values)."""
    params = {k: _rounded(v, dtype) for k, v in canonical_params(lesson).items()}
    X, y = lesson_data(lesson)
    return params, _rounded(X, dtype), _rounded(y, dtype)


def reference_model(lesson: Lesson, params, convention: str | None = None) -> MLP:
    """The reference network of ``lesson`` in float64: an ``MLP``, or a ``RegularizedMLP``.

    BatchNorm's running variance is each framework's own (``reference/batchnorm.py``),
    so a lesson with batchnorm needs the ``convention`` ("torch" or "keras") to follow.
    """
    if not lesson.regularized:
        return MLP(params, lesson.activations, lesson.loss, dtype="float64")
    batchnorm = None
    if lesson.batchnorm:
        if convention is None:
            raise ValueError(f"lesson {lesson.name!r}: BatchNorm's running variance depends on the framework; "
                             "pass convention='torch' or 'keras'")
        batchnorm = BatchNormConvention(lesson.batchnorm_momentum, lesson.batchnorm_epsilon,
                                        get_batchnorm_convention(convention).running_variance)
    return RegularizedMLP(params, lesson.activations, lesson.loss, dtype="float64", batchnorm=batchnorm,
                          dropout=lesson.dropout, kernel_l2=lesson.kernel_l2)


def share_dropout_masks(model_or_twin, lesson: Lesson, n_samples: int, step: int = 0) -> None:
    """Hand the lesson's dropout masks for ``step`` to a reference model or a twin (nothing without dropout)."""
    if lesson.dropout:
        model_or_twin.set_dropout_masks(dropout_masks(lesson, n_samples, step))


def forward_trace(model_or_trace) -> dict[str, np.ndarray]:
    """{"z1", "a1", "z2", ...} from a reference MLP after ``forward``."""
    out = {}
    for i, z in enumerate(model_or_trace.z, start=1):
        out[f"z{i}"] = z
        out[f"a{i}"] = model_or_trace.a[i]
    return out


def expected(check: str, lesson: Lesson, dtype: str, convention: str | None = None) -> dict[str, np.ndarray]:
    """The reference's value of ``check`` for ``lesson`` (always recomputed: it is cheap).

    ``convention`` ("torch" or "keras") is the framework whose conventions the
    reference follows where they cannot be configured away (BatchNorm's running variance).
    """
    params, X, y = case_inputs(lesson, dtype)
    model = reference_model(lesson, params, convention)
    share_dropout_masks(model, lesson, len(X))
    if check == "forward":
        model.forward(X)
        return model.trace() if lesson.regularized else forward_trace(model)
    if check == "loss":
        return {"loss": np.asarray(model.loss_value(X, y))}
    if check == "gradients":
        return model.gradients(X, y)
    if check == "step":
        model.step(X, y, get_optimizer(lesson.optimizer, **lesson.hyperparameters))
        return dict(model.params)
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def actual(check: str, lesson: Lesson, framework: str, dtype: str) -> dict[str, np.ndarray]:
    """The framework's value of ``check``, from the canonical weights (reloaded every time)."""
    twin = get_twin(framework, lesson, dtype)
    twin.set_params(canonical_params(lesson))
    X, y = lesson_data(lesson)
    share_dropout_masks(twin, lesson, len(X))
    if check == "forward":
        return twin.forward(X)
    if check == "loss":
        return {"loss": np.asarray(twin.loss(X, y))}
    if check == "gradients":
        return twin.gradients(X, y)
    if check == "step":
        return twin.step(X, y, lesson.optimizer, lesson.hyperparameters)
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def case_tolerance(lesson: Lesson, dtype: str):
    """The dtype's tolerance, or its BatchNorm row for a lesson with BatchNorm (``compare.TOLERANCES``)."""
    return tolerance(f"{dtype} batchnorm" if lesson.batchnorm else dtype)


def run_check(check: str, case: Case) -> CheckResult:
    """Run one check on one case. The framework must be available (see ``unavailable_reason``)."""
    lesson = get_lesson(case.lesson)
    tol = case_tolerance(lesson, case.dtype)
    result = compare(
        actual(check, lesson, case.framework, case.dtype),
        expected(check, lesson, case.dtype, convention=case.framework),
        atol=tol.atol,
        rtol=tol.rtol,
        what=f"{check} of {case.id}",
    )
    return CheckResult(case, check, result)


def all_cases(lessons, frameworks, dtypes) -> list[Case]:
    return [Case(lesson, fw, dt) for lesson in lessons for fw in frameworks for dt in dtypes]


__all__ = [
    "CHECKS", "DTYPES", "Case", "CheckResult", "run_check", "expected", "actual", "all_cases",
    "case_inputs", "unavailable_reason",
]
