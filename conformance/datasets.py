"""The lessons' datasets, as code shared by the reference and both frameworks.

Every loader returns ``(X, y)`` as float64 arrays: ``X`` of shape ``(N, features)``,
``y`` of shape ``(N, k)`` (k = 1 for a binary or regression target, one-hot for
k classes). Everything is deterministic: each dataset has its fixed seed.
scikit-learn is imported only by the loaders that need it (its import costs
over a second).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np


def _binary(X, y):
    return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64).reshape(-1, 1)


def xor():
    """The XOR truth table: y = 1 when exactly one input is 1 (4 samples)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    return _binary(X, [0, 1, 1, 0])


def and_gate():
    """The AND truth table (4 samples): linearly separable, the perceptron's lesson."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    return _binary(X, [0, 0, 0, 1])


def neuron():
    """The single-neuron lesson's one input x = [0.5, 0.8]; the target 1.0 is nnparity's choice."""
    return _binary([[0.5, 0.8]], [1.0])


def _split_and_scale(X, y):
    """80/20 ``train_test_split`` (random_state=42), then ``StandardScaler`` fit on the training split only."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(X_train)
    return _binary(scaler.transform(X_train), y_train), _binary(scaler.transform(X_test), y_test)


def _circles_split():
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=1000, noise=0.1, random_state=42)
    # The seed leaves the split unseeded; nnparity fixes random_state=42 so runs repeat.
    return _split_and_scale(X, y)


def circles():
    """make_circles(1000, noise=0.1, random_state=42), the 800-point training split, standardised."""
    return _circles_split()[0]


def circles_test():
    """The 200-point test split of ``circles`` (scaled with the training split's statistics)."""
    return _circles_split()[1]


def _moons_split():
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=1000, noise=0.2, random_state=42)
    return _split_and_scale(X, y)


def moons():
    """make_moons(1000, noise=0.2, random_state=42), the 800-point training split, standardised."""
    return _moons_split()[0]


def moons_test():
    """The 200-point test split of ``moons`` (scaled with the training split's statistics)."""
    return _moons_split()[1]


def spiral(n_per_class: int = 150, noise: float = 0.15, seed: int = 42):
    """Two interleaved spirals: for t in [0, 1], radius t and angle 3*pi*t (+ pi for class 1).

    Gaussian noise of std ``noise`` is added to every coordinate. 300 samples by default.
    """
    rng = np.random.default_rng(seed)
    t = np.tile(np.linspace(0.0, 1.0, n_per_class), 2)
    label = np.repeat([0.0, 1.0], n_per_class)
    angle = t * 3 * np.pi + label * np.pi  # the seed's order of operations: the same bits
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    X = X + rng.normal(0.0, noise, X.shape)
    return _binary(X, label)


def sensor(n_per_class: int = 100, seed: int = 7):
    """Industrial sensor readings, 3 classes: normal (0), warning (1), critical (2).

    Features are temperature (deg C) and vibration (mm/s), drawn around a centre
    per class and standardised; y is one-hot of shape (N, 3). The lesson gives
    the story, not the numbers: the centres and spreads are nnparity's choice.
    """
    rng = np.random.default_rng(seed)
    centres = np.array([[60.0, 2.0], [75.0, 5.0], [90.0, 8.0]])
    spreads = np.array([[6.0, 1.2], [6.0, 1.2], [6.0, 1.2]])
    X = np.concatenate([rng.normal(c, s, (n_per_class, 2)) for c, s in zip(centres, spreads)])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.repeat(np.eye(3), n_per_class, axis=0)
    return X, y


def tabular4():
    """A 4-feature binary tabular set for the 4-input lessons (the seeds give no data).

    scikit-learn ``make_classification(500, n_features=4, n_informative=3,
    n_redundant=1, random_state=42)``, standardised.
    """
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=500, n_features=4, n_informative=3, n_redundant=1, random_state=42
    )
    return _binary(StandardScaler().fit_transform(X), y)


def tabular3():
    """A 3-feature binary tabular set for ``tabular-3-4-1`` (the seed names the shape, not the data).

    scikit-learn ``make_classification(400, n_features=3, n_informative=3,
    n_redundant=0, random_state=42)``, standardised.
    """
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=400, n_features=3, n_informative=3, n_redundant=0, random_state=42
    )
    return _binary(StandardScaler().fit_transform(X), y)


