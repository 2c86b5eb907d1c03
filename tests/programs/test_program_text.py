"""The generated programs as text: the lesson's own data and weights, the steps in order, nothing of nnparity.

Cheap checks, no framework needed: each program's data and initial-weights steps are executed
here and give the arrays of ``conformance/datasets.py`` and ``initial_params`` to the bit.
Whether the programs then train as the reference does is ``test_programs_train.py``.
"""

from __future__ import annotations

import ast
from dataclasses import replace

import numpy as np
import pytest

from conformance.lessons import LESSONS, dropout_masks, get_lesson, initial_params, lesson_data, lesson_test_data
from nnparity.programs import MARKER, STEPS, NotGenerated, not_generated, programs
from nnparity.programs.data import data_lines
from nnparity.programs.dropout import mask_lines
from nnparity.programs.weights import weight_lines
from reference.dropout import scaled_mask

GENERATED = sorted(name for name, lesson in LESSONS.items() if not not_generated(lesson))
# What a learner's copy may import: NumPy, scikit-learn for some data sets, and its own framework.
ALLOWED_IMPORTS = {"numpy": {"os", "numpy", "sklearn"}, "torch": {"os", "numpy", "sklearn", "torch"},
                   "keras": {"os", "numpy", "sklearn", "keras"}}
PROJECT = ("nnparity", "conformance", "reference", "frameworks")


def run_lines(lines: list[str]) -> dict:
    namespace = {"np": np}
    exec("\n".join(lines), namespace)  # the program's own lines, as the program runs them
    return namespace


def test_the_whole_catalog_is_generated():
    refused = {name: not_generated(lesson) for name, lesson in LESSONS.items() if not_generated(lesson)}
    assert refused == {}, refused


@pytest.mark.parametrize("lesson", GENERATED)
def test_the_data_step_makes_the_lessons_data(lesson):
    lesson = get_lesson(lesson)
    made = run_lines(data_lines(lesson))
    for (X, y), names in ((lesson_data(lesson), ("X", "y")), (lesson_test_data(lesson), ("X_test", "y_test"))):
        np.testing.assert_array_equal(made[names[0]], X)  # the same bits: the same calls, in the same order
        np.testing.assert_array_equal(made[names[1]], y)
        assert made[names[0]].dtype == made[names[1]].dtype == np.float64


@pytest.mark.parametrize("lesson", GENERATED)
def test_the_initial_weights_are_the_references(lesson):
    lesson = get_lesson(lesson)
    program = programs(lesson)["numpy"]  # its model step first: a deep network's loop reads its sizes
    made = run_lines([program.step("model"), program.step("initial weights")])
    if "Ws" in made:  # a deep network's loops: Ws and bs, in order
        made.update({f"{v}{l}": a for v, arrays in (("W", made["Ws"]), ("b", made["bs"]))
                     for l, a in enumerate(arrays, start=1)})
    for name, value in initial_params(lesson).items():
        np.testing.assert_array_equal(made[name], value, err_msg=f"{lesson.name}: {name}")


# a lesson of one hidden layer, a seed and a rate of its own
ONE_HIDDEN = replace(LESSONS["spiral-dropout"], name="one-hidden-dropout", sizes=(2, 8, 1),
                     activations=("relu", "sigmoid"), seed=3, dropout=0.5)


@pytest.mark.parametrize("lesson", [LESSONS[name] for name in GENERATED if LESSONS[name].dropout] + [ONE_HIDDEN],
                         ids=lambda lesson: lesson.name)
def test_the_dropout_masks_are_the_references_in_all_three(lesson):
    """Every program draws the masks that the reference trains with (``dropout_masks``), to the bit."""
    made = run_lines(data_lines(lesson) + mask_lines(lesson))
    for step in (0, 1, lesson.epochs - 1):
        expected = dropout_masks(lesson, len(made["X"]), step)
        drawn = made["dropout_masks"](step)
        assert len(drawn) == len(expected) == lesson.n_layers - 1
        for l, mask in enumerate(drawn, start=1):
            np.testing.assert_array_equal(mask, scaled_mask(expected[f"dropout{l}"], lesson.dropout, np.float64))
    assert not np.array_equal(made["dropout_masks"](0)[0], made["dropout_masks"](1)[0])  # a new mask each step
    for program in programs(lesson).values():  # the same lines in every program's model step
        assert "\n".join(mask_lines(lesson)) in program.step("model"), program.filename


