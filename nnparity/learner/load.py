"""A learner's own network, run by nnparity: load the class, give it the lesson's weights, take its gradients.

The learner writes a class in the lessons' style::

    class NeuralNetwork:
        def __init__(self, input_size, hidden_size, output_size): ...   # sets W1, b1, W2, b2
        def forward(self, X): ...                                       # returns the output
        def backward(self, X, y, learning_rate): ...                    # updates W, b in place
        # or: def backward(self, X, y, output) storing gradients, then def update(self) using self.lr

nnparity never reads the learner's gradients by name. It sets every ``W<l>`` and
``b<l>`` to the lesson's canonical values, runs one ``forward`` and one
``backward`` (then ``update``), and derives each gradient from what the update did::

    grad = (param_before - param_after) / learning_rate     # plain gradient descent, undone

The layouts of the learner's parameters (its choice) are recovered and converted to
the reference's in ``parameters.py``.

The learner's code is someone else's: every call into it goes through ``Learner.call``
(``calls.py``), which hides what it prints and turns any exception into a ``LearnerError``
naming the file, the line and what nnparity was doing. Nothing from here raises anything else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conformance.lessons import Lesson

from .calls import Learner, LearnerError
from .parameters import Probe, Slot, find_slots, layer_of, resolve_square

__all__ = ["LearnerError", "LearnerRun", "construct", "load_class", "parse_target", "run_learner"]

LR_ARGUMENT_NAMES = ("learning_rate", "lr", "alpha", "eta", "step_size")  # backward(X, y, <one of these>)
LR_ATTRIBUTE_NAMES = ("lr", "learning_rate")  # what update() reads


@dataclass
class LearnerRun:
    """What the learner's class computed from the canonical weights."""

    target: str  # "path.py:ClassName"
    constructed_as: str  # "NeuralNetwork(2, 16, 1)"
    style: str  # how backward/update were called
    learning_rate: float
    slots: dict[str, Slot]
    output: np.ndarray  # as returned by forward, float64
    output_shape: tuple[int, ...]
    output_dtype: str
    gradients: dict[str, np.ndarray]  # reference layout; only for parameters whose shape survived
    shape_changes: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)  # name -> (before, after)
    printed: int = 0  # lines the learner's code printed (hidden)
    warnings: list[str] = field(default_factory=list)
    forward_fn: object = None  # params (reference layout) -> output (N, k): for sensitivity probes
    records: list = field(default_factory=list)  # ("self.z1", None, value): what forward, then backward, kept
    steps: list = field(default_factory=list)  # intermediates.walk over records (diagnose.check_learner)
    held_before: dict = field(default_factory=dict)  # every array the object held before backward (its state)
    held_after: dict = field(default_factory=dict)  # ... and after it (or update)
    numbers: dict = field(default_factory=dict)  # the object's numbers after the step (its hyper-parameters)
    readings: dict = field(default_factory=dict)  # W1 -> optimizer_read.Reading, with --optimizer
    states: dict = field(default_factory=dict)  # W1 -> the names of its optimizer state

    def output_2d(self, k: int) -> np.ndarray:
        return self.output.reshape(-1, k)

    def extra_json(self) -> dict:
        wrong = next((s for s in self.steps if s.status == "differs"), None)
        return {"kind": "class", "intermediates": [s.to_json() for s in self.steps],
                "first_wrong_intermediate": None if wrong is None else wrong.to_json(),
                "optimizer": {k: {"state": self.states[k], "convention": r.matched, "mistake": r.mistake,
                                  "text": r.text} for k, r in self.readings.items()}}


def held_arrays(obj) -> dict[str, np.ndarray]:
    """Every array the object holds, one level deep (self.W1, self.m['W1'], self.v[0]), copied."""
    out = {}
    for k, v in list(getattr(obj, "__dict__", {}).items()):
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, (list, tuple)) else ()
        if isinstance(v, np.ndarray):
            out[f"self.{k}"] = np.array(v)
        for key, item in items:
            if isinstance(item, np.ndarray):
                out[f"self.{k}[{key!r}]"] = np.array(item)
    return out


def _held(obj, skip) -> list[tuple[str, None, np.ndarray]]:
    """The arrays the learner's object keeps (its intermediates, self.z1 ...), as ("self.z1", None, a copy)."""
    return [(f"self.{k}", None, np.array(v)) for k, v in list(vars(obj).items())
            if k not in skip and isinstance(v, np.ndarray) and v.dtype.kind in "fiub" and 0 < v.ndim <= 2]



