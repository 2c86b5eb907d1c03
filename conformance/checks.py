"""The conformance checks, shared by ``nnparity run`` and the pytest suite.

A check takes one case (lesson, framework, dtype), computes a quantity with the
framework's twin and with the NumPy reference from the same canonical weights
and data, and compares the two through the one helper (``compare.py``):

- ``forward``: every layer's pre-activation ``z_l`` and activation ``a_l``
- ``loss``: the loss value
- ``gradients``: dL/dW and dL/db of every layer, and dL/dX
- ``step``: every parameter after one step of the lesson's optimizer, on the full batch
- ``trajectory``: every parameter after 10 and after 100 steps (``TRAJECTORY_STEPS``),
  over the lesson's mini-batches (``reference.MiniBatches``, the same for all three)
- ``training``: the lesson's whole training run (``training.py``)
- ``gradient_norms``: every layer's gradient norm and the first/last ratio (``gradient_norms.py``)

``step`` and ``trajectory`` use the lesson's optimizer, or the named setting of
``optimizer_specs.py`` when the case names one (``nnparity run --optimizer``).
The reference follows the case's framework's convention (``reference/optimizers.py``):
torch's formula for the torch twin, Keras's for the Keras twin.

For float32 the reference runs in float64 on the float32-rounded weights and
data, so the comparison measures the framework's float32 rounding alone. Where
frameworks compute a loss differently at saturated outputs, the reference takes
each framework's own convention (``loss_conventions.py``); Keras on every backend follows
Keras's optimizer and BatchNorm formulas (``frameworks.convention_of``). Every array
must also come back in the dtype asked for. A failure that a known difference
explains (``known.py``) is named in ``CheckResult.known``; a check a framework
cannot run is skipped with the reason (``UNSUPPORTED``).

Lessons with regularizers (``Lesson.regularized``) run in training mode, on the
reference network ``models.reference_model`` builds: ``forward`` also compares
BatchNorm's output ``bn{l}`` and Dropout's ``dropout{l}``; ``step`` also compares
BatchNorm's running statistics, which the training forward moves by the case's
framework's convention; dropout masks are shared (``models.share_dropout_masks``;
one set per step in the ``training`` check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from frameworks import convention_of, get_twin, unavailable_reason
from reference import MiniBatches, get_optimizer

from .compare import TOLERANCES, Comparison, compare, merge, tolerance
from .gradient_norms import compare_gradient_norms
from .known import known_differences
from .lessons import Lesson, canonical_params, get_lesson, lesson_data
from .magnitudes import magnitudes
from .models import masks_by_step, reference_model, share_dropout_masks
from .optimizer_specs import get_optimizer_spec
from .training import compare_training, missing_optimizer, not_trained

CHECKS = ("forward", "loss", "gradients", "step", "trajectory", "training", "gradient_norms")
# Checks with their own module: check -> function(lesson, framework, dtype, tol_dtype=None) -> (Comparison, info).
OWN_MODULE_CHECKS = {"training": compare_training, "gradient_norms": compare_gradient_norms}
# check -> function(lesson) -> why the check does not apply to that lesson, or None.
NOT_APPLICABLE = {"step": missing_optimizer, "training": not_trained}
# (check, framework) -> why that framework's twin cannot run the check
UNSUPPORTED = {
    **{("training", fw): "the whole training run is a compiled tf.function loop (frameworks/keras_fit.py), "
       "on Keras's TensorFlow backend only" for fw in ("keras-jax", "keras-torch")},
    # the first-divergence walk (divergence.py) needs every layer's dL/dz: Twin.dz, by tf.GradientTape
    **{("walk", fw): "the walk's dL/dz of every layer is taken with tf.GradientTape, on Keras's TensorFlow "
       "backend only" for fw in ("keras-jax", "keras-torch")},
}
DTYPES = ("float64", "float32")
TRAJECTORY_STEPS = (10, 100)  # the trajectory check compares the weights after each of these step counts


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


@dataclass
class CheckResult:
    case: Case
    check: str
    comparison: Comparison
    info: dict = field(default_factory=dict)  # what the check measured besides the comparison
    skipped: str | None = None  # why the check does not apply to this case
    known: str | None = None  # the known difference (known.py) that explains a failure

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


def _rounded(array, dtype: str) -> np.ndarray:
    """``array`` rounded to ``dtype`` and held in float64: the reference's input for that dtype."""
    return np.asarray(array, dtype=dtype).astype(np.float64)


def case_inputs(lesson: Lesson, dtype: str):
    """(params, X, y) as the reference sees them for ``dtype`` (float64 holding ``dtype`` values)."""
    params = {k: _rounded(v, dtype) for k, v in canonical_params(lesson).items()}
    X, y = lesson_data(lesson)
    return params, _rounded(X, dtype), _rounded(y, dtype)


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


