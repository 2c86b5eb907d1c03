"""The learner's parameters: found by name (``W1``, ``b1``, ...), their layouts recovered, converted to the reference's.

- a kernel ``W<l>`` is ``(fan_in, units)`` and used as ``X @ W`` (Keras's layout), or
  ``(units, fan_in)`` and used as ``W @ x`` (PyTorch's). A square kernel fits both;
  ``_orientation_probe`` finds out which one ``forward`` uses, by experiment.
- a bias ``b<l>`` is ``(units,)``, ``(1, units)`` or ``(units, 1)``.

``Slot`` converts one parameter between the learner's layout and the reference's;
``Probe`` runs the learner's forward from parameters given in the reference layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conformance.lessons import Lesson

from .calls import Learner, LearnerError

PARAM_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")
NORM_PARAM_NAME = re.compile(r"^(W|b|gamma|beta)([1-9][0-9]*)$")  # on a LayerNorm lesson
KINDS = ("W", "b", "gamma", "beta")  # a layer's parameters, in order


def layer_of(name: str) -> int:
    """The layer a parameter belongs to: W2, b2, gamma2, beta2 -> 2."""
    return int(re.sub(r"\D", "", name))


@dataclass(frozen=True)
class Slot:
    """One learner parameter: its name, the shape the learner stores, and how it maps to the reference.

    ``layout`` is ``"(in, out)"`` or ``"(out, in)"`` for a kernel, the stored shape for a bias.
    """

    name: str
    shape: tuple[int, ...]
    layout: str
    how: str = ""  # how the layout was decided, for the report

    @property
    def is_kernel(self) -> bool:
        return self.name.startswith("W")

    def to_learner(self, value: np.ndarray) -> np.ndarray:
        """Reference layout -> the learner's (a fresh float64 array the learner may change in place)."""
        value = np.asarray(value, dtype=np.float64)
        if self.is_kernel and self.layout == "(out, in)":
            value = value.T
        return np.array(value.reshape(self.shape), dtype=np.float64, order="C")

    def from_learner(self, value: np.ndarray, units: int) -> np.ndarray:
        """The learner's layout -> the reference's ((in, out) for a kernel, (units,) for a bias)."""
        value = np.asarray(value, dtype=np.float64)
        if self.is_kernel:
            if value.ndim == 1:  # one unit's weights as a vector (a script's w = [0.3, -0.1])
                return value.reshape(-1, units)
            return value.T if self.layout == "(out, in)" else value
        return value.reshape(units)



def _found_params(obj, lesson: Lesson) -> dict[str, object]:
    pattern = NORM_PARAM_NAME if lesson.layernorm else PARAM_NAME
    return {k: v for k, v in vars(obj).items() if pattern.match(k)} if hasattr(obj, "__dict__") else {}


def class_param_names(lesson: Lesson) -> list[str]:
    """The attributes a class has on ``lesson``: W1, b1, W2, ..., and on a LayerNorm lesson each hidden layer's
    gamma<l> and beta<l> after its Dense parameters."""
    hidden = range(1, lesson.n_layers) if lesson.layernorm else ()
    return sorted(lesson.param_names + [f"{p}{l}" for l in hidden for p in ("gamma", "beta")], key=_param_order)


def find_slots(path: Path, obj, lesson: Lesson) -> dict[str, tuple[Slot | None, tuple]]:
    """Every parameter the lesson needs, found on ``obj`` with a layout that fits (square kernels: None)."""
    found = _found_params(obj, lesson)
    name = f"{path.name}: {type(obj).__name__}"
    if not found:
        others = sorted(k for k in getattr(obj, "__dict__", {}) if not k.startswith("_"))
        raise LearnerError(
            f"{name} has no attributes named W1, b1, W2, ...; nnparity finds parameters by those names "
            f"(its attributes: {', '.join(others) or 'none'})"
        )
    wanted = class_param_names(lesson)
    extra = sorted(set(found) - set(wanted), key=_param_order)
    missing = [p for p in wanted if p not in found]
    if missing or extra:
        shapes = f"{lesson.n_layers} kernels W1..W{lesson.n_layers}" + (
            f" with biases b1..b{lesson.n_layers}" if lesson.use_bias else " and no biases"
        ) + (f", gamma1, beta1 .. gamma{lesson.n_layers - 1}, beta{lesson.n_layers - 1} of each LayerNorm"
             if lesson.layernorm else "")
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise LearnerError(
            f"{name}: lesson {lesson.name} ({'-'.join(map(str, lesson.sizes))}) has {shapes}; "
            f"the object has {', '.join(sorted(found, key=_param_order))} ({'; '.join(parts)})"
        )
    slots = {}
    for p in wanted:
        value = found[p]
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
            raise LearnerError(f"{name}.{p} must be a NumPy array of numbers. Received: {type(value).__name__}"
                               + (f" of {value.dtype}" if isinstance(value, np.ndarray) else ""))
        layer = layer_of(p)
        fan_in, units = lesson.sizes[layer - 1], lesson.sizes[layer]
        shape = tuple(value.shape)
        if p.startswith("W"):
            fits = {"(in, out)": (fan_in, units), "(out, in)": (units, fan_in)}
            layouts = [k for k, s in fits.items() if s == shape]
            if not layouts:
                raise LearnerError(
                    f"{name}.{p} has shape {shape}; layer {layer} of lesson {lesson.name} maps {fan_in} inputs "
                    f"to {units} units, so expected ({fan_in}, {units}) used as X @ {p}, or ({units}, {fan_in}) "
                    f"used as {p} @ x"
                )
            slots[p] = (Slot(p, shape, layouts[0], "from its shape") if len(layouts) == 1 else None, shape)
        else:
            if shape not in ((units,), (1, units), (units, 1)):
                raise LearnerError(
                    f"{name}.{p} has shape {shape}; layer {layer} of lesson {lesson.name} has {units} units, "
                    f"so expected ({units},), (1, {units}) or ({units}, 1)"
                )
            slots[p] = (Slot(p, shape, str(shape), "from its shape"), shape)
    return slots


