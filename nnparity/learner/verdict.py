"""The verdict of ``nnparity check``: each compared quantity (``Finding``) and the whole report (``CheckReport``).

``compare_run`` compares what a learner's code computed (a class's ``LearnerRun`` or a script's
``ScriptRun``) with what each framework (or the NumPy reference) computes, through the one helper
(``conformance/compare.py``) at the float64 tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from conformance.compare import ItemReport, compare
from conformance.lessons import Lesson
from conformance.tolerances import tolerance

DTYPE = "float64"


@dataclass
class Finding:
    """One compared quantity: the output (``check="forward"``) or one parameter's gradient."""

    check: str  # "forward" | "gradient"
    parameter: str | None  # the learner's attribute, when the quantity belongs to (or is blamed on) one
    shape: tuple
    reports: dict[str, ItemReport] = field(default_factory=dict)  # framework -> comparison
    problem: str | None = None  # what made the comparison impossible (a parameter changed shape)
    cause: str | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None and all(r.passed for r in self.reports.values())

    def _worst(self, attr: str) -> float | None:
        if self.problem is not None:
            return None
        value = max((getattr(r, attr) for r in self.reports.values()), default=0.0)
        return value if math.isfinite(value) else None

    @property
    def max_abs_err(self) -> float | None:
        return self._worst("max_abs_err")

    def to_json(self) -> dict:
        any_report = next(iter(self.reports.values()), None)
        return {
            "check": self.check,
            "parameter": self.parameter,
            "shape": list(self.shape),
            "passed": self.passed,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self._worst("max_rel_err"),
            "mismatched": None if any_report is None or self.problem else any_report.n_mismatched,
            "total": None if any_report is None else any_report.n_total,
            "frameworks": {fw: _finite_or_none(r.max_abs_err) for fw, r in self.reports.items()},
            "problem": self.problem,
            "cause": self.cause,
        }


def _finite_or_none(x: float):
    return x if math.isfinite(x) else None


@dataclass
class CheckReport:
    """Everything ``nnparity check`` says about one class."""

    target: str
    lesson: Lesson
    frameworks: list[str]
    run: object  # a LearnerRun (a class) or a ScriptRun (a script)
    findings: list[Finding]
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.findings)

    @property
    def divergences(self) -> list[Finding]:
        return [f for f in self.findings if not f.passed]

    def to_json(self) -> dict:
        run = self.run
        return {
            "passed": self.passed,
            "target": self.target,
            "lesson": self.lesson.name,
            "frameworks": self.frameworks,
            "constructed_as": run.constructed_as,
            "style": run.style,
            "learning_rate": run.learning_rate,
            "parameters": {n: {"shape": list(s.shape), "layout": s.layout, "how": s.how} for n, s in run.slots.items()},
            "output_shape": list(run.output_shape),
            "atol": self.atol,
            "rtol": self.rtol,
            "divergences": [f.to_json() for f in self.divergences],
            "results": [f.to_json() for f in self.findings],
            "printed_lines": run.printed,
            "warnings": run.warnings[:20],
            "error": None,
            **(run.extra_json() if hasattr(run, "extra_json") else {}),
        }


def compare_run(run, expected: dict, lesson: Lesson) -> list[Finding]:
    """[the forward finding (when the run has an output), one gradient finding per parameter].

    ``expected``: {framework: (output, {W1: gradient, ...})}. ``run.slots`` maps the learner's
    name to its ``Slot`` (whose ``name`` is W1, b1, ...); ``run.gradients`` is keyed by W1, b1, ...
    """
    tol = tolerance(DTYPE)
    findings = []
    if run.output is not None:
        forward = Finding("forward", None, run.output_shape)
        for fw, (out, _) in expected.items():
            forward.reports[fw] = compare({"output": run.output_2d(lesson.sizes[-1])}, {"output": out},
                                          atol=tol.atol, rtol=tol.rtol, what="forward").items[0]
        findings.append(forward)
    for label, slot in run.slots.items():
        f = Finding("gradient", slot.name, slot.shape)
        if label in run.shape_changes:
            before, after = run.shape_changes[label]
            f.problem = f"{label} changed shape in the update, from {before} to {after}"
            f.cause = (f"the update broadcast a gradient of the wrong shape into {label}: "
                       + ("a bias gradient summed over the wrong axis? (sum over the batch: axis=0)"
                          if slot.name.startswith("b") else f"dW must have {label}'s shape {before}"))
        else:
            for fw, (_, grads) in expected.items():
                f.reports[fw] = compare({slot.name: run.gradients[slot.name]}, {slot.name: grads[slot.name]},
                                        atol=tol.atol, rtol=tol.rtol, what="gradient").items[0]
        findings.append(f)
    return findings
