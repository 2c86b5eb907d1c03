"""The check registry (conformance/checks/__init__.py): each check is one record, and what a record
says (that its reference takes optimizer steps) is what ``expected`` acts on."""

from __future__ import annotations

import pytest

from conformance.checks import REGISTRY, expected
from conformance.lessons import LESSONS

STEP_LEVEL = [name for name, record in REGISTRY.items() if record.reference is not None]


@pytest.mark.parametrize("check", STEP_LEVEL)
def test_a_check_whose_reference_steps_an_optimizer_needs_a_convention_and_no_other_does(check):
    lesson = LESSONS["spiral"]
    if REGISTRY[check].steps:
        with pytest.raises(ValueError, match=rf"expected\('{check}'\).*pass convention='torch' or 'keras'"):
            expected(check, lesson, "float64")
        assert expected(check, lesson, "float64", convention="torch")
    else:
        assert expected(check, lesson, "float64")


def test_the_checks_that_step_are_step_and_trajectory():
    assert sorted(name for name, record in REGISTRY.items() if record.steps) == ["step", "trajectory"]


def test_a_check_that_compares_itself_has_no_reference_value():
    with pytest.raises(ValueError, match="'training' compares itself"):
        expected("training", LESSONS["spiral"], "float64")
