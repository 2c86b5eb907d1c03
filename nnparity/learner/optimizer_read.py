"""A learner's own optimizer on top of the lesson (momentum, RMSprop, Adam), read from the script's first step.

    nnparity check my_adam.py --lesson spiral --optimizer adam

With ``--optimizer``, the first update changes, per parameter, the parameter and the optimizer's
state (momentum, RMSprop: one array; Adam: two), all of the parameter's shape. ``split`` groups
them by parameter; the parameter is the one whose name does not read as a state (``m``, ``v``,
``velocity``, ``cache``, ...), else the one changed last. At the first step every state starts at
0, so the state holds the learner's gradient ``g`` in a known form, and the step the update took
says which formula the learner wrote (``Reading``):

- momentum: torch keeps ``v = mu v + g; w -= lr v`` (v1 = g), Keras ``v = mu v - lr g; w += v``
  (v1 = -lr g); Andrew Ng's course writes ``v = beta v + (1 - beta) g; w -= lr v`` (v1 = (1 - beta) g,
  an exponential average: neither framework's, the same as torch's with the learning rate
  lr (1 - beta)). The three are told apart by the update (``w += v`` or ``w -= lr v``) and by which
  reading of v1 is the reference's gradient;
- RMSprop: ``s = rho s + (1 - rho) g**2`` gives |g|, the step's sign gives its sign; torch adds
  epsilon outside the root, Keras inside;
- Adam: ``m = beta_1 m + (1 - beta_1) g`` gives g = m1 / (1 - beta_1); the step is then replayed
  with torch's formula (epsilon added after the bias correction), Keras's (the correction folded
  into the learning rate, "epsilon hat"), and the known mistakes: no bias correction, only one of
  the two corrected, the correction one step late (t = 2 at the first step) or early (t = 0: a
  division by zero).

Hyper-parameters are the script's own (``beta1``/``beta_1``, ``beta2``/``beta_2``, ``eps``/``epsilon``,
``rho``, ``momentum``/``mu``/``beta``), else each framework's default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from conformance.compare import compare_arrays
from conformance.lessons import Lesson
from conformance.tolerances import tolerance

from .calls import LearnerError
from .parameters import layer_of
from .slots import assign_slots, parameter_shapes
from .verdict import Finding

STATES = {"momentum": 1, "rmsprop": 1, "adam": 2}  # state arrays per parameter
STATE_NAME = re.compile(r"^(m|v|s|r|vel|velocity|moment|momentum|cache|mean|var|first|second|sq|avg|ms)(_|\d|$)", re.I)
NAMES = {"beta1": ("beta1", "beta_1", "b1_adam"), "beta2": ("beta2", "beta_2"), "eps": ("eps", "epsilon"),
         "rho": ("rho", "decay", "decay_rate", "alpha_rms"), "mu": ("momentum", "mu", "beta", "gamma")}


@dataclass
class Reading:
    """What one parameter's first step says: the learner's gradient (its layout) and the formula it matched."""

    gradient: np.ndarray
    matched: str | None  # "torch", "keras", "ema": a correct formula; None: none matched
    mistake: str | None = None  # a known mistake the step matched
    text: str = ""


def hyper(scalars: dict, name: str, defaults: tuple) -> tuple:
    """The script's own value of a hyper-parameter, else every framework default to try."""
    found = next((scalars[n] for n in NAMES[name] if n in scalars), None)
    return (found,) if found is not None else defaults


def split(payload: dict, lesson: Lesson, optimizer: str) -> tuple[str, dict]:
    """(layout, {W1: (parameter change, [state changes])}) from the first update's changed arrays."""
    k = STATES[optimizer] + 1
    changed = sorted(payload["changes"], key=lambda c: c["order"])
    slots = [(f"{n}|{j}", s) for n, s in parameter_shapes(lesson.sizes, lesson.use_bias, layernorm=lesson.layernorm)
             for j in range(k)]
    found = assign_slots(slots, [(c["label"], c["before"].shape) for c in changed])
    if found is None:
        raise LearnerError(
            f"{payload['path_name']}: --optimizer {optimizer}: the update should change {k} arrays per parameter "
            f"(the parameter and its state); it changed {', '.join(c['label'] for c in changed)}")
    layout, chosen = found
    groups: dict[str, list] = {}
    for name, i in chosen.items():
        groups.setdefault(name.split("|")[0], []).append(changed[i])
    out = {}
    for slot, group in groups.items():
        plain = [c for c in group if not STATE_NAME.match(c["label"].split(".")[-1].split("[")[-1].strip("'\"]"))]
        param = plain[0] if len(plain) == 1 else max(group, key=lambda c: c["tick"])
        out[slot] = (param, [c for c in group if c is not param])
    return layout, out


def _same(actual, expected) -> bool:
    tol = tolerance("float64")
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(expected))) and compare_arrays("step", actual, expected, tol.atol, tol.rtol).passed


def read_momentum(delta, states, lr, scalars, right) -> Reading:
    v = states[0]["after"]
    if _same(delta, v):
        return Reading(-v / lr, "keras", text="w += v with v = momentum * v - lr * g, as Keras does")
    if _same(delta, -lr * v):
        beta = hyper(scalars, "mu", (0.9,))[0]
        as_torch, as_ema = v, v / (1 - beta)
        if np.max(np.abs(as_ema - right)) < np.max(np.abs(as_torch - right)):
            return Reading(as_ema, "ema", text=f"v = beta v + (1 - beta) g with beta = {beta:g}: an exponential average, "
                           "neither torch's nor Keras's; it trains as torch's momentum with learning rate lr (1 - beta)")
        return Reading(as_torch, "torch", text="w -= lr * v with v = momentum * v + g, as torch does")
    return Reading(-delta / lr, None, text="the step is neither w -= lr * v (torch) nor w += v (Keras), with v the "
                                          "state it changed")


