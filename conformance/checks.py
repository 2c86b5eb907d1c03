"""The conformance checks, shared by ``nnparity run`` and the pytest suite.

A check takes one case (lesson, framework, dtype), computes a quantity with the
framework's twin and with the NumPy reference from the same canonical weights
and data, and compares the two through the one helper (``compare.py``):

- ``forward``: every layer's pre-activation ``z_l`` and activation ``a_l``
- ``loss``: the loss value
- ``gradients``: dL/dW and dL/db of every layer, and dL/dX
- ``step``: every parameter after one step of the lesson's optimizer
- ``training``: the lesson's whole training run (``training.py``)
- ``gradient_norms``: every layer's gradient norm and the first/last ratio (``gradient_norms.py``)

For float32 the reference runs in float64 on the float32-rounded weights and
data, so the comparison measures the framework's float32 rounding alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from frameworks import get_twin, unavailable_reason
from reference import MLP, get_optimizer

from .compare import Comparison, compare, tolerance
from .gradient_norms import compare_gradient_norms
from .lessons import Lesson, canonical_params, get_lesson, lesson_data
from .training import compare_training, missing_optimizer, not_trained

CHECKS = ("forward", "loss", "gradients", "step", "training", "gradient_norms")
# Checks with their own module: check -> function(lesson, framework, dtype) -> (Comparison, info).
OWN_MODULE_CHECKS = {"training": compare_training, "gradient_norms": compare_gradient_norms}
# check -> function(lesson) -> why the check does not apply to that lesson, or None.
NOT_APPLICABLE = {"step": missing_optimizer, "training": not_trained}
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
    info: dict = field(default_factory=dict)  # what the check measured besides the comparison
    skipped: str | None = None  # why the check does not apply to this case

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.comparison.passed

    def to_json(self) -> dict:
        c = self.comparison
        return {
            "lesson": self.case.lesson,
            "framework": self.case.framework,
            "dtype": self.case.dtype,
            "check": self.check,
            "passed": None if self.skipped else c.passed,
            "skipped": self.skipped,
            "max_abs_err": _finite_or_none(c.max_abs_err),
            "max_rel_err": _finite_or_none(c.max_rel_err),
            "atol": c.atol,
            "rtol": c.rtol,
            "worst": c.worst,
            "info": self.info,
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


def reference_model(lesson: Lesson, params) -> MLP:
    return MLP(params, lesson.activations, lesson.loss, dtype="float64")


def forward_trace(model_or_trace) -> dict[str, np.ndarray]:
    """{"z1", "a1", "z2", ...} from a reference MLP after ``forward``."""
    out = {}
    for i, z in enumerate(model_or_trace.z, start=1):
        out[f"z{i}"] = z
        out[f"a{i}"] = model_or_trace.a[i]
    return out


def expected(check: str, lesson: Lesson, dtype: str) -> dict[str, np.ndarray]:
    """The reference's value of ``check`` for ``lesson`` (always recomputed: it is cheap)."""
    params, X, y = case_inputs(lesson, dtype)
    model = reference_model(lesson, params)
    if check == "forward":
        model.forward(X)
        return forward_trace(model)
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
    if check == "forward":
        return twin.forward(X)
    if check == "loss":
        return {"loss": np.asarray(twin.loss(X, y))}
    if check == "gradients":
        return twin.gradients(X, y)
    if check == "step":
        return twin.step(X, y, lesson.optimizer, lesson.hyperparameters)
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def run_check(check: str, case: Case) -> CheckResult:
    """Run one check on one case. The framework must be available (see ``unavailable_reason``)."""
    lesson = get_lesson(case.lesson)
    tol = tolerance(case.dtype)
    why_not = NOT_APPLICABLE.get(check)
    reason = why_not(lesson) if why_not else None
    if reason:
        return CheckResult(case, check, Comparison(f"{check} of {case.id}", tol.atol, tol.rtol), skipped=reason)
    if check in OWN_MODULE_CHECKS:
        comparison, info = OWN_MODULE_CHECKS[check](case.lesson, case.framework, case.dtype)
        return CheckResult(case, check, comparison, info)
    result = compare(
        actual(check, lesson, case.framework, case.dtype),
        expected(check, lesson, case.dtype),
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
