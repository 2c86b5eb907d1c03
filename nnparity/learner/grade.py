"""``nnparity.grade``: a learner's network checked as an autograder would, points and feedback text.

    import nnparity
    points, feedback = nnparity.grade("submission.py", "spiral", points=10)
    points, feedback = nnparity.grade("submission.py:NeuralNetwork", "circles", points=5)

The same check as ``nnparity check`` (the NumPy reference by default; ``framework="torch"`` and so
on compare directly). Full points when everything agrees; otherwise the share of the compared
quantities (the output and each gradient) that agree, times ``points``, rounded to 2 decimals;
0 when the code cannot be checked (no file, no loop, an exception: the feedback says why).
The feedback is the report ``nnparity check`` prints, as plain text; ``verdict`` is its JSON.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from rich.console import Console

from conformance.lessons import LESSONS

from .calls import LearnerError
from .check import _print_report, is_class_target
from .diagnose import REFERENCE, check_learner
from .script import TIME_LIMIT
from .script_check import check_script


@dataclass(frozen=True)
class Grade:
    """``points`` of ``max_points`` and the ``feedback`` text; unpacks as ``points, feedback``."""

    points: float
    max_points: float
    passed: bool
    feedback: str
    verdict: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.points, self.feedback))


def grade(path: str, lesson: str, points: float = 1.0, framework: str | list[str] | None = None,
          lr: float | None = None, time_limit: float = TIME_LIMIT, optimizer: str | None = None) -> Grade:
    """Check ``path`` ("file.py" for a script, "file.py:ClassName" for a class) on ``lesson``; see the module doc."""
    if lesson not in LESSONS:
        raise ValueError(f"nnparity.grade: unknown lesson {lesson!r}; expected one of {', '.join(LESSONS)}")
    if points < 0:
        raise ValueError(f"nnparity.grade: points must be >= 0. Received: points={points}")
    frameworks = [framework] if isinstance(framework, str) else list(framework or [REFERENCE])
    target = str(path)
    try:
        if is_class_target(target):
            report = check_learner(target, lesson, frameworks, optimizer)
        else:
            report = check_script(target, lesson, frameworks, lr, time_limit, optimizer)
    except LearnerError as exc:
        text = f"nnparity could not check {target}:\n{exc}"
        return Grade(0.0, float(points), False, text, {"passed": False, "target": target, "lesson": lesson,
                                                       "error": str(exc), "divergences": []})
    console = Console(file=io.StringIO(), width=100, color_system=None, record=True)
    _print_report(console, report)
    share = sum(f.passed for f in report.findings) / max(len(report.findings), 1)
    earned = float(points) if report.passed else round(float(points) * share, 2)
    return Grade(earned, float(points), report.passed, console.export_text(), report.to_json())
