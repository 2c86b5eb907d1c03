"""Differences nnparity has measured, understood and names, instead of only failing.

A known difference is a framework behaving differently from the reference for
a reason that is the framework's, not nnparity's. A check it explains still
does not pass: it is reported as *known*, by name, with its explanation, and
only if the results still meet the looser ``bound`` the explanation predicts
(so a real bug hiding behind it still fails). Each entry has:

- ``present()``: a probe, run in the framework's own process, that says whether
  the cause is there in the installed version (when a release fixes it, the
  entry stops applying and the strict tolerance is back);
- a test in ``tests/test_backends.py`` that measures the cause directly.
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

    def applies(self, framework: str, dtype: str) -> bool:
        return framework in self.frameworks and dtype in self.dtypes and self.present()


def keras_demotes_float64() -> bool:
    """Keras's type promotion, outside TensorFlow, turns float64 with float64 into float32."""
    import keras

    return keras.backend.result_type("float64", "float64") == "float32"


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
    )
}


def known_difference(framework: str, dtype: str) -> KnownDifference | None:
    """The known difference present for (framework, dtype) in this process, if any."""
    for difference in KNOWN_DIFFERENCES.values():
        if difference.applies(framework, dtype):
            return difference
    return None
