"""dL/dW, dL/db of every layer and dL/dX agree with the reference."""

from conformance.tests.support import check_case


def test_gradients(case):
    check_case("gradients", case)
