"""Every named optimizer setting (``nnparity optimizers``), one step and 10/100 steps, agrees with the reference.

The reference follows each framework's own formula (its convention): torch's for
the torch twin, Keras's for the Keras twin (``reference/optimizers.py``).
"""

from conformance.tests.support import check_case


def test_step_with_optimizer(optimizer_case):
    check_case("step", optimizer_case)


def test_trajectory_with_optimizer(optimizer_case):
    check_case("trajectory", optimizer_case)
