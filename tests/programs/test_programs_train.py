"""The generated programs run, each in a process of its own, and train as the reference does (float64).

Each framework's programs run in one subprocess (``sys.executable``, cwd a temporary folder, the
project off ``PYTHONPATH``), one after the other through ``runpy``, so that PyTorch or Keras is
imported once for all lessons: every program is run as a file, exactly as written. Each is told
``EPOCHS`` (how long to train) and ``SAVE`` (where its last lines write its trained weights and
loss curve), and the reference trains the same lesson for as long (``reference_run``, under the
framework's conventions). The comparison is the training check's, at its float64 tolerance.

How long: the NumPy programs run every lesson to its end; the PyTorch and Keras ones run
``CUT`` epochs (Keras's ``fit`` costs some 60-100 ms per epoch here, so spiral's 2000 epochs take
minutes; a whole run of each was measured once, docs/show-and-report.md). A lesson that does not
train (epochs=0) takes one step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from conformance.checks.training import reference_run
from conformance.compare import compare
from conformance.lessons import LESSONS, get_lesson
from conformance.tolerances import tolerance
from frameworks import unavailable_reason
from nnparity.programs import not_generated, programs
from nnparity.programs.batchnorm import state_names

GENERATED = sorted(name for name, lesson in LESSONS.items() if not not_generated(lesson))
FRAMEWORKS = ("numpy", "torch", "keras")
CUT = 5  # epochs of a PyTorch or Keras program in the suite

RUNNER = """
import os, runpy, sys, traceback
for path, save, epochs in zip(*[iter(sys.argv[1:])] * 3):
    os.environ["SAVE"], os.environ["EPOCHS"] = save, epochs
    try:
        runpy.run_path(path, run_name="__main__")
    except BaseException:
        with open(save + ".error", "w") as f:
            f.write(traceback.format_exc())
"""


def epochs_run(lesson, framework: str) -> int:
    full = lesson.epochs if framework == "numpy" else min(lesson.epochs, CUT)
    return max(full, 1)


def run_programs(folder, texts: dict[str, tuple[str, int]], timeout: int = 300) -> dict[str, object]:
    """Write each program (name -> (text, epochs)) into ``folder`` and run them all in one process.

    Returns name -> the saved arrays (an ``np.load``), or the traceback text where one failed."""
    args = []
    for name, (text, epochs) in texts.items():
        (folder / f"{name}.py").write_text(text)
        args += [f"{name}.py", str(folder / f"{name}.npz"), str(epochs)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the project is not on the path
    done = subprocess.run([sys.executable, "-c", RUNNER, *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = {}
    for name in texts:
        error, saved = folder / f"{name}.npz.error", folder / f"{name}.npz"
        out[name] = (error.read_text() if error.exists() else np.load(saved) if saved.exists()
                     else f"no output; the process said:\n{done.stderr[-3000:]}")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """framework -> lesson -> what its program saved (run on first use, all lessons at once)."""
    done = {}

    def of(framework):
        if framework not in done:
            texts = {}
            for name in GENERATED:
                lesson = get_lesson(name)
                texts[name] = (programs(lesson)[framework].text, epochs_run(lesson, framework))
            done[framework] = run_programs(tmp_path_factory.mktemp(framework), texts)
        return done[framework]
    return of


def saved_params(lesson, framework: str, saved) -> dict[str, np.ndarray]:
    """The saved arrays by the reference's names (W1, b1, gamma1, ..., moving_variance1, W2, ...), in the order
    every program saves them (Keras's); nn.Linear's weights transposed back."""
    arrays = [saved[f"arr_{i}"] for i in range(len(saved.files) - 1)]
    if framework == "torch":
        arrays = [a.T if a.ndim == 2 else a for a in arrays]
    names = state_names(lesson)
    assert len(arrays) == len(names), f"saved {len(arrays)} arrays for {names}"
    return dict(zip(names, arrays))


def agreement(lesson, framework: str, saved, epochs: int):
    """The program's run against the reference's run of as many epochs (the framework's conventions)."""
    ref = reference_run(replace(lesson, epochs=epochs), "float64", "keras" if framework == "keras" else "torch")
    actual = {**saved_params(lesson, framework, saved), "loss curve": np.asarray(saved["losses"])}
    expected = {**ref.params, "loss curve": ref.losses}
    tol = tolerance("float64", "training", lesson)
    return compare(actual, expected, atol=tol.atol, rtol=tol.rtol, same_items=True,
                   what=f"{lesson.name}'s {framework} program after {epochs} epochs")


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("lesson", GENERATED)
def test_the_program_trains_as_the_reference(runs, lesson, framework):
    if framework != "numpy" and unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))
    lesson = get_lesson(lesson)
    saved = runs(framework)[lesson.name]
    assert not isinstance(saved, str), f"{lesson.name}'s {framework} program failed:\n{saved}"
    result = agreement(lesson, framework, saved, epochs_run(lesson, framework))
    assert result.passed, result.message()