def _param_order(name: str):
    m = NORM_PARAM_NAME.match(name)
    return (int(m.group(2)), KINDS.index(m.group(1))) if m else (10**9, name)


@dataclass
class Probe:
    """Runs the learner's forward from parameters given in the reference layout."""

    learner: Learner
    slots: dict[str, Slot]
    X: np.ndarray
    last_dtype: str = ""

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for name, slot in self.slots.items():
            setattr(self.learner.obj, name, slot.to_learner(params[name]))

    def forward(self, params, X=None, what="forward(X)") -> np.ndarray:
        self.set_params(params)
        X = self.X if X is None else X
        out = self.learner.call(what, self.learner.obj.forward, np.array(X))
        self.last_dtype = str(getattr(out, "dtype", type(out).__name__))
        try:
            return np.array(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise LearnerError(
                f"{self.learner.path.name}: forward(X) returned {type(out).__name__}, not an array of numbers"
            ) from None


def _orientation_probe(probe: Probe, params, lesson: Lesson, layer: int) -> str | None:
    """Which way a square kernel W<layer> is used, by experiment (None when forward does not depend on it).

    Store W<layer> as zeros but for one entry S[0, 1]. Used as ``a @ S`` (in, out), the
    layer's unit 1 reads unit 0 of the layer below; used as ``S @ a`` (out, in), unit 0
    reads unit 1. So move unit 0 below, then unit 1, and see which one moves the output.
    Every other route from those units is cut (the rest of S is 0), so "moves" is exact.
    """
    name = f"W{layer}"
    n = lesson.sizes[layer]
    stored = np.zeros((n, n))
    stored[0, 1] = 1.0
    base = dict(params)
    # Set the kernel so that the (in, out) reading of the stored matrix is `stored`.
    base[name] = stored
    slots = dict(probe.slots)
    slots[name] = Slot(name, (n, n), "(in, out)")
    probe = Probe(probe.learner, slots, probe.X)
    what = f"forward(X) (probing how {name} is used)"

    def moved_output(unit: int) -> bool:
        p, X = dict(base), np.array(probe.X)
        if layer == 1:
            X[:, unit] += 10.0
        else:  # push unit `unit` of layer-1 hard: its incoming weights and its bias
            below_w, below_b = f"W{layer - 1}", f"b{layer - 1}"
            p[below_w] = np.array(p[below_w])
            p[below_w][:, unit] += 10.0
            if below_b in p:
                p[below_b] = np.array(p[below_b])
                p[below_b][unit] += 10.0
        return not np.array_equal(probe.forward(p, X, what), reference_out, equal_nan=True)

    reference_out = probe.forward(base, None, what)
    from_0, from_1 = moved_output(0), moved_output(1)
    if from_0 and not from_1:
        return "(in, out)"
    if from_1 and not from_0:
        return "(out, in)"
    return None


def resolve_square(learner: Learner, found, params, X, lesson) -> dict[str, Slot]:
    """Every slot, square kernels decided by ``_orientation_probe`` (layer by layer, bottom up)."""
    slots = {name: slot if slot is not None else Slot(name, shape, "(in, out)", "provisional")
             for name, (slot, shape) in found.items()}
    known = {s.layout for name, (s, _) in found.items() if s is not None and s.is_kernel}
    for name, (slot, shape) in found.items():
        if slot is not None:
            continue
        layer = int(name[1:])
        if shape == (1, 1):
            slots[name] = Slot(name, shape, "(in, out)", "1 x 1: both layouts are the same")
            continue
        mixed = lesson.layernorm and layer > 1  # the LayerNorm below moves every unit with any one: no probe
        layout = None if mixed else _orientation_probe(Probe(learner, slots, X), params, lesson, layer)
        if layout is not None:
            slots[name] = Slot(name, shape, layout, "square: decided by probing forward")
        elif len(known) == 1:
            slots[name] = Slot(name, shape, next(iter(known)), "square: taken from the other kernels' layout" + (
                " (the LayerNorm below mixes its units: no probe)" if mixed else ": forward does not depend on it"))
        else:
            raise LearnerError(
                f"{learner.path.name}: {learner.class_name}.{name} is square {shape}, and forward(X)'s output "
                f"does not depend on it in either layout, so nnparity cannot tell (in, out) from (out, in): "
                f"does forward use self.{name}?"
            )
    return slots

