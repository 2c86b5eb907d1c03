"""The check registry, shared by ``nnparity run`` and the pytest suite.

A check takes one case (lesson, framework, dtype: ``cases.Case``), computes a
quantity with the framework's twin and with the NumPy reference from the same
inputs (``cases.CaseInputs``, built once per case) and compares the two through
the one helper (``compare.py``) at the tolerance the one table gives
(``tolerances.py``). Each check is one record, ``Check``, in ``REGISTRY``:

    name            reference gives                 a twin gives            tolerance rows
    forward         step_level.forward_reference    forward_twin            the case's
    loss            ...                                                     the case's
    gradients                                                               the case's
    step            (not for a lesson whose optimizer the reference lacks)  the case's
    trajectory      the weights after 10 and 100 steps                      trajectory@10, trajectory@100
    training        the whole run, compared by training.py itself (compare_training)
    gradient_norms  the gradient norms, compared by gradient_norms.py itself

Every array must come back in the dtype asked for. A failure that a known
difference explains (``known/``) is named in ``CheckResult.known``; a check a
framework cannot run, or that does not apply to a lesson, is skipped with the
reason. ``run_check`` is the one loop: it names no check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from frameworks import convention_of, unavailable_reason

from ..cases import (
    DTYPES,
    TRAJECTORY_STEPS,
    Case,
    CaseInputs,
    all_cases,
)
from ..compare import Comparison, compare, merge
from ..known import explaining_difference
from ..lessons import Lesson, get_lesson
from ..magnitudes import magnitudes
from ..optimizer_specs import refused_by
from ..tolerances import tolerance
from . import step_level
from .gradient_norms import compare_gradient_norms
from .training import compare_training, missing_optimizer, not_trained


def _applies_always(lesson: Lesson) -> None:
    return None


# the whole training run is a compiled tf.function loop (frameworks/keras_fit.py)
KERAS_TF_ONLY = {fw: "the whole training run is a compiled tf.function loop (frameworks/keras_fit.py), "
                 "on Keras's TensorFlow backend only" for fw in ("keras-jax", "keras-torch")}


@dataclass(frozen=True)
class Check:
    """One check: what the reference gives and what a twin gives (or a comparison of its own), where it
    applies, and the tolerance rows it is held to."""

    name: str
    reference: Callable | None = None  # (inputs, framework, optimizer) -> {name: array}
    twin: Callable | None = None  # (twin, inputs, optimizer) -> {name: array}
    snapshots: tuple[int, ...] = ()  # items named "<name>@K", each held to the row "<check>@K"
    applies: Callable[[Lesson], str | None] = _applies_always  # why it does not apply to a lesson, or None
    unsupported: dict = field(default_factory=dict)  # framework -> why its twin cannot run the check
    # a check that runs and compares itself: (lesson, framework, dtype, tol_dtype) -> (Comparison, info)
    compares: Callable | None = None
    # its reference takes optimizer steps, by the formula of a framework's convention ("torch" or "keras")
    steps: bool = False

    def compare(self, actual: dict, expected: dict, lesson: Lesson, dtype: str, what: str,
                tol_dtype: str | None = None, scale: dict | None = None) -> Comparison:
        """``compare`` at the case's rows: one row, or each snapshot at its own (``trajectory@K``).

        Every array must have ``dtype``. ``tol_dtype`` takes another dtype's rows (a known
        difference's bound, with the dtype left unchecked); ``scale``: see compare.py.
        """
        check_dtype = dtype if tol_dtype is None else None
        tol_dtype = tol_dtype or dtype
        if not self.snapshots:
            tol = tolerance(tol_dtype, self.name, lesson)
            return compare(actual, expected, atol=tol.atol, rtol=tol.rtol, what=what, dtype=check_dtype, scale=scale)
        parts = []
        for k in self.snapshots:
            tol = tolerance(tol_dtype, f"{self.name}@{k}", lesson)
            mine = {name: value for name, value in expected.items() if name.endswith(f"@{k}")}
            parts.append(compare(actual, mine, atol=tol.atol, rtol=tol.rtol, what=what, dtype=check_dtype))
        return merge(what, parts)


REGISTRY: dict[str, Check] = {c.name: c for c in (
    Check("forward", step_level.forward_reference, step_level.forward_twin),
    Check("loss", step_level.loss_reference, step_level.loss_twin),
    Check("gradients", step_level.gradients_reference, step_level.gradients_twin),
    Check("step", step_level.step_reference, step_level.step_twin, applies=missing_optimizer, steps=True),
    Check("trajectory", step_level.trajectory_reference, step_level.trajectory_twin, snapshots=TRAJECTORY_STEPS,
          steps=True),
    Check("training", applies=not_trained, unsupported=KERAS_TF_ONLY, compares=compare_training),
    Check("gradient_norms", compares=compare_gradient_norms),
)}
CHECKS = tuple(REGISTRY)


def get_check(name: str) -> Check:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown check {name!r}; expected one of {CHECKS}") from None


@dataclass
class CheckResult:
    case: Case
    check: str
    comparison: Comparison
    info: dict = field(default_factory=dict)  # what the check measured besides the comparison
    skipped: str | None = None  # why the check does not apply to this case
    known: str | None = None  # the known difference (known/) that explains a failure

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.comparison.passed

    @property
    def status(self) -> str:
        """passed, skipped, known (failed as a known difference explains) or failed."""
        if self.skipped:
            return "skipped"
        return "passed" if self.passed else ("known" if self.known else "failed")

    def to_json(self) -> dict:
        c = self.comparison
        return {
            "lesson": self.case.lesson,
            "framework": self.case.framework,
            "dtype": self.case.dtype,
            "check": self.check,
            **({"optimizer": self.case.optimizer} if self.case.optimizer else {}),
            "passed": None if self.skipped else c.passed,
            "skipped": self.skipped,
            "max_abs_err": _finite_or_none(c.max_abs_err),
            "max_rel_err": _finite_or_none(c.max_rel_err),
            "atol": c.atol,
            "rtol": c.rtol,
            "worst": c.worst,
            "info": self.info,
            "known": self.known,
        }


def _finite_or_none(x: float):
    return x if math.isfinite(x) else None


def expected(check: str, lesson: Lesson, dtype: str, convention: str | None = None,
             optimizer: str | None = None) -> dict:
    """The reference's value of a step-level ``check`` for ``lesson`` (always recomputed: it is cheap).

    ``step`` and ``trajectory`` need the ``convention`` ("torch" or "keras": the framework whose
    optimizer formula to follow, and whose BatchNorm running variance, which no setting makes
    agree); ``optimizer`` names a spec that replaces the lesson's optimizer.
    """
    record = get_check(check)
    if record.reference is None:
        raise ValueError(f"check {check!r} compares itself; expected one of the step-level checks")
    if convention is None and record.steps:
        raise ValueError(f"expected({check!r}): the optimizer's formula depends on the framework; "
                         "pass convention='torch' or 'keras'")
    return record.reference(CaseInputs.build(lesson, dtype), convention, optimizer)


def actual(check: str, lesson: Lesson, framework: str, dtype: str, optimizer: str | None = None) -> dict:
    """The framework's value of a step-level ``check``, from the canonical weights (reloaded every time)."""
    inputs = CaseInputs.build(lesson, dtype)
    return get_check(check).twin(inputs.twin(framework), inputs, optimizer)


