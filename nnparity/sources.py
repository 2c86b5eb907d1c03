"""The code of a lesson or a component, read from the source that runs it.

``nnparity show`` and ``nnparity report`` print NumPy, PyTorch and Keras side by
side. The code they print is never a copy: every snippet is
``inspect.getsource`` of the function or class that the conformance suite calls
for that lesson, chosen the way the code chooses it (the reference ``MLP`` the
checks build, the twins' ``LOSSES[lesson.loss]``, ``ACTIVATIONS[name]``, ...).
An entry of a registry dict (``LOSSES = {"bce": lambda ...}``) is cut out of its
module's source with ``ast``, so a builtin such as ``torch.relu`` shows as the
line that registers it.

A lesson has five sections, in the same order in every column::

    model      how the layers are built
    forward    z = a @ W + b and the activations
    loss       the loss of the last layer's output
    gradients  dL/dW, dL/db (and dL/dX)
    update     one optimizer step
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from conformance.cases import reference_model
from conformance.lessons import canonical_params
from frameworks import layout, unavailable_reason
from reference import ACTIVATIONS, LOSSES, OPTIMIZERS, Dense, get_optimizer
from reference.layernorm import LayerNorm
from reference.loss_conventions import weighted_cross_entropy
from reference.training_conventions import ExponentialDecay, Scheduled

SECTIONS = ("model", "forward", "loss", "gradients", "update")
COLUMNS = {"numpy": "NumPy (reference)", "torch": "PyTorch", "keras": "Keras 3"}
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Snippet:
    """A piece of source: what it is, where it lives, and the object it was read from."""

    title: str  # e.g. "MLP.forward" or "LOSSES['bce']"
    code: str  # dedented source text
    path: str  # file, relative to the project root when inside it
    line: int  # first line in that file
    obj: object = field(compare=False, repr=False, default=None)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def shown(self) -> str:
        """``code`` with each input check (``if ...: raise ...``) folded into one comment line."""
        return fold_checks(self.code)


@dataclass
class Cell:
    """One column of one section: its snippets, or why there are none (framework not installed)."""

    snippets: list[Snippet] = field(default_factory=list)
    note: str | None = None


def fold_checks(code: str, width: int = 60) -> str:
    """Fold every ``if cond: raise Error(...)`` block into ``# if cond: raise Error``.

    Validation is most of some constructors (``MLP.__init__``); folded, the
    arithmetic stands out and the checks are still named. Only whole ``if``
    statements whose body is a single ``raise`` (and no ``else``) are folded.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:  # a registry entry ("key": value,) is not a statement
        return code
    lines = code.splitlines()
    folds = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and not node.orelse and len(node.body) == 1 and isinstance(node.body[0], ast.Raise):
            exc = node.body[0].exc
            name = ast.unparse(exc.func if isinstance(exc, ast.Call) else exc) if exc else ""
            cond = ast.unparse(node.test)
            cond = cond if len(cond) <= width else cond[: width - 3] + "..."
            first = lines[node.lineno - 1]
            indent = first[: len(first) - len(first.lstrip())]
            folds.append((node.lineno, node.end_lineno, f"{indent}# if {cond}: raise {name}".rstrip()))
    for start, end, text in sorted(folds, reverse=True):
        lines[start - 1: end] = [text]
    return "\n".join(lines)


def _relative(path: str) -> str:
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def source_of(obj, title: str | None = None) -> Snippet:
    """The source of a function, method or class, as ``inspect`` reads it."""
    lines, start = inspect.getsourcelines(obj)
    title = title or getattr(obj, "__qualname__", repr(obj))
    return Snippet(title, textwrap.dedent("".join(lines)).rstrip(), _relative(inspect.getsourcefile(obj)), start, obj)


def _entry(module, dict_name: str, key: str):
    """(source, key node, value node) of ``key`` in the dict literal ``module.<dict_name> = {...}``."""
    source = inspect.getsource(module)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if not isinstance(node.value, ast.Dict) or not any(
            isinstance(t, ast.Name) and t.id == dict_name for t in targets
        ):
            continue
        for k, v in zip(node.value.keys, node.value.values):
            if isinstance(k, ast.Constant) and k.value == key:
                return source, k, v
    raise LookupError(f"{module.__name__}.{dict_name} has no literal entry {key!r}")


def entry_of(module, dict_name: str, key: str) -> Snippet:
    """The source lines of ``module.<dict_name>[key]`` in its dict literal (key, value and any comment)."""
    source, k, v = _entry(module, dict_name, key)
    lines = source.splitlines()[k.lineno - 1: v.end_lineno]
    return Snippet(
        f"{dict_name}[{key!r}]",
        textwrap.dedent("\n".join(lines)).rstrip(),
        _relative(inspect.getsourcefile(module)),
        k.lineno,
        getattr(module, dict_name)[key],
    )


