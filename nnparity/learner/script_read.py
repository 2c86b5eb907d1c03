"""What a learner's script held at its first update, read: its parameters, data, learning rate, and gradients.

From ``script.run_script``'s payload:

- **parameters**: the arrays the update changed, matched to the lesson's W1, b1, W2, ... by shape
  (``slots.assign_slots``: every kernel in one layout, (in, out) used as ``X @ W`` or
  (out, in) used as ``W @ x``; a label carrying the layer's number first, else the order the
  script made them). A parameter of the lesson that the update left alone is the unchanged array
  of its shape the script made first: its gradient was 0.
- **starting weights**: each parameter's value just before the update changed it (the forward and
  backward pass of that step used these: a script that updates one parameter before computing the
  next gradient is told so by its numbers, ``diagnose.MISTAKES``).
- **learning rate**: ``--lr``, else the script's own ``lr`` / ``learning_rate`` / ``alpha`` / ``eta``,
  else the lesson's. The gradient applied is ``(before - after) / learning_rate``, whatever the sign
  of the statement (``W -= lr * dW`` and ``W += lr * delta`` alike).
- **data**: X is an array of shape (N, inputs) (or its transpose) that the script held, the one
  whose product with the starting W1 gives a z1 or a1 the script bound, else the one named like
  X; y has N rows and the lesson's outputs (class numbers are made one-hot for a softmax lesson).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from conformance.lessons import Lesson

from .calls import LearnerError
from .intermediates import Step, _views
from .parameters import Slot, layer_of
from .slots import RUNNING, _digits, _hinted, assign_slots, parameter_shapes

LR_NAMES = ("lr", "learning_rate", "learningRate", "alpha", "eta", "step_size", "LR", "LEARNING_RATE")


@dataclass
class ScriptRun:
    """A script's first update, read; the attributes ``check.py`` and ``diagnose.py`` read of a run."""

    target: str
    learning_rate: float
    lr_source: str
    slots: dict[str, Slot]  # the learner's name -> its slot (Slot.name: W1, b1, ...)
    labels: dict[str, str]  # W1 -> the learner's name
    params: dict[str, np.ndarray]  # starting weights, reference layout
    gradients: dict[str, np.ndarray]  # the gradient each update applied, reference layout (by W1, b1, ...)
    learner_gradients: dict[str, np.ndarray]  # the same, in the learner's layout
    update_lines: dict[str, int | None]
    X: np.ndarray
    y: np.ndarray
    data_text: str
    stopped: str
    shape_changes: dict[str, tuple] = field(default_factory=dict)
    printed: int = 0
    warnings: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    origins: dict[str, tuple] = field(default_factory=dict)  # W1 -> (the learner's name, line) of its gradient
    output: np.ndarray | None = None
    output_dtype: str = "float64"
    forward_fn: object = None
    records: list = field(default_factory=list)  # (name, line, value) the loop bound before its update
    path: object = None
    readings: dict = field(default_factory=dict)  # W1 -> optimizer_read.Reading, with --optimizer
    states: dict = field(default_factory=dict)  # W1 -> the learner's names of its optimizer state
    scalars: dict = field(default_factory=dict)  # the numbers the script held (its hyper-parameters)

    def extra_json(self) -> dict:
        """What a script's verdict adds to the JSON (``check.py``)."""
        wrong = next((s for s in self.steps if s.status == "differs"), None)
        return {
            "kind": "script", "stopped": self.stopped, "learning_rate_source": self.lr_source, "data": self.data_text,
            "intermediates": [s.to_json() for s in self.steps],
            "first_wrong_intermediate": None if wrong is None else wrong.to_json(),
            "update_lines": {self.labels[k]: v for k, v in self.update_lines.items()},
            "gradient_lines": {self.labels[k]: {"variable": v[0], "line": v[1]} for k, v in self.origins.items()},
            "optimizer": {self.labels[k]: {"state": self.states[k], "convention": r.matched, "mistake": r.mistake,
                                           "text": r.text} for k, r in self.readings.items()},
        }

    @property
    def constructed_as(self) -> str:
        return f"script, run until its first update ({self.stopped})"

    @property
    def style(self) -> str:
        return f"learning rate {self.learning_rate:g} ({self.lr_source}); {self.data_text}"

    @property
    def output_shape(self) -> tuple:
        return () if self.output is None else self.output.shape

    def output_2d(self, k: int) -> np.ndarray:
        return self.output.reshape(-1, k)