def test_a_program_that_drifts_from_its_declaration_fails(tmp_path):
    """The spiral program written for a learning rate of 0.051 is not the spiral lesson's (0.05)."""
    lesson = get_lesson("spiral")
    drifted = replace(lesson, hyper=(("learning_rate", 0.051),))
    saved = run_programs(tmp_path, {"spiral": (programs(drifted)["numpy"].text, 3)})["spiral"]
    result = agreement(lesson, "numpy", saved, 3)
    assert not result.passed
    assert "loss curve" in result.message() or "W" in result.worst


def test_a_dropout_program_with_other_masks_fails(tmp_path):
    """spiral-dropout's NumPy program taking each step's masks from the next step's draw is not the lesson's:
    the comparison sees which masks a program trained with."""
    lesson = get_lesson("spiral-dropout")
    text = programs(lesson)["numpy"].text
    assert text.count("dropout_masks(epoch)") == 1
    shifted = text.replace("dropout_masks(epoch)", "dropout_masks(epoch + 1)")
    saved = run_programs(tmp_path, {"spiral_dropout": (shifted, 3)})["spiral_dropout"]
    assert not isinstance(saved, str), saved
    result = agreement(lesson, "numpy", saved, 3)
    assert not result.passed
    assert "loss curve" in result.message()


def test_a_dropout_lesson_of_one_hidden_layer_trains_as_the_reference(tmp_path):
    """One mask per step, a seed and a rate of their own: the NumPy program follows the reference."""
    lesson = replace(get_lesson("spiral-dropout"), name="one-hidden-dropout", sizes=(2, 8, 1),
                     activations=("relu", "sigmoid"), seed=3, dropout=0.5)
    saved = run_programs(tmp_path, {"one": (programs(lesson)["numpy"].text, 20)})["one"]
    assert not isinstance(saved, str), saved
    result = agreement(lesson, "numpy", saved, 20)
    assert result.passed, result.message()


def test_a_layernorm_program_with_keras_default_epsilon_fails(tmp_path):
    """spiral-layernorm's NumPy program with Keras's default epsilon (1e-3) in place of the declared 1e-5 is
    not the lesson's: the comparison sees the epsilon the program normalized with."""
    lesson = get_lesson("spiral-layernorm")
    text = programs(lesson)["numpy"].text
    assert text.count("eps = 1e-05") == 1
    saved = run_programs(tmp_path, {"ln": (text.replace("eps = 1e-05", "eps = 0.001"), 3)})["ln"]
    assert not isinstance(saved, str), saved
    result = agreement(lesson, "numpy", saved, 3)
    assert not result.passed
    assert "loss curve" in result.message() or "gamma" in result.worst or "W" in result.worst


def test_a_layernorm_lesson_with_mini_batches_trains_as_the_reference(tmp_path):
    """LayerNorm keeps no batch statistics, so mini-batches are written too: the NumPy program follows the
    reference on a lesson of one hidden layer, batches of 32 and an epsilon of its own."""
    lesson = replace(get_lesson("spiral-layernorm"), name="one-hidden-layernorm", sizes=(2, 8, 1),
                     activations=("tanh", "sigmoid"), batch_size=32, layernorm_epsilon=0.01)
    assert not not_generated(lesson)
    saved = run_programs(tmp_path, {"one": (programs(lesson)["numpy"].text, 4)})["one"]
    assert not isinstance(saved, str), saved
    result = agreement(lesson, "numpy", saved, 4)
    assert result.passed, result.message()


def test_a_staircase_schedule_program_trains_as_the_reference(tmp_path):
    """spiral-schedule floored every 30 steps (``staircase``): the NumPy program's ``iterations // 30`` is the
    reference's floor, over 200 steps (seven stairs)."""
    lesson = replace(get_lesson("spiral-schedule"), lr_schedule=(("decay_steps", 30), ("decay_rate", 0.5),
                                                                 ("staircase", True)))
    text = programs(lesson)["numpy"].text
    assert "(iterations // 30)" in text
    saved = run_programs(tmp_path, {"staircase": (text, 20)})["staircase"]
    assert not isinstance(saved, str), saved
    result = agreement(lesson, "numpy", saved, 20)
    assert result.passed, result.message()
