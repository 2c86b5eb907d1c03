"""What every conformance test does: skip an absent framework, run the check, report a failure."""

from __future__ import annotations

import pytest

from frameworks import unavailable_reason

from .checks import Case, CheckResult, run_check


def check_case(check: str, case: Case) -> CheckResult:
    """Run ``check`` on ``case``; skip if its framework is not installed; fail with the report."""
    reason = unavailable_reason(case.framework)
    if reason:
        pytest.skip(reason)
    result = run_check(check, case)
    if result.skipped:
        pytest.skip(result.skipped)
    if not result.passed:
        pytest.fail(
            f"{result.comparison.message()}\n"
            f"Re-run: nnparity run --lesson {case.lesson} --framework {case.framework} --dtype {case.dtype} "
            f"--check {check}" + (f" --optimizer {case.optimizer}" if case.optimizer else ""),
            pytrace=False,
        )
    return result