def entry_with_helpers(module, dict_name: str, key: str) -> list[Snippet]:
    """The registry entry, then every function of ``module`` it calls by name (``half_sum_squared_error``)."""
    _, _, value = _entry(module, dict_name, key)
    names = _unique(n.id for n in ast.walk(value) if isinstance(n, ast.Name))
    helpers = [getattr(module, name, None) for name in names]
    return [entry_of(module, dict_name, key)] + [
        source_of(f) for f in helpers if inspect.isfunction(f) and inspect.getmodule(f) is module
    ]


def _registry_or(module, dict_name: str, key: str, fallback) -> list[Snippet]:
    """The entry ``key`` of ``module.<dict_name>`` if the module has that registry, else ``fallback``."""
    registry = getattr(module, dict_name, None)
    if isinstance(registry, dict) and key in registry:
        try:
            return entry_with_helpers(module, dict_name, key)
        except LookupError:  # a registry built by code, not a literal: show the registered object
            return [source_of(registry[key])]
    return [source_of(fallback)]


def _unique(items):
    return list(dict.fromkeys(items))


def _own_derivative(cls):
    """The method where an activation class writes its derivative (``derivative`` or its own ``backward``)."""
    for klass in cls.__mro__:
        if "backward" in vars(klass) and klass.__name__ != "Activation":
            return klass.backward
        if "derivative" in vars(klass):
            return klass.derivative
    return cls.backward


# ---- a lesson ----------------------------------------------------------------------------


def _numpy_lesson(lesson) -> dict[str, list[Snippet]]:
    # The network the checks build (an MLP, or a RegularizedMLP for dropout/BatchNorm). BatchNorm's
    # running variance follows a framework; the code shown is the same for either.
    model = reference_model(lesson, canonical_params(lesson), convention="torch")
    cls = type(model)
    acts = _unique(type(a) for a in model.activations)
    output_loss = type(model._output_loss)  # the loss the MLP computes: from the logits when fused
    backward_acts = _unique(type(a) for a in (model.activations[:-1] if model.fused else model.activations))
    optimizer = type(get_optimizer(lesson.optimizer, **lesson.hyperparameters))
    norm = [LayerNorm] if lesson.layernorm else []  # the layer the lesson adds, its formula written out
    weighted = [source_of(weighted_cross_entropy)] if lesson.class_weights else []
    schedule = [source_of(Scheduled.update), source_of(ExponentialDecay.__call__)] if lesson.lr_schedule else []
    return {
        "model": [source_of(reference_model), source_of(cls.__init__)],
        "forward": [source_of(cls.forward), source_of(Dense.forward)] + [source_of(n.forward) for n in norm]
        + [source_of(a.forward) for a in acts],
        "loss": [source_of(cls.loss_value), source_of(output_loss.forward)] + weighted,
        "gradients": [source_of(cls.backward), source_of(output_loss.backward), source_of(Dense.backward)]
        + [source_of(n.backward) for n in norm] + [source_of(_own_derivative(a)) for a in backward_acts],
        # the loop every optimizer shares (clip, weight decay), then this optimizer's own formula
        "update": [source_of(cls.step)] + schedule + [source_of(optimizer.update),
                                                       source_of(optimizer.update_parameter)],
    }


def _torch_lesson(lesson) -> dict[str, list[Snippet]]:
    from frameworks import (
        torch_twin as m,  # imports torch: only when its column is shown
    )

    acts = _unique(lesson.activations)
    return {
        "model": [source_of(m.TorchMLP.__init__)],
        "forward": [source_of(m.TorchMLP.forward)] + [s for a in acts for s in entry_with_helpers(m, "ACTIVATIONS", a)],
        "loss": ([source_of(m.class_weighted_cross_entropy)] if lesson.class_weights
                 else entry_with_helpers(m, "LOSSES", lesson.loss)) + [source_of(m.Twin._loss)],
        "gradients": [source_of(m.Twin.gradients)],
        "update": _registry_or(m, "OPTIMIZERS", lesson.optimizer, m.Twin.make_optimizer)
        + [source_of(m.Twin.make_optimizer), source_of(m.Twin.train)]
        + ([source_of(m.exponential_decay)] if lesson.lr_schedule else []),
    }


def _keras_lesson(lesson) -> dict[str, list[Snippet]]:
    from frameworks import (
        keras_twin as m,  # imports Keras: only when its column is shown
    )

    acts = _unique(lesson.activations)
    return {
        "model": [source_of(m.build_model)],
        "forward": [source_of(m.Twin.forward)] + [s for a in acts for s in entry_with_helpers(m, "ACTIVATIONS", a)],
        "loss": ([source_of(m.class_weighted_cross_entropy)] if lesson.class_weights
                 else entry_with_helpers(m, "LOSSES", lesson.loss)) + [source_of(m.Twin.loss)],
        "gradients": [source_of(m.Twin._loss_and_grads), source_of(m.Twin.gradients)],
        "update": _registry_or(m, "OPTIMIZERS", lesson.optimizer, m.Twin.make_optimizer)
        + [source_of(m.Twin.make_optimizer), source_of(m.Twin._trainer)]
        + ([source_of(m.exponential_decay)] if lesson.lr_schedule else []),
    }