def run_check(check: str, case: Case, lesson: Lesson | None = None, scaled: bool = False) -> CheckResult:
    """Run one check on one case. The framework must be available (see ``unavailable_reason``).

    ``lesson`` defaults to the catalog's ``case.lesson`` (pass one to check a lesson
    declared elsewhere, as the property-based tests do). ``scaled``: hold each element
    to atol times the size of the numbers that made it (``magnitudes.py``), for
    inputs of any magnitude.
    """
    lesson = lesson or get_lesson(case.lesson)
    record = get_check(check)
    reason = record.unsupported.get(case.framework) or record.applies(lesson)
    if not reason and record.steps and case.optimizer:  # a setting the framework refuses (nadam-torch in Keras)
        reason = refused_by(case.optimizer, convention_of(case.framework))
    if reason:
        tol = tolerance(case.dtype, None, lesson)
        return CheckResult(case, check, Comparison(f"{check} of {case.id}", tol.atol, tol.rtol), skipped=reason)
    if record.compares is not None:
        comparison, info = record.compares(lesson, case.framework, case.dtype)
        known, evidence = explaining_difference(lesson, case, check, comparison, lambda difference: record.compares(
            lesson, case.framework, case.dtype, tol_dtype=difference.bound)[0].passed)
        return CheckResult(case, check, comparison, {**info, **evidence}, known=known)
    inputs = CaseInputs.build(lesson, case.dtype)
    got = record.twin(inputs.twin(case.framework), inputs, case.optimizer)
    # the framework names its convention: the reference follows that framework's formulas
    want = record.reference(inputs, case.framework, case.optimizer)
    what = f"{check} of {case.id}"

    def scale_for(dtype: str):
        # A known difference computes in its bound's precision (float32): a value under its smallest normal
        # underflows there, so the magnitudes' floor is the bound's tiny / eps (magnitudes.py).
        if not scaled:
            return None
        model = inputs.reference_model(case.framework)
        return magnitudes(check, lesson, model, inputs.ref_params, inputs.ref_X, inputs.ref_y, dtype)

    result = record.compare(got, want, lesson, case.dtype, what, scale=scale_for(case.dtype))
    known, info = explaining_difference(lesson, case, check, result, lambda difference: record.compare(
        got, want, lesson, case.dtype, what, tol_dtype=difference.bound, scale=scale_for(difference.bound)).passed,
        inputs)
    return CheckResult(case, check, result, info, known=known)


__all__ = [
    "CHECKS", "REGISTRY", "DTYPES", "TRAJECTORY_STEPS", "Case", "Check", "CheckResult", "get_check", "run_check",
    "expected", "actual", "all_cases", "unavailable_reason",
]
