"""nnparity: does my neural network compute what PyTorch and Keras compute?

``import nnparity`` stays light (no torch, no Keras): public names load on first use.

- ``nnparity.grade(path, lesson, points=...)``: a learner's network checked as an autograder would
  (``nnparity/learner/grade.py``).
"""

from __future__ import annotations

import importlib

_LAZY = {"grade": "nnparity.learner.grade", "Grade": "nnparity.learner.grade"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnparity' has no attribute {name!r}")


__all__ = ["grade", "Grade"]