def random_batch(samples: int, features: int, outputs: int, targets: str = "real", scale: float = 1.0,
                 seed: int = 0):
    """A random batch, for property-based tests: X ~ N(0, scale**2), shape (samples, features).

    ``targets``: ``"real"`` y ~ N(0, 1) (for squared errors), ``"binary"`` y in {0, 1},
    ``"onehot"`` one class per row (``outputs`` classes). Large ``scale`` saturates
    sigmoids and softmaxes: that is the point.
    """
    if targets not in TARGETS:
        raise ValueError(f"random_batch: unknown targets {targets!r}; expected one of {sorted(TARGETS)}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, features)) * scale
    return X, TARGETS[targets](rng, samples, outputs)


TARGETS = {
    "real": lambda rng, n, k: rng.standard_normal((n, k)),
    "binary": lambda rng, n, k: rng.integers(0, 2, (n, k)).astype(np.float64),
    "onehot": lambda rng, n, k: np.eye(k)[rng.integers(0, k, n)],
}


def given(X, y):
    """The arrays written into the declaration itself (the numerical edge cases): nested tuples."""
    return np.array(X, dtype=np.float64), np.array(y, dtype=np.float64)


# A user's own data (a lesson file's ``dataset``, docs/lesson-files.md): a path ending in one of these.
DATA_FILE_SUFFIXES = (".npz", ".csv")


def from_file(path: str):
    """``(X, y)`` read from a user's ``.npz`` (arrays ``X`` and ``y``) or ``.csv`` (a header row; the
    columns named ``y`` or ``y<anything>`` are the targets, the others the features), float64.

    A 1-D ``y`` becomes one column. One-hot targets for k classes are k columns (``np.eye(k)[labels]``).
    """
    file = Path(path)
    if file.suffix == ".npz":
        with np.load(file, allow_pickle=False) as arrays:  # no pickle: an .npz of plain arrays only
            missing = [k for k in ("X", "y") if k not in arrays.files]
            if missing:
                raise ValueError(f"{path}: expected arrays 'X' and 'y'. Received: {sorted(arrays.files)}")
            X, y = arrays["X"], arrays["y"]
    elif file.suffix == ".csv":
        table = np.genfromtxt(file, delimiter=",", names=True, dtype=np.float64)
        names = table.dtype.names or ()
        targets = [n for n in names if n == "y" or n.startswith("y")]
        if not targets or len(targets) == len(names):
            raise ValueError(f"{path}: expected a header row naming feature columns and target columns "
                             f"(y, or y0, y1, ...). Received columns: {list(names)}")
        table = np.atleast_1d(table)
        X = np.column_stack([table[n] for n in names if n not in targets])
        y = np.column_stack([table[n] for n in targets])
    else:
        raise ValueError(f"{path}: expected a file ending in {' or '.join(DATA_FILE_SUFFIXES)}")
    return _as_data(X, y, path)


def _as_data(X, y, source: str):
    """A user's (X, y) as every loader returns it: finite float64, y of shape (N, k) (a 1-D y: one column)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError(f"{source}: X and y must be finite numbers (an empty or non-numeric cell reads as nan)")
    return np.ascontiguousarray(X), np.ascontiguousarray(y.reshape(len(y), -1) if y.ndim != 2 else y)


def register(name: str, function) -> None:
    """A user's data function (a Python lesson file's ``dataset=make_data``) as the dataset ``name``.

    ``function()`` returns ``(X, y)``; it is called when the data is first loaded in a process.
    """
    def loader():
        data = function()
        if not (isinstance(data, tuple) and len(data) == 2):
            raise ValueError(f"{name}: expected the function to return (X, y). Received: {type(data).__name__}")
        return _as_data(*data, name)

    DATASETS[name] = loader
    _load_cached.cache_clear()  # a name registered again (the file read again) loads the new function


def unregister(name: str) -> None:
    DATASETS.pop(name, None)
    _load_cached.cache_clear()


@contextmanager
def registered(functions: dict):
    """``{name: data function}`` registered (``register``) while the block runs; then each name holds what it held
    before (nothing, or an added file's own function): a lesson file's data is loaded to check it, not kept."""
    before = {name: DATASETS.get(name) for name in functions}
    for name, function in functions.items():
        register(name, function)
    try:
        yield
    finally:
        for name, loader in before.items():
            if loader is None:
                DATASETS.pop(name, None)
            else:
                DATASETS[name] = loader
        _load_cached.cache_clear()


def is_data_file(name: str) -> bool:
    """Whether a dataset name is a path to a user's data file (``from_file``) rather than a loader's name."""
    return name not in DATASETS and name.endswith(DATA_FILE_SUFFIXES)


DATASETS = {
    "xor": xor,
    "and": and_gate,
    "neuron": neuron,
    "circles": circles,
    "circles_test": circles_test,
    "moons": moons,
    "moons_test": moons_test,
    "spiral": spiral,
    "sensor": sensor,
    "tabular4": tabular4,
    "tabular3": tabular3,
    "random": random_batch,
    "given": given,
}
BUILTIN_DATASETS = frozenset(DATASETS)  # the catalog's own loaders (a user's are registered beside them)


@lru_cache(maxsize=64)  # bounded: property-based tests load thousands of random batches
def _load_cached(name: str, args: tuple):
    X, y = from_file(name, **dict(args)) if is_data_file(name) else DATASETS[name](**dict(args))
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load(name: str, **args):
    """``(X, y)`` of the dataset ``name`` with ``args`` (read-only float64 arrays, built once per process).

    ``name``: a key of ``DATASETS``, or the path of a user's ``.npz``/``.csv`` file (``from_file``).
    """
    if not (name in DATASETS or is_data_file(name)):
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(BUILTIN_DATASETS)} "
                         f"or a path ending in {' or '.join(DATA_FILE_SUFFIXES)}")
    try:
        return _load_cached(name, tuple(sorted(args.items())))
    except TypeError as exc:
        raise ValueError(f"dataset {name!r}: {exc}") from None
