"""Lesson files (conformance/lesson_files.py): both forms read to the same lessons, each kind of mistake
refused naming the file, the lesson, the field, what was received and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import nnparity
from conformance import datasets
from conformance.lesson_files import (
    LessonFileError,
    add_lesson_files,
    added_lessons,
    catalog_with,
    lesson_files,
    read_lesson_file,
)
from conformance.lessons import LESSONS, Lesson, get_lesson, lesson_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lessons"

# The smallest declaration of a new network: 3-12-8-1 on the catalog's tabular3.
TOML = """
[[lesson]]
name = "mine"
sizes = [3, 12, 8, 1]
activations = ["tanh", "relu", "sigmoid"]
loss = "bce"
init = "glorot_uniform"
dataset = "tabular3"
epochs = 20
[lesson.hyper]
learning_rate = 0.1
"""
PYTHON = """
from nnparity import Lesson

LESSONS = [
    Lesson(name="mine", sizes=[3, 12, 8, 1], activations=["tanh", "relu", "sigmoid"], loss="bce",
           init="glorot_uniform", dataset="tabular3", epochs=20, hyper={"learning_rate": 0.1}),
]
"""


def write(tmp_path, text: str, suffix: str = ".toml") -> Path:
    path = tmp_path / f"lessons{suffix}"
    path.write_text(text)
    return path


def refused(tmp_path, text: str, suffix: str = ".toml") -> str:
    path = write(tmp_path, text, suffix)
    with pytest.raises(LessonFileError) as info:
        read_lesson_file(path)
    message = str(info.value)
    assert message.startswith(str(path)), message  # the file, always first
    return message


def test_both_forms_declare_the_same_lesson(tmp_path):
    (from_toml,) = read_lesson_file(write(tmp_path, TOML))
    (from_python,) = read_lesson_file(write(tmp_path, PYTHON, ".py"))
    assert from_toml == from_python
    assert from_toml.sizes == (3, 12, 8, 1) and from_toml.hyper == (("learning_rate", 0.1),)
    hash(from_python)  # lists and dicts made tuples: the twins are cached by lesson


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.*") if p.suffix in (".py", ".toml")))
def test_the_documented_examples_load_with_their_data(example):
    lessons = read_lesson_file(EXAMPLES / example)
    assert len(lessons) >= 2 and not any(lesson.name in LESSONS for lesson in lessons)
    with catalog_with([EXAMPLES / example]):  # added: their data functions are registered
        for lesson in lessons:
            X, y = lesson_data(lesson)
            assert X.shape[1] == lesson.sizes[0] and y.shape[1] == lesson.sizes[-1]


def test_the_page_shows_the_example_files_as_they_are():
    """docs/lesson-files.md shows each example file whole, under a marker naming it."""
    page = (EXAMPLES.parents[1] / "docs" / "lesson-files.md").read_text()
    shown = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", page, flags=re.S))
    assert set(shown) == {"examples/lessons/my_lessons.toml", "examples/lessons/my_lessons.py"}
    for path, text in shown.items():
        assert text == (EXAMPLES.parents[1] / path).read_text(), path


def test_lessons_join_the_catalog_by_name_and_leave_it(tmp_path):
    path = write(tmp_path, TOML)
    with catalog_with([path]) as added:
        assert added == ("mine",) and added_lessons() == ("mine",)
        assert get_lesson("mine").sizes == (3, 12, 8, 1)
        assert lesson_files() == (str(path.resolve()),)
        assert add_lesson_files([path]) == ()  # a file already added is not read again
    assert "mine" not in LESSONS and lesson_files() == () and added_lessons() == ()


def test_a_name_of_the_catalog_is_refused(tmp_path):
    path = write(tmp_path, TOML.replace('"mine"', '"spiral"'))
    with pytest.raises(LessonFileError, match=r"lesson 'spiral', field 'name': .*already declared in the catalog"):
        add_lesson_files([path])
    assert get_lesson("spiral").sizes == (2, 16, 1)  # the catalog's own, untouched


def test_a_name_declared_by_two_files_is_refused_and_nothing_is_added(tmp_path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(TOML)
    second.write_text(TOML)
    with pytest.raises(LessonFileError, match=r"b.toml: lesson 'mine', field 'name': .*already declared in .*a.toml"):
        add_lesson_files([first, second])
    assert "mine" not in LESSONS and lesson_files() == ()


def test_an_unknown_activation(tmp_path):
    message = refused(tmp_path, TOML.replace('"tanh"', '"gelu"'))
    assert "lesson 'mine', field 'activations': expected names from [" in message
    assert "(unknown: ['gelu'])" in message and "Received: ['gelu', 'relu', 'sigmoid']" in message


def test_sizes_that_do_not_chain(tmp_path):
    message = refused(tmp_path, TOML.replace('["tanh", "relu", "sigmoid"]', '["tanh", "sigmoid"]'))
    assert re.search(r"field 'activations': expected 3 activations: sizes \[3, 12, 8, 1\] make 3 Dense layers.*"
                     r"Received: \['tanh', 'sigmoid'\]", message), message


def test_sizes_that_do_not_chain_in_python_name_the_line(tmp_path):
    message = refused(tmp_path, PYTHON.replace('["tanh", "relu", "sigmoid"]', '["tanh", "sigmoid"]'), ".py")
    assert ", line 5: lesson 'mine', field 'activations': expected 3 activations: sizes [3, 12, 8, 1]" in message


SOFTMAX_2 = TOML.replace("[3, 12, 8, 1]", "[3, 12, 8, 2]").replace('"sigmoid"]', '"softmax"]')


@pytest.mark.parametrize("text, field, expected", [
    (TOML.replace('"bce"', '"cce"'), "activations", "softmax as the last activation for loss 'cce'"),
    (TOML.replace('"sigmoid"]', '"softmax"]'), "sizes", "at least 2 output units under softmax"),
    (SOFTMAX_2, "activations", "sigmoid as the last activation for loss 'bce'"),
    (TOML.replace('"bce"', '"cce_logits"').replace('"sigmoid"]', '"linear"]'), "sizes",
     "at least 2 output units for loss 'cce_logits'"),
], ids=["cce-on-one-sigmoid-unit", "softmax-on-one-unit", "bce-on-softmax", "cce-on-one-logit"])
def test_a_loss_that_does_not_fit_the_output(tmp_path, text, field, expected):
    message = refused(tmp_path, text)
    assert f"lesson 'mine', field '{field}': expected {expected}" in message and "Received: " in message


def test_categorical_targets_must_be_one_hot(tmp_path):
    message = refused(tmp_path, SOFTMAX_2.replace('"bce"', '"cce"'))  # tabular3's y is one column: it does not fit 2 outputs
    assert "field 'dataset': expected data that loads and fits the layers" in message and "y (N, 2)" in message


@pytest.mark.parametrize("dataset, expected", [
    ('"nope"', "expected one of ['and', 'circles'"),
    ('"missing.csv"', "expected a data file that exists (looked for "),
    ('"spiral"', "the layers (3, 12, 8, 1) need X (N, 3)"),  # 2 features for 3 inputs
    ('"bad.csv"', "expected a header row naming feature columns and target columns"),
])
def test_a_dataset_that_does_not_load(tmp_path, dataset, expected):
    (tmp_path / "bad.csv").write_text("a,b,c,d\n1,2,3,4\n")  # no target column
    message = refused(tmp_path, TOML.replace('"tabular3"', dataset))
    assert "lesson 'mine', field 'dataset': expected" in message and expected in message, message


def test_an_unknown_field(tmp_path):
    message = refused(tmp_path, TOML.replace("epochs", "epoch"))
    assert "lesson 'mine', field 'epoch': expected fields of Lesson: [" in message
    assert "('epoch': did you mean 'epochs'?)" in message and "Received: ['epoch']" in message


def test_an_unknown_field_in_python_names_the_line(tmp_path):
    message = refused(tmp_path, PYTHON.replace("epochs=", "epoch="), ".py")
    assert ", line 5: TypeError: " in message and "'epoch'" in message and "did you mean 'epochs'?" in message


@pytest.mark.parametrize("change, field, expected, received", [
    (("sizes = [3, 12, 8, 1]", 'sizes = [3, "12", 8, 1]'), "sizes", "a list of positive integers", "[3, '12', 8, 1]"),
    (("epochs = 20", "epochs = 2.5"), "epochs", "an integer", "2.5"),
    (("epochs = 20", "epochs = true"), "epochs", "an integer", "True"),
    (("learning_rate = 0.1", 'learning_rate = "fast"'), "hyper", "a table of name = number", "{'learning_rate': 'fast'}"),
    (('loss = "bce"', "loss = 3"), "loss", "a string", "3"),
])
def test_wrong_types(tmp_path, change, field, expected, received):
    message = refused(tmp_path, TOML.replace(*change))
    assert f"lesson 'mine', field '{field}': expected {expected}. Received: {received}" in message


def test_wrong_types_in_python(tmp_path):
    message = refused(tmp_path, PYTHON.replace("epochs=20", "epochs='20'"), ".py")
    assert "lesson 'mine', field 'epochs': expected an integer. Received: '20'" in message


@pytest.mark.parametrize("change, field, expected", [
    (('init = "glorot_uniform"', 'init = "xavier"'), "init", "expected one of ['glorot_normal'"),
    (("learning_rate = 0.1", "learning_rate = 0.1\nbeta_9 = 0.9"), "hyper", "unknown hyper-parameter(s) ['beta_9']"),
    (('epochs = 20', 'epochs = 20\noptimizer = "lbfgs"'), "optimizer", "unknown optimizer 'lbfgs'"),
    (('epochs = 20', 'epochs = 20\ndropout = 1.5'), "dropout", "expected 0 < dropout < 1. Received: dropout=1.5"),
    (('name = "mine"', 'name = "my lesson"'), "name", "letters, digits, '-', '_' and '.'"),
])
def test_other_names_and_ranges(tmp_path, change, field, expected):
    message = refused(tmp_path, TOML.replace(*change))
    assert f"field '{field}': " in message and expected in message, message


def test_an_optimizer_left_to_the_frameworks_defaults(tmp_path):
    """Adam with its learning rate alone: Keras's epsilon is not torch's, and Keras rounds its beta_1 = 0.9
    through float32 even in float64 (measured: a float64 step 7e-8 from the reference's)."""
    message = refused(tmp_path, TOML.replace("epochs = 20", 'epochs = 20\noptimizer = "adam"'))
    assert ("field 'hyper': expected adam's beta_1, beta_2, epsilon written out: PyTorch's and Keras's defaults "
            "differ, or Keras rounds its default through float32 even in float64. Received: {'learning_rate': 0.1}"
            in message)
    given = "learning_rate = 0.1\nbeta_1 = 0.9\nbeta_2 = 0.999\nepsilon = 1e-7"
    (lesson,) = read_lesson_file(write(tmp_path, TOML.replace("epochs = 20", 'epochs = 20\noptimizer = "adam"')
                                       .replace("learning_rate = 0.1", given)))
    assert lesson.hyperparameters == {"learning_rate": 0.1, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


NADAM = ('epochs = 20', 'epochs = 20\noptimizer = "nadam"')
NADAM_HYPER = "learning_rate = 0.1\nbeta_1 = 0.9\nbeta_2 = 0.999\nepsilon = 1e-7\nmomentum_decay = 1.0"


def test_an_optimizer_of_adaptive_optimizers_is_a_lesson_s_optimizer(tmp_path):
    """NAdam (reference/adaptive_optimizers.py) as a lesson's optimizer: its momentum_decay written out (torch's
    default 4e-3, Keras's 0.96**t), and only the value Keras's Nadam computes, 1.0: any other one is refused by
    the reference's Keras convention, as Keras has no such argument."""
    message = refused(tmp_path, TOML.replace(*NADAM))
    assert "field 'hyper': expected nadam's beta_1, beta_2, epsilon, momentum_decay written out" in message
    message = refused(tmp_path, TOML.replace(*NADAM).replace("learning_rate = 0.1", NADAM_HYPER.replace("1.0", "0.004")))
    assert "field 'hyper': NAdam: keras.optimizers.Nadam has no momentum_decay" in message, message
    (lesson,) = read_lesson_file(write(tmp_path, TOML.replace(*NADAM).replace("learning_rate = 0.1", NADAM_HYPER)))
    assert lesson.optimizer == "nadam" and lesson.hyperparameters["momentum_decay"] == 1.0


def test_a_file_that_is_not_a_lesson_file(tmp_path):
    assert "expected one [[lesson]] table per lesson and nothing else" in refused(tmp_path, "name = 'x'\n")
    assert "not valid TOML" in refused(tmp_path, "[[lesson]\n")
    assert "expected LESSONS = [Lesson(...), ...]" in refused(tmp_path, "LESSONS = []\n", ".py")
    assert "line 1: ZeroDivisionError" in refused(tmp_path, "1 / 0\n", ".py")
    assert "ending in .py or .toml" in refused(tmp_path, "", ".yaml")


def test_own_data_from_npz_and_csv_relative_to_the_lesson_file(tmp_path):
    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "points.npz", X=X, y=labels)
    header = "a,b,c,y\n"
    (tmp_path / "data" / "points.csv").write_text(header + "".join(
        ",".join(map(repr, map(float, r))) + f",{t}\n" for r, t in zip(X, labels)))
    for name in ("data/points.npz", "data/points.csv"):
        (lesson,) = read_lesson_file(write(tmp_path, TOML.replace('"tabular3"', f'"{name}"')))
        assert lesson.dataset == str(tmp_path / name)
        X_read, y_read = datasets.load(lesson.dataset)
        np.testing.assert_array_equal(X_read, X)  # repr() round-trips a float64 exactly
        np.testing.assert_array_equal(y_read, labels.reshape(-1, 1))


def test_a_lesson_object_from_python_is_the_public_one():
    assert nnparity.Lesson is Lesson


DATA_FUNCTION = '''
import numpy as np
from nnparity import Lesson

def points():
    return np.arange(24.0).reshape(8, 3) / 24, np.array([0, 1] * 4)

LESSONS = [Lesson(name="mine", sizes=(3, 4, 1), activations=("tanh", "sigmoid"), loss="bce", init="he_normal",
                  dataset=points)]
'''


def test_own_data_from_a_function_of_a_python_file(tmp_path):
    path = write(tmp_path, DATA_FUNCTION, ".py")
    with catalog_with([path]):
        lesson = get_lesson("mine")
        assert lesson.dataset == f"{path.resolve()}:points" and lesson.dataset in datasets.DATASETS
        X, y = lesson_data(lesson)
        np.testing.assert_array_equal(X, np.arange(24.0).reshape(8, 3) / 24)
        np.testing.assert_array_equal(y, np.array([[0.0], [1.0]] * 4))
    assert f"{path.resolve()}:points" not in datasets.DATASETS  # the file's function leaves with its lessons


@pytest.mark.parametrize("body, expected", [
    ("return 1 / 0", "field 'dataset': expected data that loads and fits the layers: ZeroDivisionError: division by zero"),
    ("return np.ones((8, 3))", "expected the function to return (X, y). Received: ndarray"),
    ("return np.ones((8, 2)), np.ones(8)", "the layers (3, 4, 1) need X (N, 3)"),
])
def test_a_data_function_that_does_not_give_the_data(tmp_path, body, expected):
    text = DATA_FUNCTION.replace("return np.arange(24.0).reshape(8, 3) / 24, np.array([0, 1] * 4)", body)
    message = refused(tmp_path, text, ".py")
    assert "lesson 'mine', field 'dataset': expected data that loads" in message and expected in message, message
    # a refused file leaves no data function of its own behind (a later message or lookup would see it)
    assert not [name for name in datasets.DATASETS if name.startswith(str(tmp_path))]


def test_reading_a_python_file_registers_nothing_adding_it_does(tmp_path):
    path = write(tmp_path, DATA_FUNCTION, ".py")
    name = f"{path.resolve()}:points"
    before = dict(datasets.DATASETS)
    (lesson,) = read_lesson_file(path)  # its data was loaded to check it ...
    assert lesson.dataset == name
    assert datasets.DATASETS == before  # ... and no function of the file stays behind
    with catalog_with([path]):
        added = datasets.DATASETS[name]
        read_lesson_file(path)  # reading an added file again leaves the added file's function in place
        assert datasets.DATASETS[name] is added
        np.testing.assert_array_equal(lesson_data(get_lesson("mine"))[0], np.arange(24.0).reshape(8, 3) / 24)
    assert datasets.DATASETS == before


def test_a_file_refused_for_a_name_registers_none_of_the_files_functions(tmp_path):
    first = write(tmp_path, DATA_FUNCTION, ".py")
    second = tmp_path / "again.toml"
    second.write_text(TOML)  # declares 'mine' as well: the pair is refused
    before = dict(datasets.DATASETS)
    with pytest.raises(LessonFileError, match="already declared in"):
        add_lesson_files([first, second])
    assert datasets.DATASETS == before and "mine" not in LESSONS
