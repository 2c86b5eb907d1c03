"""Each lesson trained to its end agrees with the reference (conformance/checks/training.py)."""

from conformance.tests.support import check_case


def test_training(case):
    check_case("training", case)
