"""Every layer's gradient norm, and the first/last ratio, agree with the reference (conformance/checks/gradient_norms.py)."""

from conformance.tests.support import check_case


def test_gradient_norms(case):
    check_case("gradient_norms", case)
