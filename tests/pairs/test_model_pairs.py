"""Correct torch/Keras ports of the lesson architectures agree under ``nnparity.compare_models``, in float64."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import nnparity  # noqa: E402
from conformance.lessons import LESSONS  # noqa: E402
from pair_zoo import LOSSES, TORCH_ACTIVATIONS, lesson_pair  # noqa: E402

PORTABLE = [name for name, lesson in LESSONS.items() if set(lesson.activations) <= set(TORCH_ACTIVATIONS)
            and lesson.loss in LOSSES and not lesson.kernel_l2]


def test_the_portable_lessons_are_most_of_the_catalog():
    assert len(PORTABLE) >= 14, PORTABLE  # all but the perceptron's step (and any new activation)


@pytest.mark.parametrize("name", PORTABLE)
def test_a_correct_port_of_a_lesson_agrees(name):
    lesson = LESSONS[name]
    tm, km, X, y, options = lesson_pair(lesson)
    result = nnparity.compare_models(tm, km, X, y, steps=10, **options)
    assert result.passed, result.report()
    assert result.divergence is None or result.status == "known"
    stages = set(result.comparisons)
    assert {"forward", "loss", "backward", "gradients", "step", "trajectory"} <= stages
    if lesson.batchnorm:  # torch's unbiased running variance: no setting changes it
        assert result.status == "known"
        assert [e.key for e in result.accounted] == ["batchnorm-running-variance"]
    elif lesson.optimizer == "adam":  # Keras's epsilon-hat: no setting changes it
        assert result.status == "known" and [e.key for e in result.accounted] == ["adam-epsilon"]
    else:
        assert result.status == "passed"


def test_a_hundred_steps_of_a_correct_port_agree_and_the_report_says_so():
    tm, km, X, y, options = lesson_pair(LESSONS["spiral"])
    result = nnparity.assert_models_agree(tm, km, X, y, steps=100, **options)
    assert result.status == "passed"
    assert len(result.comparisons["trajectory"].items) == 99 * 4  # W1 b1 W2 b2 after steps 2..100
    assert "the two models agree" in result.report()
    assert result.to_json()["first_divergence"] is None


def test_the_user_models_are_left_as_they_were():
    tm, km, X, y, options = lesson_pair(LESSONS["circles"])
    before_t = [p.detach().clone() for p in tm.parameters()]
    before_k = [v.numpy().copy() for v in km.weights]
    nnparity.compare_models(tm, km, X, y, steps=3, **options)
    assert all((a == b.detach()).all() for a, b in zip(before_t, tm.parameters()))
    assert all((a == v.numpy()).all() for a, v in zip(before_k, km.weights))
    assert str(km.weights[0].dtype) == "float32"  # compared in float64 on a rebuild, not a cast of the user's model


def test_float32_pairs_agree_at_the_float32_tolerance():
    tm, km, X, y, options = lesson_pair(LESSONS["tanh-4-5-4-1"])
    result = nnparity.compare_models(tm, km, X, y, steps=10, dtype="float32", **options)
    assert result.passed, result.report()
    assert result.comparisons["forward"].atol == 5e-6