def parse_target(target: str) -> tuple[Path, str]:
    """'path/to/file.py:ClassName' -> (resolved path, 'ClassName'), checked."""
    path_text, sep, class_name = target.rpartition(":")
    if not sep or not path_text or not class_name.isidentifier():
        raise LearnerError(f"expected PATH.py:ClassName (e.g. my_net.py:NeuralNetwork). Received: {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise LearnerError(f"{path_text}: no such file")
    if path.suffix != ".py":
        raise LearnerError(f"{path_text}: expected a Python file (.py)")
    return path.resolve(), class_name


def load_class(target: str, learner: "Learner | None" = None):
    """Import the learner's file as a fresh module (its ``__main__`` block does not run); return (path, class)."""
    path, class_name = parse_target(target)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"nnparity_learner_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look themselves up here
    sys.path.insert(0, str(path.parent))  # so the learner's own `import helpers` works
    shim = learner or Learner(path, class_name, None, None)
    try:
        shim.call(f"importing {path.name}", spec.loader.exec_module, module)
    except LearnerError:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(str(path.parent))
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module_name)
        raise LearnerError(f"{path.name}: no class {class_name!r}; the file defines: {', '.join(classes) or 'no class'}")
    if not inspect.isclass(cls):
        raise LearnerError(f"{path.name}: {class_name} is a {type(cls).__name__}, not a class")
    for method in ("forward", "backward"):
        if not callable(getattr(cls, method, None)):
            raise LearnerError(f"{path.name}: {class_name} has no method {method}(); expected forward(X) and backward(...)")
    return path, cls


def construct(path: Path, cls, lesson: Lesson, learner: "Learner | None" = None) -> tuple[object, str]:
    """``cls(*sizes)``, else ``cls(list(sizes))``, else ``cls()``: the first the signature accepts."""
    sizes = tuple(int(s) for s in lesson.sizes)
    attempts = [sizes, (list(sizes),), ()]
    shim = learner or Learner(path, cls.__name__, None, lesson)
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        signature = None
    for args in attempts:
        if signature is not None:
            try:
                signature.bind(*args)
            except TypeError:
                continue
        shown = ", ".join(map(repr, args))
        obj = shim.call(f"{cls.__name__}({shown})", cls, *args)
        return obj, f"{cls.__name__}({shown})"
    raise LearnerError(
        f"{path.name}: cannot construct {cls.__name__}{signature}: nnparity calls "
        f"{cls.__name__}({', '.join(map(str, sizes))}) with lesson {lesson.name}'s layer sizes, or {cls.__name__}()"
    )



def _style(learner: Learner) -> tuple[str, list[str]]:
    """How to run one training step, from backward's signature and the methods the class has.

    - ``"in-place"``: ``backward(X, y, learning_rate)`` updates the parameters itself;
    - ``"update"``: ``backward(X, y[, output])`` stores gradients, ``update()`` applies them with self.lr;
    - ``"self-lr"``: ``backward(X, y[, output])`` updates the parameters itself, with self.lr.
    """
    obj = learner.obj
    try:
        params = list(inspect.signature(obj.backward).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in positional]
    required = [p for p in positional if p.default is p.empty]
    if len(positional) >= 3 and names[2].lower() in LR_ARGUMENT_NAMES:
        return "in-place", names
    if len(required) <= 3 <= len(positional) or len(required) <= 2 <= len(positional):
        if callable(getattr(obj, "update", None)):
            return "update", names
        if any(hasattr(obj, a) for a in LR_ATTRIBUTE_NAMES):
            return "self-lr", names
        if len(positional) >= 3:
            return "in-place", names
    raise LearnerError(
        f"{learner.path.name}: {learner.class_name}.backward({', '.join(names)}) fits neither lesson style: "
        f"backward(X, y, learning_rate) that updates the parameters, or backward(X, y, output) followed by "
        f"update() that applies them with self.lr"
    )


