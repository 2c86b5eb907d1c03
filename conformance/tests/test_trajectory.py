"""Every parameter after 10 and after 100 steps of the lesson's optimizer, over its mini-batches, agrees."""

from conformance.tests.support import check_case


def test_trajectory(case):
    check_case("trajectory", case)