def find_parameters(payload: dict, lesson: Lesson) -> tuple[str, dict[str, tuple]]:
    """(layout, {W1: (label, before, after or None, line)}) from the changed arrays, else the unchanged ones.

    With BatchNorm, a hidden layer's Dense bias is optional (its gradient is 0): taken when the script
    has an array of its shape named like a bias."""
    changed = sorted(payload["changes"], key=lambda c: c["order"])
    labels = {lbl for c in changed for lbl in c["labels"]}
    everything = parameter_shapes(lesson.sizes, lesson.use_bias, lesson.batchnorm, layernorm=lesson.layernorm)
    shapes = {s for _, by in everything for ss in by.values() for s in ss}
    order = payload["order"]
    spare = sorted(((lbl, a) for lbl, a in payload["arrays"].items()
                    if lbl not in labels and a.dtype.kind == "f" and a.shape in shapes
                    and not (lesson.batchnorm and RUNNING.search(lbl.split(".")[-1]))),
                   key=lambda kv: order.get(kv[0], len(order)))
    candidates = [(c["label"], c["before"].shape, 0) for c in changed] + [(lbl, a.shape, 1) for lbl, a in spare]
    required = parameter_shapes(lesson.sizes, lesson.use_bias, lesson.batchnorm, optional=False,
                                layernorm=lesson.layernorm)
    found = assign_slots(required, candidates)
    if found is None:
        what = ", ".join(f"{c['label']} {c['before'].shape}" for c in changed)
        raise LearnerError(
            f"{payload['path_name']}: the update changed {what}, which do not make up lesson {lesson.name}'s parameters "
            f"({'-'.join(map(str, lesson.sizes))}: kernels (in, out) or (out, in)" +
            (", biases (units,), (1, units) or (units, 1))" if lesson.use_bias else ", no biases)")
            + (" and gamma, beta of each BatchNorm" if lesson.batchnorm else "")
            + (" and gamma, beta of each LayerNorm" if lesson.layernorm else ""))
    layout, chosen = found
    for name, by_layout in everything:  # the optional biases before a BatchNorm
        free = [i for i, c in enumerate(candidates) if i not in chosen.values() and c[1] in by_layout[layout]]
        named = [i for i in free if _hinted(name, candidates[i][0]) and _digits(candidates[i][0]) == name[1:]]
        if name not in chosen and named:
            chosen[name] = named[0]
    out = {}
    for slot, i in chosen.items():
        if i < len(changed):
            c = changed[i]
            out[slot] = (c["label"], c["before"], c["after"], c["line"])
        else:
            label, value = spare[i - len(changed)]
            out[slot] = (label, value, None, None)
    return layout, dict(sorted(out.items(), key=lambda kv: [n for n, _ in everything].index(kv[0])))


def learning_rate(payload: dict, lesson: Lesson, asked: float | None) -> tuple[float, str]:
    if asked is not None:
        return float(asked), "--lr"
    for name in LR_NAMES:
        value = payload["scalars"].get(name)
        if value is not None and value > 0:
            return float(value), f"your `{name}`"
    return float(lesson.hyperparameters["learning_rate"]), f"lesson {lesson.name}'s; give yours with --lr"


def read_update(layout: str, found: dict, lesson: Lesson, lr: float):
    """(slots, params, gradients, learner_gradients, shape_changes, update_lines) in the reference layout."""
    slots, params, grads, mine, reshaped, lines = {}, {}, {}, {}, {}, {}
    square = all(lesson.sizes[i - 1] == lesson.sizes[i] for i in range(1, lesson.n_layers + 1))
    for slot, (label, before, after, line) in found.items():
        units = lesson.sizes[layer_of(slot)]
        how = "from its shape" if not square else "every kernel is square: (in, out) assumed"
        s = Slot(slot, before.shape, layout if slot.startswith("W") else str(before.shape),
                 how if after is not None else "never updated: the array of its shape the script made first")
        slots[label] = s
        params[slot] = s.from_learner(before, units)
        lines[slot] = line
        if after is None:
            mine[slot] = np.zeros_like(before, dtype=np.float64)
        elif after.shape != before.shape:
            reshaped[label] = (before.shape, after.shape)
            continue
        else:
            mine[slot] = (np.asarray(before, dtype=np.float64) - after) / lr
        grads[slot] = s.from_learner(mine[slot], units)
    return slots, params, grads, mine, reshaped, lines


