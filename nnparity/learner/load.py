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

Layouts (the learner's choice, recovered here and converted to the reference's):

- a kernel ``W<l>`` is ``(fan_in, units)`` and used as ``X @ W`` (Keras's layout), or
  ``(units, fan_in)`` and used as ``W @ x`` (PyTorch's). A square kernel fits both;
  ``_orientation_probe`` finds out which one ``forward`` uses, by experiment.
- a bias ``b<l>`` is ``(units,)``, ``(1, units)`` or ``(units, 1)``.

The learner's code is someone else's: every call into it goes through ``_call``,
which hides what it prints and turns any exception into a ``LearnerError`` naming
the file, the line and what nnparity was doing. Nothing from here raises anything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import io
import re
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conformance.lessons import Lesson

PARAM_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")
LR_ARGUMENT_NAMES = ("learning_rate", "lr", "alpha", "eta", "step_size")  # backward(X, y, <one of these>)
LR_ATTRIBUTE_NAMES = ("lr", "learning_rate")  # what update() reads


class LearnerError(Exception):
    """The learner's code cannot be checked (exit status 2): the message says where and why."""


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
            return value.T if self.layout == "(out, in)" else value
        return value.reshape(units)


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

    def output_2d(self, k: int) -> np.ndarray:
        return self.output.reshape(-1, k)


class _Learner:
    """The learner's object, and the only door into its code."""

    def __init__(self, path: Path, class_name: str, obj, lesson: Lesson):
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


def load_class(target: str, learner: "_Learner | None" = None):
    """Import the learner's file as a fresh module (its ``__main__`` block does not run); return (path, class)."""
    path, class_name = parse_target(target)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"nnparity_learner_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look themselves up here
    sys.path.insert(0, str(path.parent))  # so the learner's own `import helpers` works
    shim = learner or _Learner(path, class_name, None, None)
    try:
        _call(shim, f"importing {path.name}", spec.loader.exec_module, module)
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


def construct(path: Path, cls, lesson: Lesson, learner: "_Learner | None" = None) -> tuple[object, str]:
    """``cls(*sizes)``, else ``cls(list(sizes))``, else ``cls()``: the first the signature accepts."""
    sizes = tuple(int(s) for s in lesson.sizes)
    attempts = [sizes, (list(sizes),), ()]
    shim = learner or _Learner(path, cls.__name__, None, lesson)
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
        obj = _call(shim, f"{cls.__name__}({shown})", cls, *args)
        return obj, f"{cls.__name__}({shown})"
    raise LearnerError(
        f"{path.name}: cannot construct {cls.__name__}{signature}: nnparity calls "
        f"{cls.__name__}({', '.join(map(str, sizes))}) with lesson {lesson.name}'s layer sizes, or {cls.__name__}()"
    )


def _found_params(obj) -> dict[str, object]:
    return {k: v for k, v in vars(obj).items() if PARAM_NAME.match(k)} if hasattr(obj, "__dict__") else {}


def find_slots(path: Path, obj, lesson: Lesson) -> dict[str, tuple[Slot | None, tuple]]:
    """Every parameter the lesson needs, found on ``obj`` with a layout that fits (square kernels: None)."""
    found = _found_params(obj)
    name = f"{path.name}: {type(obj).__name__}"
    if not found:
        others = sorted(k for k in getattr(obj, "__dict__", {}) if not k.startswith("_"))
        raise LearnerError(
            f"{name} has no attributes named W1, b1, W2, ...; nnparity finds parameters by those names "
            f"(its attributes: {', '.join(others) or 'none'})"
        )
    wanted = lesson.param_names
    extra = sorted(set(found) - set(wanted), key=_param_order)
    missing = [p for p in wanted if p not in found]
    if missing or extra:
        shapes = f"{lesson.n_layers} kernels W1..W{lesson.n_layers}" + (
            f" with biases b1..b{lesson.n_layers}" if lesson.use_bias else " and no biases"
        )
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
        layer = int(p[1:])
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
    m = PARAM_NAME.match(name)
    return (int(m.group(2)), m.group(1) == "b") if m else (10**9, name)


@dataclass
class _Probe:
    """Runs the learner's forward from parameters given in the reference layout."""

    learner: _Learner
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


def _orientation_probe(probe: _Probe, params, lesson: Lesson, layer: int) -> str | None:
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
    probe = _Probe(probe.learner, slots, probe.X)
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


def _resolve_square(learner: _Learner, found, params, X, lesson) -> dict[str, Slot]:
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
        layout = _orientation_probe(_Probe(learner, slots, X), params, lesson, layer)
        if layout is not None:
            slots[name] = Slot(name, shape, layout, "square: decided by probing forward")
        elif len(known) == 1:
            slots[name] = Slot(name, shape, next(iter(known)), "square: forward does not depend on it; "
                                                               "taken from the other kernels' layout")
        else:
            raise LearnerError(
                f"{learner.path.name}: {learner.class_name}.{name} is square {shape}, and forward(X)'s output "
                f"does not depend on it in either layout, so nnparity cannot tell (in, out) from (out, in): "
                f"does forward use self.{name}?"
            )
    return slots


def _style(learner: _Learner) -> tuple[str, list[str]]:
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
    learner = _Learner(path, class_name, None, lesson)  # counts what the learner's code prints and warns
    path, cls = load_class(target, learner)
    learner.obj, constructed_as = construct(path, cls, lesson, learner)
    obj = learner.obj
    found = find_slots(path, obj, lesson)
    slots = _resolve_square(learner, found, params, X, lesson)
    probe = _Probe(learner, slots, X)
    style, names = _style(learner)
    k = lesson.sizes[-1]

    # The run that is checked: canonical weights, one forward, one backward (and update).
    output = probe.forward(params)
    output_dtype = probe.last_dtype
    n = X.shape[0]
    if output.shape not in ((n, k),) + (((n,),) if k == 1 else ()):
        raise LearnerError(
            f"{path.name}: forward(X) returned shape {output.shape} for X of shape {X.shape}; lesson {lesson.name} "
            f"has {k} output{'s' if k > 1 else ''}, so expected ({n}, {k})" + (f" or ({n},)" if k == 1 else "")
        )
    y_learner = np.array(y.reshape(output.shape))
    before = {name: slot.to_learner(params[name]) for name, slot in slots.items()}  # what forward used
    if style == "in-place":
        learner.call(f"backward(X, y, {learning_rate})", obj.backward, np.array(X), y_learner, learning_rate)
        style_text = f"backward(X, y, {names[2] if len(names) > 2 else 'learning_rate'}={learning_rate}) updates in place"
    else:
        attr = next((a for a in LR_ATTRIBUTE_NAMES if hasattr(obj, a)), None)
        if attr is None:
            raise LearnerError(
                f"{path.name}: {cls.__name__} has update() but no self.lr (or self.learning_rate): nnparity sets "
                f"it to the lesson's learning rate to read the gradients back from the update"
            )
        setattr(obj, attr, learning_rate)
        args = (np.array(X), y_learner, np.array(output))[: min(len(names), 3)]
        shown = ", ".join(names[: len(args)])
        learner.call(f"backward({shown})", obj.backward, *args)
        if style == "update":
            learner.call("update()", obj.update)
            style_text = f"backward({shown}) then update() with self.{attr}={learning_rate}"
        else:
            style_text = f"backward({shown}) updates in place with self.{attr}={learning_rate}"

    gradients, shape_changes = {}, {}
    for name, slot in slots.items():
        after = getattr(obj, name, None)
        try:
            after = np.array(after, dtype=np.float64)
        except (TypeError, ValueError):
            raise LearnerError(f"{path.name}: after the update, {cls.__name__}.{name} is {type(after).__name__}, "
                               f"not an array of numbers") from None
        if after.shape != slot.shape:
            shape_changes[name] = (slot.shape, after.shape)
            continue
        units = lesson.sizes[int(name[1:])]
        gradients[name] = slot.from_learner((before[name] - after) / learning_rate, units)

    def forward_fn(p):
        return probe.forward(p).reshape(n, k)

    return LearnerRun(
        target=target, constructed_as=constructed_as, style=style_text, learning_rate=learning_rate,
        slots=slots, output=output, output_shape=output.shape,
        output_dtype=output_dtype,
        gradients=gradients, shape_changes=shape_changes, printed=learner.printed,
        warnings=learner.warnings, forward_fn=forward_fn,
    )
