"""Every parameter after one step of the lesson's optimizer agrees with the reference."""

from conformance.tests.support import check_case


def test_step(case):
    check_case("step", case)
