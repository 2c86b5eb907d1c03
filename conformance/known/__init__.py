"""Differences nnparity has measured, understood and names, instead of only failing.

A known difference is a framework behaving differently from the reference for
a reason that is the framework's, not nnparity's. A check it explains still
does not pass: it is reported as *known*, by name, with its explanation, and
only if the results still meet the looser ``bound`` the explanation predicts
(so a real bug hiding behind it still fails). Each entry has:

- ``present()``: a probe, run in the framework's own process, that says whether
  the cause is there in the installed version (when a release fixes it, the
  entry stops applying and the strict tolerance is back);
- optionally ``checks`` (the checks it can explain) and ``explains(lesson, case,
  comparison)``: a probe of the one failed case, which returns what it measured
  (kept in the result's ``info``) when the mechanism is there, else None. An entry
  with ``explains`` is judged by it instead of by re-comparing at ``bound``;
- a test that measures the cause directly (``tests/engine/test_backends.py``,
  ``tests/engine/test_kink_crossing.py``).

The probes of this package (``kink_crossing.py``, ``zero_gradients.py``,
``adam_amplification.py``) take the
case's inputs (``cases.CaseInputs``), the same the check ran from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .adam_amplification import explain as explain_adam_amplification
from .kink_crossing import explain_trajectory
from .zero_gradients import explain as explain_zero_gradient_step


@dataclass(frozen=True)
class KnownDifference:
    name: str
    frameworks: tuple[str, ...]
    dtypes: tuple[str, ...]
    bound: str | None  # the dtype whose tolerance rows the results still meet (None: judged by ``explains`` alone)
    explanation: str
    present: Callable[[], bool]
    checks: tuple[str, ...] | None = None  # None: any check
    explains: Callable | None = None  # (inputs, case, comparison) -> dict of evidence, or None

    def __post_init__(self):
        if self.bound is None and self.explains is None:
            raise ValueError(f"known difference {self.name}: needs a bound, a probe (explains), or both")

    @property
    def judged_by(self) -> str:
        """What a case must meet to count as this difference, for a report."""
        return f"within the {self.bound} tolerance" if self.bound else "where its probe finds the mechanism"

    def applies(self, framework: str, dtype: str, check: str | None = None) -> bool:
        if self.checks is not None and check not in self.checks:
            return False
        return framework in self.frameworks and dtype in self.dtypes and self.present()


def keras_demotes_float64() -> bool:
    """Keras's type promotion, outside TensorFlow, turns float64 with float64 into float32."""
    import keras

    return keras.backend.result_type("float64", "float64") == "float32"


def always() -> bool:
    """The cause is float32 rounding itself: always there; ``explains`` decides case by case."""
    return True