def test_a_seed_of_its_own_changes_the_weights_drawn():
    lesson = replace(get_lesson("spiral"), seed=7)
    made = run_lines(weight_lines(lesson))
    np.testing.assert_array_equal(made["W1"], initial_params(lesson)["W1"])
    assert not np.array_equal(made["W1"], initial_params(get_lesson("spiral"))["W1"])


def imported(source: str) -> set[str]:
    tree = ast.parse(source)
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return names | {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module}


@pytest.mark.parametrize("lesson", GENERATED)
def test_each_program_stands_alone_with_the_same_steps(lesson):
    three = programs(get_lesson(lesson))
    for framework, program in three.items():
        text = program.text
        assert imported(text) <= ALLOWED_IMPORTS[framework], (framework, imported(text))
        assert not any(name in text for name in PROJECT), f"{program.filename} names the project"
        markers = [line[len(MARKER):] for line in text.splitlines() if line.startswith(MARKER)]
        assert markers == list(STEPS), program.filename
        code = [line for line in text.split('"""', 2)[2].splitlines() if line.strip() and not line.lstrip().startswith("#")]
        # measured: 28 to 46 for one hidden layer, up to 67 for three layers with Adam and mini-batches,
        # 90 for NumPy's BatchNorm written out, forward and backward; 72 for PyTorch's dropout (the shared
        # masks' function and the layer that applies them); 73 for NumPy's LayerNorm written out
        limit = {"spiral-batchnorm": 95, "spiral-dropout": 75, "spiral-layernorm": 80}.get(program.lesson, 70)
        assert len(code) <= limit, f"{program.filename}: {len(code)}"
        assert max(len(line) for line in text.splitlines()) <= 79, program.filename


@pytest.mark.parametrize("change, feature", [
    (dict(dataset="random"), "the data set 'random'"),
    (dict(optimizer="rmsprop", hyper=(("learning_rate", 0.01),)), "the optimizer 'rmsprop'"),
    (dict(init="he_normal", init_args=(("truncated", True),)), "the he_normal initializer with truncated"),
    (dict(hyper=(("learning_rate", 0.1), ("momentum", 0.9))), "the sgd hyper-parameter(s) momentum"),
    (dict(activations=("leaky_relu", "sigmoid")), "the activation 'leaky_relu'"),
    (dict(sizes=(2, 16, 16, 16, 16, 1), activations=("relu",) * 4 + ("sigmoid",), batch_size=32),
     "5 layers with mini-batches"),
    (dict(loss="mse", activations=("relu", "softmax")), "a softmax output with the loss 'mse'"),
    (dict(dropout=0.2, batch_size=32), "dropout with mini-batches"),
    (dict(dropout=0.2, activations=("tanh", "sigmoid")), "dropout after a sigmoid or tanh hidden layer"),
    (dict(layernorm=True, dropout=0.2), "LayerNorm with dropout"),
])
def test_what_cannot_be_written_yet_is_refused_by_name(change, feature):
    lesson = replace(get_lesson("spiral"), name="my-lesson", **change)
    with pytest.raises(NotGenerated) as error:
        programs(lesson)
    assert str(error.value).startswith("lesson 'my-lesson': no programs yet: ")
    assert feature in str(error.value)


def test_a_schedule_with_an_optimizer_whose_programs_do_not_apply_it_is_refused_by_name():
    """The programs apply a schedule to SGD and Adam only: a scheduled NAdam lesson is refused, naming both,
    rather than written without its schedule."""
    lesson = replace(get_lesson("spiral-schedule"), optimizer="nadam",
                     hyper=(("learning_rate", 0.01), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7),
                            ("momentum_decay", 1.0)))
    reason = not_generated(lesson)
    assert reason is not None and "learning-rate schedule with nadam" in reason and "sgd, adam" in reason
