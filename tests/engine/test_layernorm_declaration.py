"""A LayerNorm in a lesson's declaration: the Lesson's own checks, lesson files, the names every part reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conformance.divergence import quantities, stepped_names, trained_names
from conformance.lesson_checks import LessonFileError
from conformance.lesson_files import read_lesson_file
from conformance.lessons import Lesson, canonical_params, get_lesson, initial_params

LESSON = get_lesson("spiral-layernorm")

TOML = """
[[lesson]]
name = "mine-layernorm"
sizes = [3, 12, 8, 1]
activations = ["tanh", "relu", "sigmoid"]
loss = "bce"
init = "glorot_uniform"
dataset = "tabular3"
epochs = 20
layernorm = true
layernorm_epsilon = 1e-5
[lesson.hyper]
learning_rate = 0.1
"""
PYTHON = """
from nnparity import Lesson

LESSONS = [
    Lesson(name="mine-layernorm", sizes=[3, 12, 8, 1], activations=["tanh", "relu", "sigmoid"], loss="bce",
           init="glorot_uniform", dataset="tabular3", epochs=20, hyper={"learning_rate": 0.1},
           layernorm=True, layernorm_epsilon=1e-5),
]
"""


def read(tmp_path, text: str, suffix: str = ".toml"):
    path = tmp_path / f"lessons{suffix}"
    path.write_text(text)
    return read_lesson_file(path)


def refused(tmp_path, text: str, suffix: str = ".toml") -> str:
    with pytest.raises(LessonFileError) as info:
        read(tmp_path, text, suffix)
    return str(info.value)


def test_a_lesson_file_asks_for_layernorm_in_either_form(tmp_path):
    (from_toml,) = read(tmp_path, TOML)
    (from_python,) = read(tmp_path, PYTHON, ".py")
    assert from_toml == from_python
    assert from_toml.layernorm is True and from_toml.layernorm_epsilon == 1e-5
    assert sorted(initial_params(from_toml)) == ["W1", "W2", "W3", "b1", "b2", "b3", "beta1", "beta2", "gamma1",
                                                 "gamma2"]


@pytest.mark.parametrize("value, received", [("0", "0"), ("-1e-5", "-1e-05"), ("inf", "inf"), ("nan", "nan")])
def test_a_bad_epsilon_is_refused_naming_the_field(tmp_path, value, received):
    message = refused(tmp_path, TOML.replace("layernorm_epsilon = 1e-5", f"layernorm_epsilon = {value}"))
    assert "lesson 'mine-layernorm', field 'layernorm_epsilon': " in message, message
    assert f"expected a positive, finite layernorm_epsilon (torch's default 1e-5, Keras's 1e-3). " \
           f"Received: layernorm_epsilon={received}" in message, message


def test_an_epsilon_that_is_not_a_number_is_refused(tmp_path):
    message = refused(tmp_path, TOML.replace("layernorm_epsilon = 1e-5", 'layernorm_epsilon = "1e-5"'))
    assert "field 'layernorm_epsilon': expected a number. Received: '1e-5'" in message, message


@pytest.mark.parametrize("change, expected", [
    (("layernorm = true", "layernorm = true\nbatchnorm = true"), "layernorm needs a hidden layer and no batchnorm"),
    (("layernorm = true", "layernorm = 1"), "field 'layernorm': expected true or false. Received: 1"),
])
def test_layernorm_with_batchnorm_or_not_a_bool_is_refused(tmp_path, change, expected):
    assert expected in refused(tmp_path, TOML.replace(*change))


def test_a_network_without_a_hidden_layer_has_no_place_for_layernorm():
    with pytest.raises(ValueError, match="layernorm needs a hidden layer"):
        Lesson(name="x", sizes=(2, 1), activations=("sigmoid",), loss="bce", init="zeros", dataset="spiral",
               layernorm=True)


def test_the_names_every_part_reads():
    """gamma and beta per hidden layer, trained (no running statistics); the walk has an ln stage per layer."""
    assert trained_names(LESSON) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert stepped_names(LESSON) == trained_names(LESSON)
    forward = [q.name for q in quantities(LESSON) if q.stage == "forward"]
    assert forward == ["z1", "ln1", "a1", "z2", "ln2", "a2", "z3", "a3"]
    start, checks = initial_params(LESSON), canonical_params(LESSON)
    np.testing.assert_array_equal(start["gamma1"], np.ones(16))
    np.testing.assert_array_equal(start["beta2"], np.zeros(16))
    assert not np.any(checks["gamma1"] == 1) and np.all(checks["beta1"] != 0)  # drawn away from the start
    assert LESSON.describe()["layernorm"] == {"epsilon": 1e-5}
    assert replace(LESSON, layernorm=False).describe()["layernorm"] is None