def run_learner(target: str, lesson: Lesson, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                learning_rate: float) -> LearnerRun:
    """Load and run the learner's class on the lesson's canonical ``params``, ``X`` and ``y`` (reference shapes).

    Raises LearnerError when the class cannot be checked (exit status 2).
    """
    path, class_name = parse_target(target)
    learner = Learner(path, class_name, None, lesson)  # counts what the learner's code prints and warns
    path, cls = load_class(target, learner)
    learner.obj, constructed_as = construct(path, cls, lesson, learner)
    found = find_slots(path, learner.obj, lesson)
    slots = resolve_square(learner, found, params, X, lesson)
    probe = Probe(learner, slots, X)
    style = _style(learner)
    k = lesson.sizes[-1]

    # The run that is checked: canonical weights, one forward, one backward (and update).
    output = probe.forward(params)
    output_dtype = probe.last_dtype
    n = X.shape[0]
    _check_output_shape(path, output, X, lesson)
    y_learner = np.array(y.reshape(output.shape))
    before = {name: slot.to_learner(params[name]) for name, slot in slots.items()}  # what forward used
    kept = _held(learner.obj, slots) if hasattr(learner.obj, "__dict__") else []
    held_before = held_arrays(learner.obj)
    style_text = _train_step(learner, cls, style, X, y_learner, output, learning_rate)
    held_after = held_arrays(learner.obj)
    numbers = {k: float(v) for k, v in vars(learner.obj).items()
               if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)} if hasattr(learner.obj, "__dict__") else {}
    after = _held(learner.obj, slots) if hasattr(learner.obj, "__dict__") else []
    known = {label: value for label, _, value in kept}
    kept += [r for r in after if r[0] not in known or not np.array_equal(known[r[0]], r[2])]
    gradients, shape_changes = _gradients_from_update(learner, cls, slots, before, learning_rate)

    def forward_fn(p):
        return probe.forward(p).reshape(n, k)

    return LearnerRun(
        target=target, constructed_as=constructed_as, style=style_text, learning_rate=learning_rate,
        slots=slots, output=output, output_shape=output.shape,
        output_dtype=output_dtype,
        gradients=gradients, shape_changes=shape_changes, printed=learner.printed,
        warnings=learner.warnings, forward_fn=forward_fn, records=kept,
        held_before=held_before, held_after=held_after, numbers=numbers,
    )


def _check_output_shape(path: Path, output: np.ndarray, X: np.ndarray, lesson: Lesson) -> None:
    """Refuse an output that is not (N, k) (or (N,) for one output)."""
    n, k = X.shape[0], lesson.sizes[-1]
    if output.shape not in ((n, k),) + (((n,),) if k == 1 else ()):
        raise LearnerError(
            f"{path.name}: forward(X) returned shape {output.shape} for X of shape {X.shape}; lesson {lesson.name} "
            f"has {k} output{'s' if k > 1 else ''}, so expected ({n}, {k})" + (f" or ({n},)" if k == 1 else "")
        )


def _train_step(learner: Learner, cls, style: tuple[str, list[str]], X: np.ndarray, y_learner: np.ndarray,
                output: np.ndarray, learning_rate: float) -> str:
    """One backward (and update) in the learner's ``style`` (``_style``); how it was called, for the report."""
    obj = learner.obj
    style, names = style
    if style == "in-place":
        learner.call(f"backward(X, y, {learning_rate})", obj.backward, np.array(X), y_learner, learning_rate)
        return f"backward(X, y, {names[2] if len(names) > 2 else 'learning_rate'}={learning_rate}) updates in place"
    attr = next((a for a in LR_ATTRIBUTE_NAMES if hasattr(obj, a)), None)
    if attr is None:
        raise LearnerError(
            f"{learner.path.name}: {cls.__name__} has update() but no self.lr (or self.learning_rate): nnparity "
            f"sets it to the lesson's learning rate to read the gradients back from the update"
        )
    setattr(obj, attr, learning_rate)
    args = (np.array(X), y_learner, np.array(output))[: min(len(names), 3)]
    shown = ", ".join(names[: len(args)])
    learner.call(f"backward({shown})", obj.backward, *args)
    if style == "update":
        learner.call("update()", obj.update)
        return f"backward({shown}) then update() with self.{attr}={learning_rate}"
    return f"backward({shown}) updates in place with self.{attr}={learning_rate}"


def _gradients_from_update(learner: Learner, cls, slots: dict[str, Slot], before: dict[str, np.ndarray],
                           learning_rate: float) -> tuple[dict, dict]:
    """({name: gradient in the reference layout}, {name: (shape before, shape after)}) read back from the update."""
    gradients, shape_changes = {}, {}
    for name, slot in slots.items():
        after = getattr(learner.obj, name, None)
        try:
            after = np.array(after, dtype=np.float64)
        except (TypeError, ValueError):
            raise LearnerError(f"{learner.path.name}: after the update, {cls.__name__}.{name} is "
                               f"{type(after).__name__}, not an array of numbers") from None
        if after.shape != slot.shape:
            shape_changes[name] = (slot.shape, after.shape)
            continue
        units = learner.lesson.sizes[layer_of(name)]
        gradients[name] = slot.from_learner((before[name] - after) / learning_rate, units)
    return gradients, shape_changes
