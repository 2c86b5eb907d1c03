"""nnparity: does my neural network compute what PyTorch and Keras compute?

Public names, each imported on first use so that ``import nnparity`` stays light (no torch, no Keras):

- ``Lesson``: a lesson's declaration, for a lesson file of your own (docs/lesson-files.md).
- ``grade(path, lesson, points=...)`` and ``Grade``: a learner's network checked as an autograder
  would (``nnparity/learner/grade.py``, docs/learner-check.md).
"""

from __future__ import annotations

import importlib

# public name -> the module that defines it
_PUBLIC = {
    "Lesson": "conformance.lessons",
    "grade": "nnparity.learner.grade",
    "Grade": "nnparity.learner.grade",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'nnparity' has no attribute {name!r}")