KNOWN_DIFFERENCES: dict[str, KnownDifference] = {
    d.name: d
    for d in (
        KnownDifference(
            name="keras-float64-computed-in-float32",
            frameworks=("keras-jax", "keras-torch"),
            dtypes=("float64",),
            bound="float32",
            explanation=(
                "Keras 3 on the JAX and torch backends computes some float64 ops in float32: "
                "keras.backend.result_type('float64', 'float64') is 'float32' outside TensorFlow "
                "(keras/src/backend/common/dtypes.py, 'aligned with JAX's default'). Measured with "
                "float64 inputs: ops.mean (every loss's reduction) on both backends, ops.tanh on JAX "
                "and ops.matmul (every Dense) on torch return float32 or float32-rounded values "
                "(keras-team/keras#23223, #23704). Results meet the float32 tolerance."
            ),
            present=keras_demotes_float64,
        ),
        KnownDifference(
            name="float32-relu-kink-crossing",
            frameworks=("torch", "keras", "keras-jax", "keras-torch"),
            dtypes=("float32",),
            bound=None,  # judged by its probe alone (kink_crossing.py)
            checks=("trajectory",),
            explanation=(
                "A ReLU network trained with Adam (or another optimizer that divides by a running root mean square: "
                "its family, RMSprop, Adadelta) is chaotic at the scale of float32 rounding. The framework's "
                "float32 run and the float64 reference agree step after step as rounding predicts, until a "
                "step where one ReLU pre-activation lies within that rounding of 0 and the two runs put it on "
                "opposite sides of the kink (the crossing is in the result's info: step, unit, both z; a 'tie' where the "
                "framework's float32 forward, not its weights, decided the side of a z within rounding of 0). From "
                "then on one run passes gradient through that unit and the other does not, and Adam turns "
                "the new gradient into a step-sized move. Two float64 reference runs started 3e-6 apart part "
                "the same way (tests/engine/test_kink_crossing.py; Adadelta on deep-relu: "
                "tests/engine/test_kink_crossing_adadelta.py). Counted as known only if the weights before the "
                "crossing meet the float32 trajectory@100 row, every snapshot before it passed, and every "
                "pre-activation that crossed differs between the runs by no more than the float32 forward "
                "tolerance (conformance/known/kink_crossing.py)."
            ),
            present=always,
            explains=explain_trajectory,
        ),
        KnownDifference(
            name="adaptive-step-on-a-zero-gradient",
            frameworks=("torch", "keras", "keras-jax", "keras-torch"),
            dtypes=("float64", "float32"),
            bound=None,  # judged by its probe alone (conformance/known/zero_gradients.py)
            checks=("step", "trajectory"),
            explanation=(
                "A bias in front of a BatchNorm has a gradient of exactly 0 (BatchNorm subtracts the batch mean, "
                "which carries the bias away), so what each implementation computes for it is its own rounding "
                "noise (1e-15 of the weights' gradient in the reference). Adam, RMSprop, NAdam and AMSGrad divide "
                "each gradient by its running root mean square plus epsilon (Adamax by its running maximum): a noise of 1e-17 next to epsilon 1e-8 becomes a "
                "step of learning_rate * 1e-9, and a float32 noise of 1e-9 a tenth of the learning rate, with "
                "the noise's sign. The biases and the running means they shift drift apart by up to a few "
                "learning rates per step; BatchNorm keeps it from everything else. Counted as known only if "
                "every item that failed is such a bias or running mean, the reference's gradient of those "
                "biases is zero to rounding (at most 1e-10 of the layer's weight gradient), and each differs "
                "by at most 4 learning rates per step (conformance/known/zero_gradients.py). PyTorch's and Keras's "
                "usual advice, bias=False / use_bias=False before a BatchNorm, removes the cause."
            ),
            present=always,
            explains=explain_zero_gradient_step,
        ),
        KnownDifference(
            name="float32-adam-amplified-gradient-rounding",
            frameworks=("torch", "keras", "keras-jax", "keras-torch"),
            dtypes=("float32",),
            bound=None,  # judged by its probe alone (conformance/known/adam_amplification.py)
            checks=("step", "trajectory"),
            explanation=(
                "A gradient entry that is a sum of terms cancelling to far less than the terms (1e-8 out of "
                "terms of 0.1) carries their float32 rounding, up to a large part of itself. SGD moves the "
                "weight by learning_rate times that error; Adam divides each gradient by its running root mean "
                "square, so where that is as small as the gradient, a change of the gradient by d changes the "
                "step by up to learning_rate * (1 - beta_1) * d / sqrt(v_hat), thousands of times d, and the "
                "weight parts from the float64 reference by more than the float32 row although every quantity "
                "of the walk agrees. NumPy's own float32 gradients do the same. Counted as known only if, "
                "retraining both sides step by step, every gradient the framework computes lies within the float32 "
                "rounding bound of its terms, and every entry of every parameter at every step lies within the "
                "bound Z that Adam's update can make of those gradient differences, carried through its moments "
                "(the derivation: conformance/known/adam_amplification.py). It covers Adam's family: Adam, AMSGrad "
                "(its max of v), NAdam (its momentum schedule) and Adamax (its infinity norm), without weight decay "
                "or clipping (conformance/known/adam_family.py). The measured difference, the bound "
                "and the gradient's error are in the result's info."
            ),
            present=always,
            explains=explain_adam_amplification,
        ),
    )
}


def known_differences(framework: str, dtype: str, check: str | None = None) -> list[KnownDifference]:
    """Every known difference present for (framework, dtype, check) in this process, in the order above."""
    return [d for d in KNOWN_DIFFERENCES.values() if d.applies(framework, dtype, check)]


def known_difference(framework: str, dtype: str, check: str | None = None) -> KnownDifference | None:
    """The first known difference present for (framework, dtype, check) in this process, if any."""
    found = known_differences(framework, dtype, check)
    return found[0] if found else None


def explaining_difference(lesson, case, check: str, comparison, within_bound, inputs=None) -> tuple[str | None, dict]:
    """The first known difference (in the order above) that accounts for a failed check, as
    (its name, {its name: the evidence its probe measured}); (None, {}) if none does or nothing failed.
    One with a probe (``explains``) is judged by the probe on the case's ``inputs``; one without, by
    ``within_bound(difference)``: the check compared again at the difference's looser bound."""
    if comparison.passed:
        return None, {}
    for difference in known_differences(case.framework, case.dtype, check):
        if difference.explains is not None:
            evidence = difference.explains(inputs, case, comparison)  # the mechanism, measured on this case
            if evidence is not None:
                return difference.name, {difference.name: evidence}
        elif within_bound(difference):
            return difference.name, {}
    return None, {}
