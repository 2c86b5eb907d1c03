"""Each lesson as three short programs a learner runs: NumPy, PyTorch and Keras, written from its declaration.

``programs(lesson)`` returns ``{"numpy": Program, "torch": Program, "keras": Program}``. Every program
is a standalone file (it imports NumPy, scikit-learn for some data sets, and its framework, never
nnparity) with the same steps in the same order and the same names, each step opened by a marker
line that the side-by-side view aligns on::

    # %% setup            imports, float64 everywhere
    # %% data             X, y (and X_test, y_test), made in the program as the lesson declares
    # %% model            the layers: forward(X) / nn.Sequential / keras.Sequential
    # %% initial weights  drawn with NumPy from the lesson's seed, loaded into the framework
    # %% loss
    # %% optimizer
    # %% training         the loop, the loss curve
    # %% accuracy         on the test points; SAVE=run.npz keeps the weights and the loss curve

(``# %%`` is the percent format of Jupyter, VS Code and jupytext: each step opens as a cell.)
The settings that make the three agree are written in the code with the reason beside them.
``EPOCHS=n`` in the environment cuts a run short (the tests use it). A lesson with a feature
the generator does not write yet is refused by ``not_generated`` with the lesson and the feature
named; ``programs`` raises ``NotGenerated`` with that sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.lessons import Lesson

from . import keras_program, numpy_program, torch_program
from .declaration import unsupported

STEPS = ("setup", "data", "model", "initial weights", "loss", "optimizer", "training", "accuracy")
TITLES = {"numpy": "NumPy", "torch": "PyTorch", "keras": "Keras 3"}
WRITERS = {"numpy": numpy_program.steps, "torch": torch_program.steps, "keras": keras_program.steps}
MARKER = "# %% "


class NotGenerated(ValueError):
    """The lesson declares something the generator does not write yet; the message names both."""


@dataclass(frozen=True)
class Program:
    """One lesson's program in one framework: its steps, in ``STEPS`` order, each ``(name, code)``."""

    lesson: str
    framework: str  # a key of TITLES
    docstring: str
    steps: tuple[tuple[str, str], ...]

    @property
    def filename(self) -> str:
        """``spiral_3_layer_torch.py``: a name Python can import, per lesson and framework."""
        return f"{self.lesson.replace('-', '_')}_{self.framework}.py"

    def step(self, name: str) -> str:
        """A step's code with its marker line, as the file has it."""
        return f"{MARKER}{name}\n{dict(self.steps)[name]}"

    @property
    def text(self) -> str:
        """The whole file."""
        body = "\n\n".join(self.step(name) for name, _ in self.steps)
        return f'"""{self.docstring}"""\n\n{body}\n'


def not_generated(lesson: Lesson) -> str | None:
    """Why the lesson's programs cannot be written yet (the lesson and the feature named), or None."""
    reason = unsupported(lesson)
    return f"lesson {lesson.name!r}: no programs yet: {reason}" if reason else None


def _runs(items, times: str = "x") -> list[str]:
    """``["relu x10", "sigmoid"]`` (``times=" x"``): a sequence with its repeats counted."""
    out = []
    for item in map(str, items):
        if out and out[-1][0] == item:
            out[-1][1] += 1
        else:
            out.append([item, 1])
    return [f"{item}{times}{n}" if n > 1 else item for item, n in out]


def _docstring(lesson: Lesson, framework: str) -> str:
    layers = "-".join(_runs(lesson.sizes))
    others = " and ".join(title for key, title in TITLES.items() if key != framework)
    batches = f"batch {lesson.batch_size}" if lesson.batch_size else "full batch"
    batches += f", dropout {lesson.dropout}" if lesson.dropout else ""
    batches += f", LayerNorm (eps {lesson.layernorm_epsilon:g})" if lesson.layernorm else ""
    batches += ", the learning rate decaying every step" if lesson.lr_schedule else ""
    batches += f", class weights {list(lesson.class_weights)}" if lesson.class_weights else ""
    return (f"The lesson {lesson.name} in {TITLES[framework]}: {layers}, {', '.join(_runs(lesson.activations, ' x'))},\n"
            f"{lesson.loss}, {lesson.optimizer} {lesson.hyperparameters.get('learning_rate')}, "
            f"{lesson.epochs} epochs, {batches}.\n\n"
            f"The same lesson in {others} starts from the same weights\n"
            "and ends with the same ones (float64).\n\n"
            f"Run: python {lesson.name.replace('-', '_')}_{framework}.py  (EPOCHS=5: a short run)\n")


def programs(lesson: Lesson) -> dict[str, Program]:
    """The lesson's three programs, ``{"numpy": ..., "torch": ..., "keras": ...}``."""
    reason = not_generated(lesson)
    if reason:
        raise NotGenerated(reason)
    out = {}
    for framework, write in WRITERS.items():
        steps = write(lesson)
        assert tuple(steps) == STEPS, (framework, tuple(steps))
        out[framework] = Program(lesson.name, framework, _docstring(lesson, framework), tuple(steps.items()))
    return out
