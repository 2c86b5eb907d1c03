"""A learner's LayerNorm: its classic mistakes replayed, and named where the learner's numbers are one of them.

The reference runs with the lesson's epsilon, whatever the learner's (``regularizers_read.reference_of``):
the lesson gives it to both frameworks, because their defaults differ. Where the learner's output or
gradients diverge, ``cause_of_layernorm`` replays the lesson's network from the learner's starting
weights and data with a LayerNorm that makes one or two of the classic mistakes (``Variant``), and
names them when the replay gives the learner's output and every gradient it applied (float64
tolerance, through ``conformance/compare.py``), as ``diagnose.MISTAKES`` does for a plain MLP:

- normalising each unit over the batch (``axis=0``, BatchNorm's) instead of each sample over its units;
- epsilon outside the square root, ``(z - mean) / (sqrt(var) + eps)``;
- another epsilon: the other framework's default (Keras's 1e-3 against torch's 1e-5), or the learner's own;
- a backward without the path through the row mean (``dz`` lacks ``- mean(dxhat)``), without the path
  through the row variance (``dz`` lacks ``- xhat * mean(dxhat * xhat)``), or without both (the mean
  and variance taken as constants).

A replay that normalises over the batch uses the same axis in its backward, as a learner who wrote
BatchNorm's formulas would; one with epsilon outside the root divides its backward by that root.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from conformance.cases import reference_model
from conformance.compare import compare
from conformance.lessons import Lesson
from conformance.tolerances import tolerance
from reference.layernorm import LayerNorm

DTYPE = "float64"
OTHER_DEFAULTS = {1e-5: "PyTorch's default (nn.LayerNorm)", 1e-3: "Keras's default (LayerNormalization)"}
EPS_NAME = re.compile(r"eps|epsilon", re.I)
PATHS = ("both", "no mean", "no variance", "neither")


@dataclass(frozen=True)
class Variant:
    """A LayerNorm as a learner may write it; the defaults are the right one (with the lesson's epsilon)."""

    axis: int = 1  # 1: each sample over its units (right); 0: each unit over the batch
    inside: bool = True  # epsilon inside the square root (right), or added to it
    epsilon: float | None = None  # None: the lesson's
    paths: str = "both"  # the backward's paths through the mean and the variance: PATHS

    @property
    def mistakes(self) -> int:
        return (self.axis != 1) + (not self.inside) + (self.epsilon is not None) + (self.paths != "both")


class MistakenLayerNorm(LayerNorm):
    """``reference.LayerNorm`` with a ``Variant``'s mistakes: the reference network's LayerNorm, swapped in."""

    def __init__(self, units: int, epsilon: float, variant: Variant):
        super().__init__(units, epsilon)
        self.variant = variant

    def forward(self, x: np.ndarray) -> np.ndarray:
        axis = self.variant.axis
        mu = x.mean(axis=axis, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
        self.root = np.sqrt(var + self.epsilon) if self.variant.inside else np.sqrt(var) + self.epsilon
        self.xhat = (x - mu) / self.root
        return self.gamma * self.xhat + self.beta

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, dict]:
        axis, paths, xhat = self.variant.axis, self.variant.paths, self.xhat
        dxhat = dy * self.gamma
        dx = dxhat
        if paths in ("both", "no variance"):
            dx = dx - dxhat.mean(axis=axis, keepdims=True)
        if paths in ("both", "no mean"):
            dx = dx - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
        return dx / self.root, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


def replay(lesson: Lesson, params: dict, X: np.ndarray, y: np.ndarray, variant: Variant):
    """(output a_L, {parameter: gradient}) of the lesson's network whose every LayerNorm makes ``variant``'s mistakes."""
    model = reference_model(lesson, params)
    eps = lesson.layernorm_epsilon if variant.epsilon is None else variant.epsilon
    for i, norm in enumerate(model.layernorms):
        if norm is not None:
            mistaken = MistakenLayerNorm(norm.gamma.shape[0], eps, variant)
            mistaken.gamma, mistaken.beta = norm.gamma, norm.beta
            model.layernorms[i] = mistaken
    with np.errstate(all="ignore"):
        grads = model.gradients(X, y)
    grads.pop("X", None)
    return model.a[-1], grads


def variants(lesson: Lesson, scalars: dict) -> list[Variant]:
    """Every Variant with one or two mistakes, fewest first: the other axis, epsilon outside the root, the other
    framework's default epsilon and the learner's own (its numbers named eps / epsilon), each backward path left out."""
    own = {float(v) for k, v in scalars.items() if EPS_NAME.search(k) and 0 < v < 1}
    epsilons = [None] + sorted((own | set(OTHER_DEFAULTS)) - {float(lesson.layernorm_epsilon)})
    every = [Variant(axis, inside, eps, paths)
             for axis, inside, eps, paths in itertools.product((1, 0), (True, False), epsilons, PATHS)]
    return sorted((v for v in every if 0 < v.mistakes <= 2), key=lambda v: v.mistakes)


def describe(variant: Variant, lesson: Lesson) -> str:
    """What the learner's LayerNorm does, in words, with the fix."""
    said, right = [], lesson.layernorm_epsilon
    if variant.axis == 0:
        said.append("your LayerNorm normalises each unit over the batch (mean and var over axis=0, as BatchNorm does): "
                    "LayerNorm normalises each sample over its own units, z.mean(axis=1, keepdims=True)")
    if not variant.inside:
        said.append("your LayerNorm adds epsilon outside the square root, (z - mean) / (sqrt(var) + eps): PyTorch and "
                    "Keras divide by sqrt(var + eps)")
    if variant.epsilon is not None:
        whose = OTHER_DEFAULTS.get(variant.epsilon, "your own")
        said.append(f"your LayerNorm's epsilon is {variant.epsilon:g}, {whose}: lesson {lesson.name} gives {right:g} "
                    f"({OTHER_DEFAULTS.get(right, 'its own')}) to both frameworks, nn.LayerNorm(units, eps={right:g}) "
                    f"and LayerNormalization(epsilon={right:g})")
    missing = {"no mean": "the path through each row's mean (its - mean(dxhat) term)",
               "no variance": "the path through each row's variance (its - xhat * mean(dxhat * xhat) term)",
               "neither": "both paths, through each row's mean and its variance (they are taken as constants)"}
    if variant.paths != "both":
        said.append(f"your LayerNorm's backward leaves out {missing[variant.paths]}: dz = (dxhat - mean(dxhat) - xhat "
                    f"* mean(dxhat * xhat)) / sqrt(var + eps), each mean over a row's units (axis=1, keepdims=True)")
    return "; ".join(said)


def matching_variant(run, lesson: Lesson, params: dict, X, y, scalars: dict) -> Variant | None:
    """The first Variant (fewest mistakes first) whose output and gradients, from ``params`` on (X, y), are the
    learner's (``run.output``, ``run.gradients``), or None. ``scalars``: the learner's numbers (its eps)."""
    tol = tolerance(DTYPE)
    mine = {name: run.gradients[name] for name in run.gradients}
    for variant in variants(lesson, scalars):
        output, grads = replay(lesson, params, X, y, variant)
        if not all(np.all(np.isfinite(g)) for g in grads.values()):
            continue
        if run.output is not None and not compare({"output": run.output_2d(lesson.sizes[-1])}, {"output": output},
                                                  atol=tol.atol, rtol=tol.rtol).passed:
            continue
        if compare(mine, {k: grads[k] for k in mine}, atol=tol.atol, rtol=tol.rtol).passed:
            return variant
    return None


def cause_of_layernorm(findings, run, lesson: Lesson, params: dict, X, y, scalars: dict) -> Variant | None:
    """On a LayerNorm lesson, name the LayerNorm mistake the learner's numbers show on every diverging finding
    (a script's or a class's run, from its starting ``params`` on its data X, y; ``matching_variant``)."""
    if not lesson.layernorm or all(f.passed for f in findings):
        return None
    variant = matching_variant(run, lesson, params, X, y, scalars)
    if variant is not None:
        text = describe(variant, lesson)
        for f in findings:
            if not f.passed and f.problem is None:
                f.cause = text
    return variant
