"""Every layer's pre-activation and activation agree with the reference."""

from conformance.tests.support import check_case


def test_forward(case):
    check_case("forward", case)