def read_rmsprop(delta, states, lr, scalars) -> Reading:
    s = states[0]["after"]
    for rho in hyper(scalars, "rho", (0.99, 0.9)):
        g = -np.sign(delta) * np.sqrt(np.abs(s) / (1 - rho))
        for eps in hyper(scalars, "eps", (1e-8, 1e-7)):
            if _same(delta, -lr * g / (np.sqrt(s) + eps)):
                return Reading(g, "torch", text=f"epsilon ({eps:g}) added outside the root, as torch does")
            if _same(delta, -lr * g / np.sqrt(s + eps)):
                return Reading(g, "keras", text=f"epsilon ({eps:g}) added inside the root, as Keras does")
    return Reading(-delta / lr, None, text="the step matches neither torch's RMSprop nor Keras's")


# (what the learner did, the step t its v is corrected with, the t its m is corrected with; None: not corrected)
ADAM_MISTAKES = (
    ("no bias correction: divide m by (1 - beta_1**t) and v by (1 - beta_2**t)", None, None),
    ("only m is bias-corrected: v needs its (1 - beta_2**t) too", None, 1),
    ("only v is bias-corrected: m needs its (1 - beta_1**t) too", 1, None),
    ("the bias correction is one step late: t is 2 at the first step (count t from 1, after the update of "
     "m and v, or increment it before)", 2, 2),
)


def _adam_steps(m, v, lr, b1, b2, eps):
    """{what: the step it takes}: torch's, Keras's, and each known mistake (``ADAM_MISTAKES``)."""
    def corrected(x, beta, t):
        return x if t is None else x / (1 - beta ** t)
    steps = {"torch": -lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps),
             "keras": -lr * np.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps)}
    for text, t_v, t_m in ADAM_MISTAKES:
        steps[text] = -lr * corrected(m, b1, t_m) / (np.sqrt(corrected(v, b2, t_v)) + eps)
    return steps


def read_adam(delta, states, lr, scalars) -> Reading:
    a, b = (s["after"] for s in states)
    m, v = (b, a) if np.all(a >= 0) and not np.all(b >= 0) else (a, b)
    for b1 in hyper(scalars, "beta1", (0.9,)):
        g = m / (1 - b1)
        if not np.all(np.isfinite(delta)):
            return Reading(g, None, "the bias correction divides by zero: t is 0 at the first step "
                                    "(1 - beta_1**0 = 0); count t from 1")
        for b2 in hyper(scalars, "beta2", (0.999,)):
            for eps in hyper(scalars, "eps", (1e-8, 1e-7)):
                for what, step in _adam_steps(m, v, lr, b1, b2, eps).items():
                    if _same(delta, step):
                        return _adam_reading(g, what, eps)
    return Reading(m / (1 - hyper(scalars, "beta1", (0.9,))[0]), None,
                   text="the step matches neither torch's Adam nor Keras's, nor a known mistake")


def _adam_reading(g, what: str, eps: float) -> Reading:
    if what == "torch":
        return Reading(g, "torch", text=f"your Adam adds epsilon ({eps:g}) after the bias correction, as torch does")
    if what == "keras":
        return Reading(g, "keras", text=f"your Adam folds the bias correction into the learning rate and adds epsilon "
                                        f"({eps:g}) to sqrt(v), as Keras does ('epsilon hat')")
    return Reading(g, None, mistake=what, text=what)


def class_readings(run, lesson: Lesson, optimizer: str, params: dict, right: dict) -> None:
    """A class's own optimizer: each parameter's state found by its name (``self.m_W1``, ``self.v['W1']``), its
    gradient and formula read as a script's; fills ``run.gradients``, ``run.readings`` and ``run.states``."""
    k = STATES[optimizer]
    own = {f"self.{name}" for name in run.slots}
    changed = {lbl: v for lbl, v in run.held_after.items() if lbl not in own
               and (lbl not in run.held_before or not np.array_equal(run.held_before[lbl], v))}
    for name, slot in run.slots.items():
        pattern = re.compile(rf"(?<![0-9]){name}(?![0-9])")
        mine = [lbl for lbl, v in changed.items() if v.shape == slot.shape and pattern.search(lbl)
                and not re.search(rf"grad|\bd{name}|\.d_?{name}", lbl)]
        if len(mine) != k:
            raise LearnerError(
                f"--optimizer {optimizer}: {name} needs {k} state array{'s' if k > 1 else ''} of its shape, named after "
                f"it (self.m_{name}, self.v['{name}']), changed by the step; found {', '.join(mine) or 'none'}")
        delta = run.held_after[f"self.{name}"] - slot.to_learner(params[name])
        states = [{"after": changed[lbl], "label": lbl} for lbl in mine]
        if optimizer == "momentum":
            reading = read_momentum(delta, states, run.learning_rate, run.numbers, slot.to_learner(right[name]))
        elif optimizer == "rmsprop":
            reading = read_rmsprop(delta, states, run.learning_rate, run.numbers)
        else:
            reading = read_adam(delta, states, run.learning_rate, run.numbers)
        run.gradients[name] = slot.from_learner(reading.gradient, lesson.sizes[layer_of(name)])
        run.readings[name], run.states[name] = reading, mine


def step_findings(run, optimizer: str) -> list:
    """One finding per parameter: does its step follow a correct formula of ``optimizer``?"""
    out = []
    for label, slot in run.slots.items():
        reading = run.readings[slot.name]
        f = Finding("step", slot.name, slot.shape)
        if reading.matched is None:
            f.problem = f"your {optimizer} step for {label} (state {', '.join(run.states[slot.name])}): {reading.text}"
            f.cause = reading.text
        out.append(f)
    return out
