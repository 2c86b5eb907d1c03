"""Weights go into each framework and come back bit for bit, in the right layout."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import DTYPES
from conformance.lessons import LESSONS, canonical_params
from frameworks import FRAMEWORKS, get_twin, unavailable_reason
from frameworks.layout import from_keras, from_torch, to_keras, to_torch


def test_layout_round_trip_and_orientation():
    W = np.arange(6.0).reshape(2, 3)  # (in=2, out=3)
    b = np.arange(3.0)
    assert to_torch("W1", W).shape == (3, 2)
    np.testing.assert_array_equal(to_torch("W1", W), W.T)
    np.testing.assert_array_equal(from_torch("W1", to_torch("W1", W)), W)
    np.testing.assert_array_equal(to_torch("b1", b), b)
    np.testing.assert_array_equal(from_keras("W1", to_keras("W1", W)), W)


def _twin(framework, lesson, dtype):
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)
    return get_twin(framework, LESSONS[lesson], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("lesson", ["xor-mse", "sensor", "keras-4-64-32-1"])
def test_round_trip_is_exact(lesson, framework, dtype):
    twin = _twin(framework, lesson, dtype)
    params = canonical_params(LESSONS[lesson])
    twin.set_params(params)
    back = twin.get_params()
    assert sorted(back) == sorted(params)
    for name, value in params.items():
        assert back[name].shape == value.shape, name
        assert back[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(back[name], value.astype(dtype), err_msg=name)


def test_torch_stores_the_transpose():
    twin = _twin("torch", "spiral", "float64")
    params = canonical_params(LESSONS["spiral"])
    twin.set_params(params)
    weight = twin.model.layers[0].weight.detach().numpy()
    assert weight.shape == (16, 2)
    np.testing.assert_array_equal(weight, params["W1"].T)


def test_keras_stores_the_same_layout_in_float64():
    twin = _twin("keras", "spiral", "float64")
    params = canonical_params(LESSONS["spiral"])
    twin.set_params(params)
    kernel = twin.model.layers[0].kernel
    assert str(kernel.dtype) == "float64"  # docs/conventions.md#keras-float64: the policy must take effect
    np.testing.assert_array_equal(np.asarray(kernel.numpy()), params["W1"])


def test_canonical_biases_are_non_zero():
    for lesson in LESSONS.values():
        for name, value in canonical_params(lesson).items():
            if name.startswith("b"):
                assert np.all(value != 0), f"{lesson.name}: {name} has a zero (a bias bug could hide)"
