"""Every intermediate quantity of a training step agrees, not only the final results.

The walk (``divergence.py``) adds what the other checks never compare: each
layer's dL/dz. A case that passes here has no divergence to localize.
"""

import pytest

from conformance.checks.training import missing_optimizer
from conformance.divergence import UNSUPPORTED, walk
from conformance.lessons import get_lesson
from frameworks import unavailable_reason


def test_walk(case):
    reason = (unavailable_reason(case.framework) or UNSUPPORTED.get(case.framework)
              or missing_optimizer(get_lesson(case.lesson)))
    if reason:
        pytest.skip(reason)
    _, comparison = walk(case)
    assert comparison.passed, (
        f"{comparison.message()}\n"
        f"Re-run: nnparity run --lesson {case.lesson} --framework {case.framework} --dtype {case.dtype}"
    )
