"""The first wrong intermediate: the learner's z, a and dL/dz matched to the reference's, layer by layer.

A learner's code keeps its intermediates under its own names (``z1``, ``a1``, ``dL_dz2``,
``hidden_output``, ...). ``walk`` takes every array the learner's training pass bound, in the
order it bound them (name, line, value), and for each quantity of the reference in the order the
computation makes them (z1, a1, ..., z_L, a_L, then dL/dz_L down to dL/dz1) finds the learner's
array holding it: by shape ((N, units), or its transpose for column vectors) and by value, as
Karpathy's backprop exercise compares by hand:

- ``exact``: equal bit for bit; ``approximate``: within the float64 tolerance (``compare``);
- a dL/dz may be kept as m dL/dz (the 1/m applied later, when the gradient is made) or as
  -dL/dz (error = y - output, with an update that adds): each is right, and said so;
- ``differs``: no array holds the quantity, and the next array the learner bound with its shape
  (one that holds no other quantity of the reference) is taken as the learner's version of it:
  its greatest difference is shown;
- ``not kept``: no array of that shape is there (a value computed inside an expression).

``origin`` finds the line that made the gradient an update applied: the first array bound with
the parameter's shape and the gradient's values (a later one, ``for p, g in zip(params, grads)``,
only passes it on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from conformance.compare import compare_arrays
from conformance.tolerances import tolerance

DTYPE = "float64"


@dataclass
class Step:
    """One quantity of the reference and what the learner's code holds for it."""

    quantity: str  # "z1", "a1", "dL/dz2"
    shape: tuple
    status: str  # "exact" | "approximate" | "differs" | "not kept"
    label: str | None = None
    line: int | None = None
    max_diff: float | None = None
    note: str = ""

    @property
    def agrees(self) -> bool:
        return self.status in ("exact", "approximate")

    def to_json(self) -> dict:
        shown = None if self.label is None else self.label.replace("@", " in ")
        return {"quantity": self.quantity, "shape": list(self.shape), "status": self.status, "variable": shown,
                "line": self.line, "max_diff": self.max_diff, "note": self.note}


def _norms(model) -> list[str | None]:
    """Each layer's normalization: "bn" (BatchNorm), "ln" (LayerNorm) or None."""
    batch = getattr(model, "batchnorms", [None] * len(model.z))
    layer = getattr(model, "layernorms", [None] * len(model.z))
    return ["bn" if b is not None else "ln" if ln is not None else None for b, ln in zip(batch, layer)]


def reference_quantities(model) -> list[tuple[str, np.ndarray]]:
    """[(name, value)] of a reference network after ``gradients``: z_l (bn_l, a BatchNorm's output; xhat_l and
    ln_l, a LayerNorm's standardised rows and its output) and a_l in order, then dL/dz_L down to dL/dz1
    (dL/dbn_l or dL/dln_l before dL/dz_l where a normalization sits between them)."""
    norms = _norms(model)
    out = []
    for layer, z in enumerate(model.z, start=1):
        out.append((f"z{layer}", z))
        if norms[layer - 1] == "ln":
            out.append((f"xhat{layer}", model.layernorms[layer - 1].xhat))
        if norms[layer - 1] is not None:
            out.append((f"{norms[layer - 1]}{layer}", model.n[layer - 1]))
        out.append((f"a{layer}", model.a[layer]))
        if getattr(model, "dropouts", [None] * len(model.z))[layer - 1] is not None:
            out.append((f"drop{layer}", model.x[layer]))
    for layer in range(len(model.z), 0, -1):
        if norms[layer - 1] is not None:
            da = model.dz[layer] @ model.layers[layer].kernel.T
            dn = model.activations[layer - 1].backward(model.n[layer - 1], model.a[layer], da)
            out.append((f"dL/d{norms[layer - 1]}{layer}", dn))
        out.append((f"dL/dz{layer}", model.dz[layer - 1]))
    return out


def _views(value: np.ndarray, shape: tuple) -> list[np.ndarray]:
    """The learner's array read as (N, units): itself, its transpose (column vectors), or (N,) for one unit."""
    n, units = shape
    value = np.asarray(value, dtype=np.float64)
    views = []
    if value.shape == (n, units):
        views.append(value)
    if value.shape == (units, n):
        views.append(value.T)
    if value.ndim == 1 and units == 1 and value.shape == (n,):
        views.append(value.reshape(n, 1))
    if n == 1 and (value.shape == (units,) or (value.ndim == 0 and units == 1)):  # one sample, as a vector or number
        views.append(value.reshape(1, units))
    return views


def _scales(quantity: str, n: int) -> list[tuple[float, str]]:
    if not quantity.startswith("dL/"):
        return [(1.0, "")]
    return [(1.0, ""), (float(n), "kept as m dL/dz: the 1/m comes later"),
            (-1.0, "kept as -dL/dz: an update that adds"), (-float(n), "kept as -m dL/dz")]


