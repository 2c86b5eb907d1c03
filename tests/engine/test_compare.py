"""The one comparison helper: what it accepts, what it reports."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.compare import assert_agree, compare
from conformance.tolerances import TOLERANCES, tolerance


def test_equal_arrays_pass_with_zero_error():
    a = {"W1": np.arange(6.0).reshape(2, 3)}
    result = compare(a, {"W1": a["W1"].copy()}, atol=0, rtol=0)
    assert result.passed and result.max_abs_err == 0.0 and result.worst == "W1"


def test_report_reads_like_torch_testing():
    expected = {"W1": np.zeros((2, 3)), "b1": np.ones(3)}
    actual = {"W1": np.zeros((2, 3)), "b1": np.array([1.0, 1.5, 1.0])}
    result = compare(actual, expected, atol=1e-3, rtol=0.0, what="gradients of x")
    assert not result.passed
    assert result.worst == "b1"
    assert result.max_abs_err == pytest.approx(0.5)
    msg = result.message()
    assert "gradients of x: b1 is not close" in msg
    assert "Mismatched elements: 1 / 3 (33.3%)" in msg
    assert "Greatest absolute difference: 0.5 at index (1,) (up to 0.001 allowed)" in msg
    assert "Greatest relative difference: 0.5 at index (1,)" in msg
    assert "W1" not in msg  # only failing items are reported


def test_tolerance_is_atol_plus_rtol_times_expected():
    e = {"x": np.array([100.0])}
    assert compare({"x": np.array([100.0 + 1.0])}, e, atol=0.5, rtol=0.006).passed  # 1.0 <= 0.5 + 0.6
    assert not compare({"x": np.array([100.0 + 1.2])}, e, atol=0.5, rtol=0.006).passed


def test_shape_mismatch_and_missing_items_fail_with_a_sentence():
    result = compare({"W1": np.zeros((3, 2))}, {"W1": np.zeros((2, 3)), "b1": np.zeros(3)}, atol=1, rtol=1)
    msg = result.message()
    assert "W1: shape mismatch: expected (2, 3), got (3, 2)" in msg
    assert "b1: missing: expected an array of shape (3,)" in msg


def test_nan_and_inf():
    nan, inf = np.array([np.nan]), np.array([np.inf])
    assert compare({"x": nan}, {"x": nan}, atol=0, rtol=0).passed  # the same propagation
    assert compare({"x": inf}, {"x": inf}, atol=0, rtol=0).passed
    assert not compare({"x": nan}, {"x": np.array([1.0])}, atol=1, rtol=1).passed
    assert not compare({"x": -inf}, {"x": inf}, atol=1, rtol=1).passed
    assert not compare({"x": np.array([1.0])}, {"x": nan}, atol=1, rtol=1).passed


def test_both_tolerances_are_required():
    with pytest.raises(TypeError):
        compare({}, {}, atol=1e-3)  # type: ignore[call-arg]


def test_assert_agree_raises_the_report():
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 1"):
        assert_agree({"x": np.array([2.0])}, {"x": np.array([1.0])}, atol=0.1, rtol=0.0)


def test_every_tolerance_has_a_reason_and_float64_meets_the_promise():
    for row, tol in TOLERANCES.items():
        assert len(tol.reason) > 40, row.label
    assert tolerance("float64").atol <= 1e-10
    with pytest.raises(ValueError, match="no tolerance for dtype 'float16'"):
        tolerance("float16")


def test_same_items_fails_on_an_item_only_actual_has():
    """By default an extra item of ``actual`` is not compared; with same_items it fails, by name."""
    actual = {"a": np.zeros(2), "extra after epoch 5": np.ones(3)}
    expected = {"a": np.zeros(2)}
    assert compare(actual, expected, atol=0, rtol=0).passed
    result = compare(actual, expected, atol=0, rtol=0, same_items=True)
    assert [item.name for item in result.failures()] == ["extra after epoch 5"]
    assert "unexpected: got an array of shape (3,), expected nothing" in result.message()
