"""What every conformance test does: skip an absent framework, run the check, report a failure."""

from __future__ import annotations

import pytest

from frameworks import unavailable_reason

from ..cases import Case
from ..checks import CheckResult, run_check
from ..compare import assert_agree, compare
from ..known import KNOWN_DIFFERENCES, known_differences

# ``--framework`` as given on the command line (None: every framework), set by conformance/tests/conftest.py.
CHOSEN_FRAMEWORKS: list[str] | None = None


def skip_reason(framework: str) -> str | None:
    """Why a test that names ``framework`` itself cannot run it here: left out by ``--framework``, or absent."""
    if CHOSEN_FRAMEWORKS and framework not in CHOSEN_FRAMEWORKS:
        return f"--framework {' '.join(CHOSEN_FRAMEWORKS)} leaves {framework} out"
    return unavailable_reason(framework)


def needs(framework: str) -> None:
    """Skip the calling test unless ``framework`` is chosen and installed (``skip_reason``)."""
    reason = skip_reason(framework)
    if reason:
        pytest.skip(reason)


def check_case(check: str, case: Case, lesson=None) -> CheckResult:
    """Run ``check`` on ``case``; skip if its framework cannot run here; fail with the report.

    ``lesson``: a lesson declared outside the catalog (``run_check``'s argument), e.g. ``SPIRAL_L2``.

    A failure that a known difference explains (``known.py``), within that difference's
    bound, is an expected failure (xfail) that names the difference.
    """
    reason = unavailable_reason(case.framework)
    if reason:
        pytest.skip(reason)
    result = run_check(check, case, lesson=lesson)
    if result.skipped:
        pytest.skip(result.skipped)
    if result.known:
        difference = KNOWN_DIFFERENCES[result.known]
        verdict = result.info.get(difference.name, {}).get("message")  # the probe's words on this case, if any
        pytest.xfail(f"known difference {difference.name} ({difference.judged_by}): "
                     + (f"{verdict}. " if verdict else "") + difference.explanation)
    if not result.passed:
        beyond = ""
        for difference in known_differences(case.framework, case.dtype, check):
            if difference.explains is not None:
                beyond += (f"\nThe known difference {difference.name} does not explain it: its mechanism was not "
                           f"found in this case, or not within rounding (conformance/known/__init__.py).")
            else:
                beyond += (f"\nThis is beyond what the known difference {difference.name} explains "
                           f"(it predicts the {difference.bound} tolerance).")
        rerun = "" if lesson is not None else (  # a lesson outside the catalog: `nnparity run` does not know it
            f"\nRe-run: nnparity run --lesson {case.lesson} --framework {case.framework} --dtype {case.dtype} "
            f"--check {check}" + (f" --optimizer {case.optimizer}" if case.optimizer else ""))
        pytest.fail(f"{result.comparison.message()}{beyond}{rerun}", pytrace=False)
    return result


def assert_own_formula_not_the_other(actual, own, other, measured, tol, difference, framework, other_framework,
                                     gap_rel=1e-6):
    """A framework's numbers meet the reference under its own convention at ``tol`` and not under the
    other framework's, and the gap is the one the reference predicts and the docs quote (``measured``, to 1%)."""
    assert_agree(actual, own, atol=tol.atol, rtol=tol.rtol, what=f"{difference}: {framework} vs its own convention")
    versus_other = compare(actual, other, atol=tol.atol, rtol=tol.rtol)
    assert not versus_other.passed, f"{difference}: {framework} now also matches {other_framework}'s formula"
    predicted = compare(other, own, atol=0.0, rtol=0.0).max_abs_err
    assert versus_other.max_abs_err == pytest.approx(predicted, rel=gap_rel)
    assert predicted == pytest.approx(measured, rel=0.01), f"{difference}: the documented size has changed"
