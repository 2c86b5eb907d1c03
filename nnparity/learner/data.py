"""The lesson's data for ``nnparity check`` of a class, kept on disk after its first use.

scikit-learn makes some lessons' data (circles, moons, the tabular sets) and takes 0.6 to 2.7 s to
import here, more than a check should take in a loop of edit and re-check. The first check of a
lesson stores ``lesson_data(lesson)`` as an ``.npz`` file, bit for bit, in ``$NNPARITY_CACHE``
(else ``$XDG_CACHE_HOME/nnparity``, else ``~/.cache/nnparity``), under a name made from the
dataset, its arguments and the NumPy and scikit-learn versions that made it; later checks read it
back. A file that cannot be read is made again; a folder that cannot be written means no cache.
Only the catalog's own loaders are kept (``CACHED``): a user's data file or function (a lesson file,
docs/lesson-files.md) can change under the same name, and ``given`` data is the lesson's own arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from conformance.datasets import BUILTIN_DATASETS
from conformance.lessons import Lesson, lesson_data

FORMAT = 1  # bump when what is stored changes
CACHED = BUILTIN_DATASETS - {"given"}  # what a name, its arguments and the versions determine


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("NNPARITY_CACHE") or Path(base) / "nnparity")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cache_path(lesson: Lesson) -> Path:
    key = json.dumps([FORMAT, lesson.dataset, sorted(map(list, lesson.dataset_args)), np.__version__,
                      _version("scikit-learn")], default=str)
    return cache_dir() / f"{lesson.dataset}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def check_data(lesson: Lesson) -> tuple[np.ndarray, np.ndarray]:
    """``lesson_data(lesson)``, from the disk cache when it is there (module doc)."""
    if lesson.dataset not in CACHED:
        return lesson_data(lesson)
    path = cache_path(lesson)
    try:
        with np.load(path, allow_pickle=False) as stored:
            X, y = stored["X"], stored["y"]
        if X.shape[1:] == (lesson.sizes[0],) and y.shape == (len(X), lesson.sizes[-1]):
            return X, y
    except (OSError, KeyError, ValueError):
        pass
    X, y = lesson_data(lesson)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
            np.savez(tmp, X=X, y=y)
        os.replace(tmp.name, path)  # whole or not at all, whoever writes it at the same time
    except OSError:
        pass
    return X, y
