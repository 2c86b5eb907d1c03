"""The loss value agrees with the reference."""

from conformance.tests.support import check_case


def test_loss(case):
    check_case("loss", case)