def compare_check(check: str, actual: dict, expected: dict, lesson: Lesson, dtype: str, what: str,
                  tol_dtype: str | None = None, scale: dict | None = None) -> Comparison:
    """``compare`` at the case's tolerance; a trajectory's snapshots each at their own (``trajectory@K``).

    Every array must have ``dtype``. ``tol_dtype`` takes another dtype's tolerance rows (a
    known difference's bound, with the dtype left unchecked); ``scale``: see compare.py.
    """
    check_dtype = dtype if tol_dtype is None else None
    tol_dtype = tol_dtype or dtype
    if check != "trajectory":
        tol = case_tolerance(lesson, tol_dtype, check)
        return compare(actual, expected, atol=tol.atol, rtol=tol.rtol, what=what, dtype=check_dtype, scale=scale)
    parts = []
    for k in TRAJECTORY_STEPS:
        tol = case_tolerance(lesson, tol_dtype, f"trajectory@{k}")
        mine = {name: value for name, value in expected.items() if name.endswith(f"@{k}")}
        parts.append(compare(actual, mine, atol=tol.atol, rtol=tol.rtol, what=what, dtype=check_dtype))
    return merge(what, parts)


def expected(check: str, lesson: Lesson, dtype: str, convention: str | None = None,
             optimizer: str | None = None) -> dict[str, np.ndarray]:
    """The reference's value of ``check`` for ``lesson`` (always recomputed: it is cheap).

    ``step`` and ``trajectory`` need the ``convention`` ("torch" or "keras": the
    framework whose optimizer formula to follow, and whose BatchNorm running variance,
    which no setting makes agree); ``optimizer`` names a spec that replaces the
    lesson's optimizer.
    """
    params, X, y = case_inputs(lesson, dtype)
    model = reference_model(lesson, params, convention, dtype, framework=convention)
    share_dropout_masks(model, lesson, len(X))
    if check == "forward":
        model.forward(X)
        return model.trace()
    if check == "loss":
        return {"loss": np.asarray(model.loss_value(X, y))}
    if check == "gradients":
        return model.gradients(X, y)
    if check in ("step", "trajectory"):
        if convention is None:
            raise ValueError(f"expected({check!r}): the optimizer's formula depends on the framework; "
                             "pass convention='torch' or 'keras'")
        name, hyper = optimizer_of(lesson, optimizer)
        opt = get_optimizer(name, convention=convention_of(convention), **hyper)
        if check == "step":
            model.step(X, y, opt)
            return dict(model.params)
        steps = max(TRAJECTORY_STEPS)
        return trajectory_items(model.train(X, y, opt, training_batches(lesson, steps), record=TRAJECTORY_STEPS,
                                            dropout_masks=masks_by_step(lesson)))
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def actual(check: str, lesson: Lesson, framework: str, dtype: str,
           optimizer: str | None = None) -> dict[str, np.ndarray]:
    """The framework's value of ``check``, from the canonical weights (reloaded every time)."""
    twin = get_twin(framework, lesson, dtype)
    twin.set_params(canonical_params(lesson))
    X, y = lesson_data(lesson)
    share_dropout_masks(twin, lesson, len(X))
    if check == "forward":
        return twin.forward(X)
    if check == "loss":
        return {"loss": twin.loss(X, y)}  # as returned: a NumPy scalar keeps its dtype for the check
    if check == "gradients":
        return twin.gradients(X, y)
    if check == "step":
        return twin.step(X, y, *optimizer_of(lesson, optimizer))
    if check == "trajectory":
        steps = max(TRAJECTORY_STEPS)
        return trajectory_items(twin.train(X, y, *optimizer_of(lesson, optimizer), training_batches(lesson, steps),
                                           record=TRAJECTORY_STEPS, dropout_masks=masks_by_step(lesson)))
    raise ValueError(f"unknown check {check!r}; expected one of {CHECKS}")


def case_tolerance(lesson: Lesson, dtype: str, check: str | None = None):
    """The tolerance row of a case (``compare.TOLERANCES``), the first that exists of: the lesson's own
    row for the check (``"float32 trajectory@100 spiral-3-layer"``), the check's (``"float32 trajectory@100"``),
    the BatchNorm row for a lesson with BatchNorm, the dtype's."""
    if check is not None:
        for key in (f"{dtype} {check} {lesson.name}", f"{dtype} {check}"):
            if key in TOLERANCES:
                return TOLERANCES[key]
    return tolerance(f"{dtype} batchnorm" if lesson.batchnorm else dtype)


