"""The conformance checks, shared by ``nnparity run`` and the pytest suite.

A check takes one case (lesson, framework, dtype), computes a quantity with the
framework's twin and with the NumPy reference from the same canonical weights
and data, and compares the two through the one helper (``compare.py``):

- ``forward``: every layer's pre-activation ``z_l`` and activation ``a_l``
- ``loss``: the loss value
- ``gradients``: dL/dW and dL/db of every layer, and dL/dX
- ``step``: every parameter after one step of the lesson's optimizer

For float32 the reference runs in float64 on the float32-rounded weights and
data, so the comparison measures the framework's float32 rounding alone. Where
frameworks compute a loss differently at saturated outputs, the reference takes
each framework's own convention (``conventions.py``). Every array must also come
back in the dtype asked for. A failure that a known difference explains (``known.py``)
is named in ``CheckResult.known``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from frameworks import get_twin, unavailable_reason
from reference import MLP, get_optimizer

from .compare import Comparison, compare, tolerance
from .conventions import reference_loss
from .known import known_difference
from .lessons import Lesson, canonical_params, get_lesson, lesson_data
from .magnitudes import magnitudes

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
    known: str | None = None  # the known difference (known.py) that explains a failure

    @property
    def passed(self) -> bool:
        return self.comparison.passed

    @property
    def status(self) -> str:
        """passed, known (failed as a known difference explains) or failed."""
        return "passed" if self.passed else ("known" if self.known else "failed")

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
            "known": self.known,
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


def reference_model(lesson: Lesson, params, framework: str | None = None, dtype: str = "float64") -> MLP:
    """The reference MLP, computing the loss the way ``framework`` does in ``dtype`` (conventions.py)."""
    loss, fuse = reference_loss(lesson.loss, framework, dtype)
    return MLP(params, lesson.activations, loss, dtype="float64", fuse=fuse)


def forward_trace(model_or_trace) -> dict[str, np.ndarray]:
    """{"z1", "a1", "z2", ...} from a reference MLP after ``forward``."""
    out = {}
    for i, z in enumerate(model_or_trace.z, start=1):
        out[f"z{i}"] = z
        out[f"a{i}"] = model_or_trace.a[i]
    return out


def expected(check: str, lesson: Lesson, dtype: str, framework: str | None = None) -> dict[str, np.ndarray]:
    """The reference's value of ``check`` for ``lesson``, with ``framework``'s loss convention."""
    params, X, y = case_inputs(lesson, dtype)
    model = reference_model(lesson, params, framework, dtype)
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
        return {"loss": twin.loss(X, y)}  # as returned: a NumPy scalar keeps its dtype for the check
    if check == "gradients":
        return twin.gradients(X, y)
    if check == "step":
        return twin.step(X, y, lesson.optimizer, lesson.hyperparameters)
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def run_check(check: str, case: Case, lesson: Lesson | None = None, scaled: bool = False) -> CheckResult:
    """Run one check on one case. The framework must be available (see ``unavailable_reason``).

    ``lesson`` defaults to the catalog's ``case.lesson`` (pass one to check a lesson
    declared elsewhere, as the property-based tests do). ``scaled``: hold each element
    to atol times the size of the numbers that made it (``magnitudes.py``), for
    inputs of any magnitude.
    """
    lesson = lesson or get_lesson(case.lesson)
    tol = tolerance(case.dtype)
    got = actual(check, lesson, case.framework, case.dtype)
    want = expected(check, lesson, case.dtype, case.framework)
    scale = None
    if scaled:
        params, X, y = case_inputs(lesson, case.dtype)
        model = reference_model(lesson, params, case.framework, case.dtype)
        scale = magnitudes(check, lesson, model, params, X, y, case.dtype)
    result = compare(got, want, atol=tol.atol, rtol=tol.rtol, what=f"{check} of {case.id}", dtype=case.dtype,
                     scale=scale)
    known = None
    difference = None if result.passed else known_difference(case.framework, case.dtype)
    if difference is not None:
        bound = tolerance(difference.bound)
        if compare(got, want, atol=bound.atol, rtol=bound.rtol, scale=scale).passed:
            known = difference.name
    return CheckResult(case, check, result, known)


def all_cases(lessons, frameworks, dtypes) -> list[Case]:
    return [Case(lesson, fw, dt) for lesson in lessons for fw in frameworks for dt in dtypes]


__all__ = [
    "CHECKS", "DTYPES", "Case", "CheckResult", "run_check", "expected", "actual", "all_cases",
    "case_inputs", "unavailable_reason",
]
