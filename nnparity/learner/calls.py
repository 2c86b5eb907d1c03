"""Every call into a learner's code goes through here: its prints hidden, its exceptions made ``LearnerError``.

The learner's code is someone else's. ``Learner.call`` runs one of its functions with
stdout and stderr captured (counted, not shown), its warnings recorded, NumPy's
floating-point errors turned into warnings, and any exception, ``SystemExit`` included,
turned into a ``LearnerError`` naming the file, the line and what nnparity was doing.
Nothing that calls the learner's code through here raises anything else.
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from pathlib import Path

import numpy as np

from conformance.lessons import Lesson


class LearnerError(Exception):
    """The learner's code cannot be checked (exit status 2): the message says where and why."""



class Learner:
    """The learner's object, and the only door into its code."""

    def __init__(self, path: Path, class_name: str, obj, lesson: Lesson | None):
        self.path, self.class_name, self.obj, self.lesson = path, class_name, obj, lesson
        self.printed = 0
        self.warnings: list[str] = []

    def call(self, what: str, fn, *args):
        return _call(self, what, fn, *args)



def _where(exc: BaseException, path: Path) -> str:
    """' (line 42: `self.W1 -= ...`)' for the innermost frame in the learner's file, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path]
    if not frames:
        return ""
    f = frames[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" (line {f.lineno}{':' + code if code else ''})"


def _call(learner, what: str, fn, *args):
    """fn(*args) with the learner's prints hidden, its warnings kept, its exceptions made LearnerErrors."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = fn(*args)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a learner's sys.exit() must not end nnparity
            printed = out.getvalue().strip().splitlines()
            tail = f"\n  it printed, last: {printed[-1]}" if printed else ""
            raise LearnerError(
                f"{learner.path.name}: {what} raised {type(exc).__name__}: {exc}{_where(exc, learner.path)}{tail}"
            ) from None
    if learner is not None:
        learner.printed += len(out.getvalue().splitlines())
        learner.warnings += [f"{what}: {w.category.__name__}: {w.message}" for w in caught]
    return result

