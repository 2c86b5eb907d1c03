"""The Lesson fields of a learning-rate schedule and of class weights (``lr_schedule``, ``class_weights``,
``class_weight_divisor``): read from both lesson-file forms, described, and refused when wrong with a message
naming the file, the lesson, the field, what was received and what is allowed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.lesson_files import LessonFileError, read_lesson_file
from conformance.lessons import LESSONS

SENSOR = """
[[lesson]]
name = "mine"
sizes = [2, 8, 3]
activations = ["relu", "softmax"]
loss = "cce"
init = "he_normal"
dataset = "sensor"
epochs = 20
lr_schedule = {decay_steps = 10, decay_rate = 0.5}
class_weights = [1, 2, 4]
class_weight_divisor = "batch_size"
[lesson.hyper]
learning_rate = 0.1
"""
PYTHON = """
from nnparity import Lesson

LESSONS = [
    Lesson(name="mine", sizes=(2, 8, 3), activations=("relu", "softmax"), loss="cce", init="he_normal",
           dataset="sensor", epochs=20, lr_schedule=(("decay_steps", 10), ("decay_rate", 0.5)),
           class_weights=(1.0, 2.0, 4.0), class_weight_divisor="batch_size"),
]
"""


def read(tmp_path, text: str, suffix: str = ".toml"):
    path = tmp_path / f"lessons{suffix}"
    path.write_text(text)
    return path, read_lesson_file(path)


def refused(tmp_path, text: str, suffix: str = ".toml") -> str:
    with pytest.raises(LessonFileError) as info:
        read(tmp_path, text, suffix)
    return str(info.value)


def test_both_forms_declare_the_same_schedule_and_weights(tmp_path):
    (_, (toml,)), (_, (python,)) = read(tmp_path, SENSOR), read(tmp_path, PYTHON, ".py")
    assert toml == python
    assert dict(toml.lr_schedule) == {"decay_steps": 10, "decay_rate": 0.5}
    assert toml.class_weights == (1.0, 2.0, 4.0) and toml.class_weight_divisor == "batch_size"
    described = toml.describe()
    assert described["lr_schedule"] == {"decay_steps": 10, "decay_rate": 0.5}
    assert described["class_weights"] == {"weights": [1.0, 2.0, 4.0], "divisor": "batch_size"}


def test_the_catalog_lessons_declare_them():
    assert dict(LESSONS["spiral-schedule"].lr_schedule) == {"decay_steps": 200, "decay_rate": 0.9}
    assert LESSONS["sensor-class-weights"].class_weights == (1.0, 1.0, 4.0)
    assert LESSONS["sensor"].describe()["lr_schedule"] is None
    assert LESSONS["sensor"].describe()["class_weights"] is None


@pytest.mark.parametrize("change, field, expected", [
    (("decay_steps = 10", "decay_steps = 0"), "lr_schedule", "lr_schedule expects decay_steps: an integer >= 1"),
    (("decay_steps = 10", "decay_steps = 2.5"), "lr_schedule", "Received: {'decay_steps': 2.5, 'decay_rate': 0.5}"),
    (("decay_rate = 0.5", "decay_rate = -0.5"), "lr_schedule", "decay_rate: a number > 0"),
    (("decay_rate = 0.5", "decay_rate = 0.5, staircase = 1"), "lr_schedule", "staircase: true or false"),
    (("decay_rate = 0.5", "decay_rate = 0.5, warmup = 3"), "lr_schedule", "'warmup': 3"),
    (("lr_schedule = {", "lr_schedule = 3 #"), "lr_schedule", "expected a table of name = value. Received: 3"),
    (("class_weights = [1, 2, 4]", "class_weights = [1, 2]"), "class_weights",
     "class_weights expects 3 positive numbers, one per output class. Received: (1.0, 2.0)"),
    (("class_weights = [1, 2, 4]", "class_weights = [1, 0, 4]"), "class_weights", "3 positive numbers"),
    (("class_weights = [1, 2, 4]", 'class_weights = ["a", 2, 4]'), "class_weights",
     "expected a list of numbers. Received: ['a', 2, 4]"),
    (('"batch_size"', '"mean"'), "class_weight_divisor",
     "class_weight_divisor expects one of ['sum_of_weights', 'batch_size']. Received: 'mean'"),
])
def test_a_wrong_schedule_or_weights_is_refused_naming_the_field(tmp_path, change, field, expected):
    message = refused(tmp_path, SENSOR.replace(*change))
    assert f"lesson 'mine', field '{field}': " in message and expected in message, message


def test_class_weights_need_a_categorical_loss(tmp_path):
    text = (SENSOR.replace("[2, 8, 3]", "[2, 8, 1]").replace('"softmax"', '"sigmoid"').replace('"cce"', '"bce"')
            .replace('"sensor"', '"circles"').replace("[1, 2, 4]", "[1]"))
    message = refused(tmp_path, text)
    assert "lesson 'mine', field 'class_weights': " in message
    assert "class_weights need the loss 'cce' (a softmax over classes). Received: loss='bce'" in message


def test_a_wrong_schedule_in_python_names_the_line(tmp_path):
    message = refused(tmp_path, PYTHON.replace('("decay_rate", 0.5)', '("decay_rate", "fast")'), ".py")
    assert ", line 5: lesson 'mine', field 'lr_schedule': " in message, message


def test_the_lesson_refuses_them_itself():
    with pytest.raises(ValueError, match="lesson 'sensor': class_weights expects 3 positive numbers"):
        replace(LESSONS["sensor"], class_weights=(1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="lesson 'spiral': lr_schedule expects"):
        replace(LESSONS["spiral"], lr_schedule=(("decay_rate", 0.5),))
