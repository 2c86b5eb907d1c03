"""What ``compare_models`` returns: the verdict, every comparison, the first divergence, the explanations.

``PairResult.status`` is ``passed`` (every quantity within the suite's tolerance), ``known`` (they
disagree only where a convention that no setting changes says they must, and torch made to follow
Keras's formula agrees, or float32 rounding decides a ReLU kink in the trajectory: ``kinks.py``;
``accounted`` names each), or ``failed``. ``passed`` is true for the first
two, as ``nnparity run`` counts a known difference. ``report()`` (and ``str``) is the text
``assert_models_agree`` raises: a line per stage, the torch.testing-style statistics of the first
divergence and what follows it (``conformance/divergence.py``), and each explanation with its fix
and what trying the fix showed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

def _finite(x: float):
    """A number JSON can hold: None for inf or NaN (a shape mismatch, a NaN output)."""
    return x if math.isfinite(x) else None


STATUS_LINE = {"passed": "the two models agree", "known": "the two models agree, up to conventions no setting changes "
               "(or float32 rounding deciding a ReLU kink: kink-crossing)",
               "failed": "the two models disagree"}


@dataclass
class PairResult:
    dtype: str
    steps: int
    status: str  # passed, known, failed
    comparisons: dict  # stage -> conformance.compare.Comparison (torch actual, Keras expected)
    divergence: object = None  # conformance.divergence.Divergence, or None
    explanations: list = field(default_factory=list)  # explain.Explanation, the fix of each tried
    accounted: list = field(default_factory=list)  # conventions without a setting that explain a known result
    layers: list = field(default_factory=list)  # (torch layer, Keras layer) of each paired forward quantity
    notes: list = field(default_factory=list)
    together: str = ""  # what trying every fix at once showed
    batch_size: int | None = None  # None: full-batch steps; n: n samples a step, in order

    @property
    def stepping(self) -> str:
        """How the steps took the data: "full-batch steps", or "steps of 8 samples in order"."""
        return "full-batch steps" if self.batch_size is None else f"steps of {self.batch_size} samples in order"

    @property
    def passed(self) -> bool:
        return self.status != "failed"

    @property
    def first_divergence(self):
        return self.divergence

    def __bool__(self) -> bool:
        return self.passed

    def stage_lines(self) -> list[str]:
        lines = []
        for stage, c in self.comparisons.items():
            verdict = "ok" if c.passed else "FAIL"
            lines.append(f"  {stage:<10} {verdict:<4}  greatest |torch - keras| {c.max_abs_err:.2e}  "
                         f"(allowed {c.atol:g} + {c.rtol:g} |keras|; {len(c.items)} items, worst {c.worst})")
        return lines

    def report(self, stages: bool = True) -> str:
        """The whole report; ``stages=False`` leaves out the line per stage (a caller that prints its own table)."""
        lines = [f"compare_models, torch against Keras in {self.dtype}, {self.steps} {self.stepping}: "
                 f"{STATUS_LINE[self.status]}", "paired layers:"]
        lines += [f"  {name:<6} {t}  |  {k}" for name, t, k in self.layers]
        lines += ["stages:", *self.stage_lines()] if stages else []
        if self.divergence is not None:
            lines.append(self.divergence.message())
        for e in self.accounted:
            lines.append(f"known: {e.text()}")
        if self.explanations:
            lines.append("why (read from the two models' and optimizers' settings):")
            lines += ["  " + line for e in self.explanations for line in e.text().splitlines()]
        if self.together:
            lines.append(f"every fix above at once: {self.together}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = report

    def to_json(self) -> dict:
        def explanation(e):
            return {"key": e.key, "convention": e.convention.topic if e.convention else None, "stage": e.stage,
                    "detail": e.detail, "fix": e.fix, "tried": e.verdict or None, "adapter": e.adapter or None}

        return {
            "dtype": self.dtype, "steps": self.steps, "batch_size": self.batch_size, "status": self.status, "passed": self.passed,
            "stages": {stage: {"passed": c.passed, "max_abs_err": _finite(c.max_abs_err), "max_rel_err": _finite(c.max_rel_err),
                               "atol": c.atol, "rtol": c.rtol, "worst": c.worst}
                       for stage, c in self.comparisons.items()},
            "first_divergence": self.divergence.to_json() if self.divergence is not None else None,
            "explanations": [explanation(e) for e in self.explanations],
            "known": [explanation(e) for e in self.accounted],
            "fixes_together": self.together or None,
            "layers": [{"quantity": n, "torch": t, "keras": k} for n, t, k in self.layers],
            "notes": list(self.notes),
        }
