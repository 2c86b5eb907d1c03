"""The data step: the lesson's data set made in the program, as ``conformance/datasets.py`` makes it.

Each writer returns the lines that leave ``X`` (N, features) and ``y`` (N, outputs) as float64
arrays, the very numbers of ``datasets.load`` (``tests/programs/test_program_text.py`` runs every
catalog lesson's lines and compares), and ``X_test, y_test``: the test split where the data set has
one (``circles``, ``moons``), else the training points themselves. The step is the same in all three
programs.
"""

from __future__ import annotations

import inspect

from conformance import datasets
from conformance.lessons import Lesson


def _table(X, y) -> list[str]:
    return [f"X = np.array({X}, dtype=float)", f"y = np.array({y}, dtype=float)"]


def _xor(**_):
    return _table([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]) + ["# XOR: y = 1 when exactly one input is 1"]


def _and(**_):
    return _table([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [0], [0], [1]]) + ["# AND: y = 1 when both inputs are 1"]


def _neuron(**_):
    return _table([[0.5, 0.8]], [[1.0]]) + ["# one input, and its target"]


def _spiral(n_per_class, noise, seed):
    return [
        f"rng = np.random.default_rng({seed})  # data seed",
        f"t = np.tile(np.linspace(0.0, 1.0, {n_per_class}), 2)",
        f"label = np.repeat([0.0, 1.0], {n_per_class})",
        "angle = t * 3 * np.pi + label * np.pi",
        "X = np.column_stack([t * np.cos(angle),",
        "                     t * np.sin(angle)])",
        f"X = X + rng.normal(0.0, {noise}, X.shape)",
        "y = label.reshape(-1, 1)",
    ]


def _sensor(n_per_class, seed):
    return [
        f"rng = np.random.default_rng({seed})  # data seed",
        "# temperature, vibration: normal, warning, critical",
        "centres = [[60.0, 2.0], [75.0, 5.0], [90.0, 8.0]]",
        f"X = np.concatenate([rng.normal(c, [6.0, 1.2], ({n_per_class}, 2))",
        "                    for c in centres])",
        "X = (X - X.mean(axis=0)) / X.std(axis=0)",
        f"y = np.repeat(np.eye(3), {n_per_class}, axis=0)  # one-hot",
    ]


def _split(make: str, call: str) -> list[str]:
    return [
        f"from sklearn.datasets import {make}",
        "from sklearn.model_selection import train_test_split",
        "from sklearn.preprocessing import StandardScaler",
        f"X, y = {call}",
        "X, X_test, y, y_test = train_test_split(",
        "    X, y.reshape(-1, 1).astype(float), test_size=0.2,",
        "    random_state=42)",
        "scaler = StandardScaler().fit(X)  # the training split's",
        "X, X_test = scaler.transform(X), scaler.transform(X_test)",
    ]


def _tabular(samples, features, informative, redundant):
    return [
        "from sklearn.datasets import make_classification",
        "from sklearn.preprocessing import StandardScaler",
        "X, y = make_classification(",
        f"    n_samples={samples}, n_features={features},",
        f"    n_informative={informative}, n_redundant={redundant},",
        "    random_state=42)",
        "X = StandardScaler().fit_transform(X)",
        "y = y.reshape(-1, 1).astype(float)",
    ]


# data set -> (its writer, the loader whose defaults the writer takes, the test split it makes too)
WRITERS = {
    "xor": (_xor, datasets.xor, None),
    "and": (_and, datasets.and_gate, None),
    "neuron": (_neuron, datasets.neuron, None),
    "spiral": (_spiral, datasets.spiral, None),
    "sensor": (_sensor, datasets.sensor, None),
    "circles": (lambda: _split("make_circles", "make_circles(n_samples=1000, noise=0.1, random_state=42)"),
                datasets.circles, "circles_test"),
    "moons": (lambda: _split("make_moons", "make_moons(n_samples=1000, noise=0.2, random_state=42)"),
              datasets.moons, "moons_test"),
    "tabular4": (lambda: _tabular(500, 4, 3, 1), datasets.tabular4, None),
    "tabular3": (lambda: _tabular(400, 3, 3, 0), datasets.tabular3, None),
}


def _arguments(lesson: Lesson) -> dict:
    """The loader's arguments: its defaults, then the lesson's ``dataset_args``."""
    loader = WRITERS[lesson.dataset][1]
    defaults = {name: p.default for name, p in inspect.signature(loader).parameters.items()}
    return {**defaults, **dict(lesson.dataset_args)}


def data_unsupported(lesson: Lesson) -> str | None:
    """Why the data step cannot be written for ``lesson`` (the data set named), or None."""
    if lesson.dataset not in WRITERS:
        return f"the data set {lesson.dataset!r} (written: {', '.join(WRITERS)})"
    loader, split = WRITERS[lesson.dataset][1], WRITERS[lesson.dataset][2]
    unknown = set(dict(lesson.dataset_args)) - set(inspect.signature(loader).parameters)
    if unknown:
        return f"the data set {lesson.dataset!r} with the arguments {', '.join(sorted(unknown))}"
    if lesson.test_dataset not in (None, lesson.dataset, split):
        return f"the test data set {lesson.test_dataset!r} apart from {lesson.dataset!r}"
    return None


def data_lines(lesson: Lesson) -> list[str]:
    """The data step: X, y, X_test, y_test (float64)."""
    write, _, split = WRITERS[lesson.dataset]
    lines = write(**_arguments(lesson))
    if lesson.test_dataset is None or lesson.test_dataset == lesson.dataset or split is None:
        lines += ["# judged on its training points", "X_test, y_test = X, y"]
    return lines
