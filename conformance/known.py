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
- a test that measures the cause directly (``tests/test_backends.py``,
  ``tests/test_kink_crossing.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class KnownDifference:
    name: str
    frameworks: tuple[str, ...]
    dtypes: tuple[str, ...]
    bound: str  # the row of compare.TOLERANCES the results still meet
    explanation: str
    present: Callable[[], bool]
    checks: tuple[str, ...] | None = None  # None: any check
    explains: Callable | None = None  # (lesson, case, comparison) -> dict of evidence, or None

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


def kink_crossing(lesson, case, comparison):
    from .kink_crossing import explain_trajectory

    return explain_trajectory(lesson, case, comparison)


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
            bound="float32 trajectory@100",
            checks=("trajectory",),
            explanation=(
                "A ReLU network trained with Adam is chaotic at the scale of float32 rounding. The framework's "
                "float32 run and the float64 reference agree step after step as rounding predicts, until a "
                "step where one ReLU pre-activation lies within that rounding of 0 and the two runs put it on "
                "opposite sides of the kink (the crossing is in the result's info: step, unit, both z). From "
                "then on one run passes gradient through that unit and the other does not, and Adam turns "
                "the new gradient into a step-sized move. Two float64 reference runs started 3e-6 apart part "
                "the same way (tests/test_kink_crossing.py). Counted as known only if the weights before the "
                "crossing meet the float32 trajectory@100 row, every snapshot before it passed, and every "
                "pre-activation that crossed differs between the runs by no more than the float32 forward "
                "tolerance (conformance/kink_crossing.py)."
            ),
            present=always,
            explains=kink_crossing,
        ),
    )
}


def known_difference(framework: str, dtype: str, check: str | None = None) -> KnownDifference | None:
    """The known difference present for (framework, dtype, check) in this process, if any."""
    for difference in KNOWN_DIFFERENCES.values():
        if difference.applies(framework, dtype, check):
            return difference
    return None