def _match(value, expected: np.ndarray, quantity: str) -> tuple[str, float, str] | None:
    """(status, max diff, note) when ``value`` holds ``expected`` (in a view and a scale), else None."""
    tol = tolerance(DTYPE)
    for view in _views(value, expected.shape):
        for factor, note in _scales(quantity, expected.shape[0]):
            want = factor * expected
            diff = float(np.max(np.abs(view - want))) if view.size else 0.0
            if diff == 0.0:
                return "exact", 0.0, note
            # compare_arrays passes only where |view - want| <= atol + rtol |want| at every element: a greatest
            # difference above atol + rtol max|want| fails it for sure (most pairs the walk tries), so it is skipped
            if diff > tol.atol + tol.rtol * float(np.max(np.abs(want))):
                continue
            if compare_arrays(quantity, view, want, tol.atol, tol.rtol).passed:
                return "approximate", diff, note
    return None


def walk(model, records: list[tuple[str, int | None, np.ndarray]]) -> list[Step]:
    """Every reference quantity matched to the learner's array (module doc), in the order they are computed."""
    quantities = reference_quantities(model)
    steps, position, scale = [], -1, 1.0
    holds = {i: {k for k, (q, ref) in enumerate(quantities) if _match(value, ref, q)}
             for i, (_, _, value) in enumerate(records)}
    for index, (quantity, expected) in enumerate(quantities):
        order = [*range(position + 1, len(records)), *range(position + 1)]
        hit = next(((i, m) for i in order if (m := _match(records[i][2], expected, quantity))), None)
        if hit is not None:
            i, (status, diff, note) = hit
            label, line, _ = records[i]
            steps.append(Step(quantity, expected.shape, status, label, line, diff, note))
            position = i
            if note:
                scale = dict((n, f) for f, n in _scales(quantity, expected.shape[0]))[note]
            continue
        spare = _spare(records, holds, position, index, quantity, expected.shape)
        if spare is None:
            steps.append(Step(quantity, expected.shape, "not kept"))
            continue
        label, line, value = records[spare]
        factor = scale if quantity.startswith("dL/") else 1.0
        diff = float(np.max(np.abs(_views(value, expected.shape)[0] - factor * expected)))
        steps.append(Step(quantity, expected.shape, "differs", label, line, diff))
        position = spare
    return steps


HINTS = {"z": ("z", "logit", "net", "pre", "sum"), "a": ("a", "out", "hidden", "prob", "pred", "act", "h", "y_hat", "yhat"),
         "d": ("d", "delta", "err", "grad", "g"), "drop": ("h", "drop", "a", "out", "x"),
         "bn": ("bn", "n", "z_hat", "norm", "out"), "ln": ("ln", "n", "norm", "out", "y"),
         "xhat": ("h", "xhat", "x_hat", "z_hat", "zhat", "norm", "std")}


PARAMETER_GRADIENT = re.compile(r"(^|_)d_?[wb]\d*$|dl_?d[wb]|^grad_?[wb]|^d?(weights|bias)")  # dW1, dL_db2: not a dL/dz


def _base(label: str) -> str:
    """'self@forward.hidden' -> 'hidden': the learner's own name, lower case."""
    return label.split("@")[0].split(".")[-1].lower()


def _spare(records, holds: dict, position: int, index: int, quantity: str, shape: tuple) -> int | None:
    """The learner's array taken for a quantity no array holds: after the last match and before the next array
    that holds a later quantity, holding no quantity itself, of a fitting shape; one named as the quantity
    (``dz2``, ``dL_dz2``), then one whose name suggests it, first; and of the arrays equal to it, the first bound."""
    end = next((i for i in range(position + 1, len(records)) if any(k > index for k in holds[i])), len(records))
    window = [i for i in range(position + 1, end) if not holds[i] and _views(records[i][2], shape)
              and not PARAMETER_GRADIENT.search(_base(records[i][0]))]
    if not window:
        return None
    kind = "d" if quantity.startswith("dL/") else next(k for k in ("drop", "xhat", "bn", "ln", "z", "a")
                                                        if quantity.startswith(k))
    hints = HINTS[kind]
    named = [i for i in window if _base(records[i][0]).startswith(hints)]
    # the quantity's own name first (dz2 for dL/dz2, among dh2 and dz2 of a LayerNorm's backward)
    own = [i for i in named if _base(records[i][0]).replace("_", "").endswith(quantity.split("/")[-1])]
    pick = (own or named or window)[0]
    # the line that made it: dz2 = norm_backward(...) binds the dz its function made a line earlier
    return next(i for i in window if np.array_equal(records[i][2], records[pick][2]))


def first_wrong(steps: list[Step]) -> Step | None:
    return next((s for s in steps if s.status == "differs"), None)


def origin(records, shape: tuple, gradient: np.ndarray, learning_rate: float) -> tuple[str, int | None] | None:
    """(name, line) of the first array the learner bound with ``shape`` holding ``gradient`` (or lr * it)."""
    tol = tolerance(DTYPE)
    for label, line, value in records:
        if np.shape(value) != shape:
            continue
        for want in (gradient, learning_rate * gradient, -gradient, -learning_rate * gradient):
            if compare_arrays(label, np.asarray(value, dtype=np.float64), want, tol.atol, tol.rtol).passed:
                return label, line
    return None
