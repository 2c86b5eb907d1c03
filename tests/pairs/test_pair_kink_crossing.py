"""A float32 port that parts only where float32 rounding put a ReLU input on either side of its kink is
``known`` (``nnparity/pairs/kinks.py``); a planted difference is not."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import keras  # noqa: E402

import nnparity  # noqa: E402
from conformance.lessons import LESSONS  # noqa: E402
from pair_zoo import lesson_pair  # noqa: E402


def test_the_float32_port_of_keras_4_64_32_1_parts_at_a_kink_and_is_known():
    """Issue 19's case: 100 float32 steps; with torch following Keras's epsilon-hat the runs stay within 6e-7
    through step 46, then a pre-activation of layer 2 lies on either side of 0 (measured here: before step
    48, sample 12, unit 2, -8.1e-7 against +9.6e-8) and W2 parts (3.4e-4 against 2e-4 at step 49). Where the
    crossing comes depends on float32's order of operations on the machine."""
    tm, km, X, y, options = lesson_pair(LESSONS["keras-4-64-32-1"])
    result = nnparity.compare_models(tm, km, X, y, steps=100, dtype="float32", **options)
    assert result.status == "known", result.report()
    assert [e.key for e in result.accounted] == ["adam-epsilon", "kink-crossing"]
    kink = result.accounted[1]
    assert "float32 rounding decided the side of a ReLU kink" in kink.detail and kink.fix is None
    assert result.to_json()["known"][1]["key"] == "kink-crossing"


def test_a_planted_difference_in_float32_is_not_a_kink():
    """Keras's beta_2 0.99 against torch's 0.999: the runs part at the first step, before any crossing."""
    tm, km, X, y, options = lesson_pair(LESSONS["keras-4-64-32-1"])
    options["keras_optimizer"] = keras.optimizers.Adam(learning_rate=0.001, beta_2=0.99, epsilon=1e-7)
    result = nnparity.compare_models(tm, km, X, y, steps=100, dtype="float32", **options)
    assert result.status == "failed"
    assert "kink-crossing" not in [e.key for e in result.accounted + result.explanations]