def _candidates(payload: dict, width: int, exclude: set) -> list[tuple[str, np.ndarray]]:
    """Arrays (N, width) or (width, N) the script held (a vector of ``width``: one sample, (1, width)), the loop's
    own bindings (latest first) before the rest."""
    def fits(label, value):
        return label not in exclude and ((value.ndim == 2 and width in value.shape)
                                         or (value.ndim == 1 and value.size == width))
    seen, out = set(), []
    for label, _, value in reversed(payload["records"]):
        if fits(label, value) and id(value) not in seen:
            seen.add(id(value))
            out.append((label, value))
    out += [(lbl, v) for lbl, v in payload["arrays"].items() if fits(lbl, v)]
    return [(lbl, v.reshape(1, -1) if v.ndim == 1 else v) for lbl, v in out]


def _by_name(items, prefixes) -> list:
    def rank(item):
        name = item[0].split("@")[0].split(".")[-1].lower()
        return (0 if name in prefixes else 1 if name.startswith(prefixes) else 2), "@" in item[0]
    return sorted(items, key=rank)


def _one_hot(y: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((y.size, k))
    out[np.arange(y.size), y.astype(int).ravel()] = 1.0
    return out


def _as_targets(value: np.ndarray, n: int, k: int) -> np.ndarray | None:
    """``value`` read as (n, k) targets, or None."""
    if value.shape == (n, k):
        return np.asarray(value, dtype=np.float64)
    if value.shape == (k, n):
        return np.asarray(value.T, dtype=np.float64)
    if value.size == n and (value.ndim <= 1 or 1 in value.shape):
        flat = value.ravel()
        if k == 1:
            return np.asarray(flat, dtype=np.float64).reshape(n, 1)
        if np.all(flat == np.round(flat)) and flat.min() >= 0 and flat.max() < k:
            return _one_hot(flat, k)
    return None


def _bound(records, quantities) -> bool:
    """Whether the script bound one of ``quantities`` (the reference's z1, a1 from a candidate X)."""
    return any(np.allclose(v, q) for r in records for q in quantities for v in _views(r, q.shape))


def find_data(payload: dict, lesson: Lesson, params: dict, exclude: set, forward) -> tuple:
    """(X (N, inputs), y (N, outputs), text for the report); ``forward(X)`` gives the reference's z1 and a1."""
    n_in, k = lesson.sizes[0], lesson.sizes[-1]
    options = []
    for label, value in _by_name(_candidates(payload, n_in, exclude), ("x", "inputs", "input", "data", "features")):
        views = ([value] if value.shape[1] == n_in else []) + ([value.T] if value.shape[0] == n_in else [])
        options += [(label, np.asarray(v, dtype=np.float64)) for v in views[:1]]
    if not options:
        raise LearnerError(f"{payload['path_name']}: no data found: lesson {lesson.name} takes X of shape (N, {n_in}) "
                           f"(or ({n_in}, N)), and the script held no such array at its first update")
    records = [value for _, _, value in payload["records"]]
    label, X = next(((lbl, x) for lbl, x in options if _bound(records, forward(x))), options[0])
    n = X.shape[0]
    targets = [(lbl, t) for lbl, v in _by_name(_candidates(payload, n, exclude | {label}) +
                                               [(lbl, v) for lbl, v in payload["arrays"].items()
                                                if v.ndim <= 1 and v.size == n and lbl not in exclude | {label}],
                                               ("y", "targets", "target", "labels", "label", "y_true"))
               if (t := _as_targets(v, n, k)) is not None]
    if not targets:
        raise LearnerError(f"{payload['path_name']}: no targets found: X ({label}) has {n} rows, so y should be "
                           f"({n}, {k})" + (f" or ({n},)" if k == 1 else " (one-hot) or class numbers (N,)"))
    targets = [t for t in targets if t[0].split("@")[0] not in LR_NAMES] or targets
    y_label, y = targets[0]
    shown = lambda s: s.replace("@", " in ")
    return X, y, f"data X = your `{shown(label)}` {X.shape}, y = your `{shown(y_label)}` {y.shape}"