LESSON_COLUMNS = {"numpy": _numpy_lesson, "torch": _torch_lesson, "keras": _keras_lesson}


def _columns(builders: dict, *args) -> dict[str, Cell | dict]:
    out = {}
    for column, build in builders.items():
        reason = None if column == "numpy" else unavailable_reason(column)
        out[column] = reason or build(*args)
    return out


def lesson_code(lesson) -> dict[str, dict[str, Cell]]:
    """section -> column -> Cell for ``lesson`` (a ``conformance.lessons.Lesson``)."""
    columns = _columns(LESSON_COLUMNS, lesson)
    return {
        section: {
            col: Cell(note=built) if isinstance(built, str) else Cell(built[section])
            for col, built in columns.items()
        }
        for section in SECTIONS
    }


def lesson_notes(lesson) -> list[str]:
    """What a reader should know to read the columns of ``lesson`` side by side."""
    model = reference_model(lesson, canonical_params(lesson), convention="torch")  # the notes are the same for either
    notes = [
        f"{lesson.name}: layers {'-'.join(map(str, lesson.sizes))}, activations {', '.join(lesson.activations)}, "
        f"loss {lesson.loss}, {lesson.optimizer}("
        + ", ".join(f"{k}={v:g}" for k, v in lesson.hyperparameters.items())
        + f"), init {lesson.init}, dataset {lesson.dataset}" + ("" if lesson.use_bias else ", no biases"),
        "Weights come from the reference (W is (fan_in, units)); frameworks/layout.py transposes them for torch.",
    ]
    regularizers = [f"Dropout({lesson.dropout:g}) after every hidden activation, the same keep-masks in all "
                    "three" if lesson.dropout else "",
                    "BatchNorm before every hidden activation (running variance: unbiased in torch, biased in "
                    "Keras; the reference follows the framework it is compared with)" if lesson.batchnorm else "",
                    f"an L2 penalty {lesson.kernel_l2:g} * sum(W ** 2) on the loss" if lesson.kernel_l2 else "",
                    f"LayerNorm before every hidden activation, epsilon {lesson.layernorm_epsilon:g} given to both "
                    "frameworks (their defaults: torch 1e-5, Keras 1e-3)" if lesson.layernorm else ""]
    if lesson.regularized:
        notes.append("Regularizers: " + "; ".join(r for r in regularizers if r) + ".")
    if model.fused:
        notes.append(
            f"{lesson.activations[-1]} + {lesson.loss}: the reference and Keras compute the loss from the "
            f"logits z{lesson.n_layers} ({type(model._output_loss).__name__})."
        )
    return notes


# ---- a component -------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # activation, loss, optimizer, layer


def components() -> dict[str, Component]:
    """Every component ``nnparity show --component`` knows, from the reference's registries."""
    out = {"dense": Component("dense", "layer")}
    for kind, registry in (("activation", ACTIVATIONS), ("loss", LOSSES), ("optimizer", OPTIMIZERS)):
        out.update({name: Component(name, kind) for name in registry})
    return out


def get_component(name: str) -> Component:
    known = components()
    try:
        return known[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; expected one of {', '.join(sorted(known))}") from None


def _numpy_component(c: Component) -> list[Snippet]:
    registry = {"activation": ACTIVATIONS, "loss": LOSSES, "optimizer": OPTIMIZERS, "layer": {"dense": Dense}}
    return [source_of(registry[c.kind][c.name])]


def _framework_component(module, c: Component, layer: list) -> list[Snippet]:
    if c.kind == "layer":
        return [source_of(obj) for obj in layer]
    if c.kind == "optimizer":
        return _registry_or(module, "OPTIMIZERS", c.name, module.Twin.make_optimizer)
    return entry_with_helpers(module, {"activation": "ACTIVATIONS", "loss": "LOSSES"}[c.kind], c.name)


def _torch_component(c):
    from frameworks import torch_twin  # imports torch: only when its column is shown

    return _framework_component(torch_twin, c, layer=[torch_twin.TorchMLP, layout.to_torch])


def _keras_component(c):
    from frameworks import keras_twin  # imports Keras: only when its column is shown

    return _framework_component(keras_twin, c, layer=[keras_twin.build_model, layout.to_keras])


COMPONENT_COLUMNS = {"numpy": _numpy_component, "torch": _torch_component, "keras": _keras_component}


def component_code(name: str) -> tuple[Component, dict[str, Cell]]:
    """The component and, per column, its implementation (reference) or the framework calls that match it."""
    c = get_component(name)
    columns = _columns(COMPONENT_COLUMNS, c)
    return c, {col: Cell(note=b) if isinstance(b, str) else Cell(b) for col, b in columns.items()}