def compare_lesson(check: str, lesson: Lesson, framework: str, dtype: str,
                   optimizer: str | None = None) -> tuple[Comparison, dict]:
    """Run one check of ``lesson`` (from the catalog, or a variant a test makes) in one framework and dtype.

    Returns the comparison and what the check measured besides it (``CheckResult.info``).
    """
    if check in OWN_MODULE_CHECKS:
        return OWN_MODULE_CHECKS[check](lesson, framework, dtype)
    comparison = compare_check(
        check,
        actual(check, lesson, framework, dtype, optimizer),
        # the framework names its convention: the reference follows that framework's formulas
        expected(check, lesson, dtype, convention=framework, optimizer=optimizer),
        lesson,
        dtype,
        what=f"{check} of {Case(lesson.name, framework, dtype, optimizer).id}",
    )
    return comparison, {}


def run_check(check: str, case: Case, lesson: Lesson | None = None, scaled: bool = False) -> CheckResult:
    """Run one check on one case. The framework must be available (see ``unavailable_reason``).

    ``lesson`` defaults to the catalog's ``case.lesson`` (pass one to check a lesson
    declared elsewhere, as the property-based tests do). ``scaled``: hold each element
    to atol times the size of the numbers that made it (``magnitudes.py``), for
    inputs of any magnitude.
    """
    lesson = lesson or get_lesson(case.lesson)
    tol = case_tolerance(lesson, case.dtype, check)
    why_not = NOT_APPLICABLE.get(check)
    reason = UNSUPPORTED.get((check, case.framework)) or (why_not(lesson) if why_not else None)
    if reason:
        return CheckResult(case, check, Comparison(f"{check} of {case.id}", tol.atol, tol.rtol), skipped=reason)
    if check in OWN_MODULE_CHECKS:
        comparison, info = OWN_MODULE_CHECKS[check](lesson, case.framework, case.dtype)
        known, evidence = _known_difference_of(lesson, case, check, comparison, lambda difference: OWN_MODULE_CHECKS[
            check](lesson, case.framework, case.dtype, tol_dtype=difference.bound)[0].passed)
        return CheckResult(case, check, comparison, {**info, **evidence}, known=known)
    got = actual(check, lesson, case.framework, case.dtype, case.optimizer)
    # the framework names its convention: the reference follows that framework's formulas
    want = expected(check, lesson, case.dtype, convention=case.framework, optimizer=case.optimizer)
    scale = None
    if scaled:
        params, X, y = case_inputs(lesson, case.dtype)
        model = reference_model(lesson, params, case.framework, case.dtype, framework=case.framework)
        scale = magnitudes(check, lesson, model, params, X, y, case.dtype)
    what = f"{check} of {case.id}"
    result = compare_check(check, got, want, lesson, case.dtype, what, scale=scale)

    def within_bound(difference) -> bool:
        # The difference computes in the bound's precision (float32): a value under its smallest normal
        # underflows there, so the magnitudes' floor is the bound's tiny / eps (magnitudes.py).
        bound_scale = magnitudes(check, lesson, model, params, X, y, difference.bound) if scaled else None
        return compare_check(check, got, want, lesson, case.dtype, what, tol_dtype=difference.bound,
                             scale=bound_scale).passed

    known, info = _known_difference_of(lesson, case, check, result, within_bound)
    return CheckResult(case, check, result, info, known=known)


def _known_difference_of(lesson: Lesson, case: Case, check: str, comparison: Comparison,
                         within_bound) -> tuple[str | None, dict]:
    """The first known difference (``known.py``, in its order) that accounts for a failed check, as
    (its name, {its name: the evidence its probe measured}); (None, {}) if none does or nothing failed.
    One with a probe (``explains``) is judged by the probe on this case; one without, by
    ``within_bound(difference)``: the check compared again at the difference's looser bound."""
    if comparison.passed:
        return None, {}
    for difference in known_differences(case.framework, case.dtype, check):
        if difference.explains is not None:
            evidence = difference.explains(lesson, case, comparison)  # the mechanism, measured on this case
            if evidence is not None:
                return difference.name, {difference.name: evidence}
        elif within_bound(difference):
            return difference.name, {}
    return None, {}


def all_cases(lessons, frameworks, dtypes, optimizers=(None,)) -> list[Case]:
    return [Case(lesson, fw, dt, opt) for lesson in lessons for fw in frameworks for dt in dtypes
            for opt in optimizers]


__all__ = [
    "CHECKS", "DTYPES", "TRAJECTORY_STEPS", "Case", "CheckResult", "run_check", "compare_lesson", "expected", "actual",
    "all_cases", "case_inputs", "unavailable_reason", "optimizer_of", "training_batches", "reference_model",
    "share_dropout_masks",
]
