"""The checks of one lesson declaration (a lesson file's, conformance/lesson_files.py): types, names, shapes, data.

    checked_lesson(fields, where, folder) -> Lesson     or LessonFileError naming where, the field,
                                                         what it received and what is allowed

``fields`` is a TOML ``[[lesson]]`` table or the fields of a ``Lesson`` a Python file made; both
are checked the same way, so a mistake reads the same in either form (docs/lesson-files.md).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np

from reference import ACTIVATIONS, CONVENTIONS, INITIALIZERS, LOSSES, OPTIMIZERS, get_initializer, get_optimizer

from . import datasets
from .lessons import Lesson, lesson_data

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a test id and a file name: no spaces, no brackets

# Each field of Lesson, by the kind of value it takes (``_convert``).
FIELD_KINDS = {
    "name": "str", "sizes": "sizes", "activations": "names", "loss": "str", "init": "str", "dataset": "str",
    "seed_text": "str", "init_args": "numbers", "bias_init": "str", "use_bias": "bool", "optimizer": "str",
    "hyper": "numbers", "epochs": "int", "batch_size": "int?", "seed": "int", "fixed_params": "arrays",
    "dataset_args": "values", "choices": "str", "dropout": "float?", "batchnorm": "bool",
    "batchnorm_momentum": "float", "batchnorm_epsilon": "float", "kernel_l2": "float", "test_dataset": "str?",
    "layernorm": "bool", "layernorm_epsilon": "float",
    "lr_schedule": "values", "class_weights": "floats", "class_weight_divisor": "str",
}
EXPECTED = {
    "str": "a string", "names": "a list of strings", "sizes": "a list of positive integers", "int": "an integer",
    "int?": "an integer (leave it out for None)", "float": "a number", "float?": "a number (leave it out for None)",
    "bool": "true or false", "numbers": "a table of name = number", "values": "a table of name = value",
    "arrays": "a table of parameter name = nested lists of numbers", "floats": "a list of numbers",
}
# The last activation each loss needs, and the least number of output units (docs/lesson-files.md).
LOSS_OUTPUTS = {
    "bce": (("sigmoid",), 1), "cce": (("softmax",), 2), "bce_logits": (("linear",), 1),
    "cce_logits": (("linear",), 2),
}
PROBABILITY_TARGETS = ("bce", "cce", "bce_logits", "cce_logits")  # targets in [0, 1]; cce's rows one-hot

class LessonFileError(ValueError):
    """A lesson file that cannot be used: the message names the file, the lesson and the field."""


class _Refused(Exception):
    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field, self.problem = field, problem


def _refuse(field: str, expected: str, received) -> None:
    raise _Refused(field, f"expected {expected}. Received: {received!r}")


def _hashable(value):
    """TOML's lists as tuples, all the way down: a Lesson is hashed (the twins are cached by lesson)."""
    return tuple(_hashable(v) for v in value) if isinstance(value, (list, tuple)) else value


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _pairs(field: str, value) -> list[tuple[str, object]]:
    """A table (a dict) or the dataclass's own tuple of (name, value) pairs, as pairs."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        pairs = [tuple(p) for p in value]
    else:
        _refuse(field, EXPECTED[FIELD_KINDS[field]], value)
    if not all(isinstance(k, str) for k, _ in pairs):
        _refuse(field, EXPECTED[FIELD_KINDS[field]], value)
    return pairs


def _convert(field: str, value):
    """``value`` in the form Lesson holds for ``field``, or ``_Refused`` naming what it expected."""
    kind = FIELD_KINDS[field]
    if kind.endswith("?") and value is None:
        return None
    base = kind.rstrip("?")
    if base == "str" and isinstance(value, str) or base == "bool" and isinstance(value, bool):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base == "float" and _number(value):
        return float(value)
    if kind in ("sizes", "names") and isinstance(value, (list, tuple)):
        wanted = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1) if kind == "sizes" \
            else (lambda v: isinstance(v, str))
        if all(map(wanted, value)):
            return tuple(value)
    if kind == "floats" and isinstance(value, (list, tuple)) and all(_number(v) for v in value):
        return tuple(float(v) for v in value)
    if kind in ("numbers", "values", "arrays"):
        pairs = _pairs(field, value)
        if kind == "numbers" and not all(_number(v) for _, v in pairs):
            _refuse(field, EXPECTED[kind], value)
        return tuple((k, _hashable(v)) for k, v in pairs)
    _refuse(field, EXPECTED[kind], value)


def _check_names(fields: dict) -> None:
    """Every name the lesson uses is one the reference and both frameworks know."""
    unknown = [a for a in fields["activations"] if a not in ACTIVATIONS]
    if unknown:
        _refuse("activations", f"names from {sorted(ACTIVATIONS)} (unknown: {unknown})", list(fields["activations"]))
    if fields["loss"] not in LOSSES:
        _refuse("loss", f"one of {sorted(LOSSES)}", fields["loss"])
    for field in ("init", "bias_init"):
        if fields.get(field, "zeros") not in INITIALIZERS:
            _refuse(field, f"one of {sorted(INITIALIZERS)}", fields[field])
    try:
        get_initializer(fields["init"], **dict(fields.get("init_args", ())))
    except ValueError as exc:
        raise _Refused("init_args", str(exc)) from None
    optimizer = fields.get("optimizer", Lesson.__dataclass_fields__["optimizer"].default)
    hyper = dict(fields.get("hyper", Lesson.__dataclass_fields__["hyper"].default))
    try:
        for convention in CONVENTIONS:  # what either framework refuses (Keras's Nadam: a momentum_decay but 1)
            get_optimizer(optimizer, convention=convention, **hyper)
    except ValueError as exc:
        raise _Refused("optimizer" if "unknown optimizer" in str(exc) else "hyper", str(exc)) from None
    missing = [k for k in undecided_hyperparameters(optimizer) if k not in hyper]
    if missing:
        _refuse("hyper", f"{optimizer}'s {', '.join(missing)} written out: PyTorch's and Keras's defaults differ, "
                "or Keras rounds its default through float32 even in float64", hyper)


def undecided_hyperparameters(optimizer: str) -> list[str]:
    """The hyper-parameters a lesson must give: those whose defaults differ between PyTorch and Keras
    (Adam's epsilon), or that float32 does not hold exactly (Adam's beta_1 = 0.9: left to Keras's default,
    a float64 step differed by 7e-8 from the reference's, measured on a 3-5-1 net of tabular3)."""
    defaults = OPTIMIZERS[optimizer].defaults
    return [k for k, v in defaults["torch"].items()
            if v != defaults["keras"][k] or (not isinstance(v, bool) and float(np.float32(v)) != v)]


def _check_shape(fields: dict) -> None:
    """The sizes chain: one activation per Dense layer, and the loss fits the last layer."""
    sizes, activations = fields["sizes"], fields["activations"]
    if len(sizes) < 2:
        _refuse("sizes", "at least 2 sizes (inputs, ..., outputs)", list(sizes))
    layers = len(sizes) - 1
    if len(activations) != layers:
        _refuse("activations", f"{layers} activations: sizes {list(sizes)} make {layers} Dense layers, one "
                f"activation each", list(activations))
    last, outputs, loss = activations[-1], sizes[-1], fields["loss"]
    if last == "softmax" and outputs < 2:
        _refuse("sizes", "at least 2 output units under softmax (one unit is always 1.0); "
                "sigmoid for one unit", list(sizes))
    if loss in LOSS_OUTPUTS:
        needs, least = LOSS_OUTPUTS[loss]
        if last not in needs:
            _refuse("activations", f"{' or '.join(needs)} as the last activation for loss {loss!r} "
                    f"(the loss reads {'probabilities' if needs[0] != 'linear' else 'logits'})", list(activations))
        if outputs < least:
            _refuse("sizes", f"at least {least} output units for loss {loss!r}", list(sizes))


def _resolve_data(fields: dict, folder: Path) -> None:
    """A data file's path, relative to the lesson file, made absolute (the workers run elsewhere)."""
    for field in ("dataset", "test_dataset"):
        name = fields.get(field)
        if name is None:
            continue
        if name in datasets.DATASETS:
            continue
        if not datasets.is_data_file(name):
            _refuse(field, f"one of {sorted(datasets.BUILTIN_DATASETS)} or a path ending in "
                    f"{' or '.join(datasets.DATA_FILE_SUFFIXES)}", name)
        path = (folder / name).resolve()
        if not path.is_file():
            _refuse(field, f"a data file that exists (looked for {path})", name)
        fields[field] = str(path)


def _load(lesson: Lesson, field: str, name: str):
    try:
        return (lesson_data(lesson) if field == "dataset"
                else datasets.load(name))
    except Exception as exc:  # a user's data function may raise anything
        detail = exc if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {exc}"
        raise _Refused(field, f"expected data that loads and fits the layers: {detail}") from None


def _check_data(lesson: Lesson) -> None:
    """The data loads, fits the layers, and its targets fit the loss."""
    X, y = _load(lesson, "dataset", lesson.dataset)
    if lesson.test_dataset is not None:
        X_test, y_test = _load(lesson, "test_dataset", lesson.test_dataset)
        if X_test.shape[1:] != X.shape[1:] or y_test.shape[1:] != y.shape[1:]:
            _refuse("test_dataset", f"X (N, {X.shape[1]}) and y (N, {y.shape[1]}) like the dataset",
                    f"X {X_test.shape}, y {y_test.shape}")
    if lesson.loss in PROBABILITY_TARGETS and not ((y >= 0) & (y <= 1)).all():
        _refuse("dataset", f"targets in [0, 1] for loss {lesson.loss!r}", f"y from {y.min()} to {y.max()}")
    if lesson.loss.startswith("cce") and not np.allclose(y.sum(axis=1), 1.0):
        _refuse("dataset", f"one-hot targets for loss {lesson.loss!r} (each row of y sums to 1)",
                f"rows summing to {np.unique(y.sum(axis=1))[:5]}")
    if lesson.fixed_params:
        shapes = {f"W{i}": (a, b) for i, (a, b) in enumerate(zip(lesson.sizes[:-1], lesson.sizes[1:]), start=1)}
        shapes.update({f"b{i}": (b,) for i, b in enumerate(lesson.sizes[1:], start=1) if lesson.use_bias})
        given = {k: np.shape(v) for k, v in lesson.fixed_params}
        if given != shapes:
            _refuse("fixed_params", f"exactly the shapes {shapes}", given)


def checked_lesson(fields: dict, where: str, folder: Path) -> Lesson:
    """A Lesson from a declaration's ``fields`` (a TOML table, or a Lesson's own fields), every check run.

    Raises ``LessonFileError`` naming ``where`` (the file and the lesson), the field, what it received
    and what it expected.
    """
    try:
        unknown = sorted(set(fields) - set(FIELD_KINDS))
        if unknown:
            hints = {u: difflib.get_close_matches(u, FIELD_KINDS, n=1) for u in unknown}
            hint = "".join(f" ({u!r}: did you mean {h[0]!r}?)" for u, h in hints.items() if h)
            _refuse(unknown[0], f"fields of Lesson: {sorted(FIELD_KINDS)}{hint}", unknown)
        missing = [f for f in ("name", "sizes", "activations", "loss", "init", "dataset") if f not in fields]
        if missing:
            _refuse(missing[0], f"every one of name, sizes, activations, loss, init, dataset (missing: {missing})",
                    sorted(fields))
        fields = {field: _convert(field, value) for field, value in fields.items()}
        if not NAME.fullmatch(fields["name"]):
            _refuse("name", "letters, digits, '-', '_' and '.' (a test id)", fields["name"])
        _check_names(fields)
        _check_shape(fields)
        _resolve_data(fields, folder)
        lesson = _build(fields)
        _check_data(lesson)
    except _Refused as exc:
        raise LessonFileError(f"{where}, field {exc.field!r}: {exc.problem}") from None
    return lesson


def _build(fields: dict) -> Lesson:
    try:
        return Lesson(**fields)
    except ValueError as exc:  # the ranges Lesson checks itself (dropout, epochs, batch_size)
        raise _Refused(_field_named(str(exc), fields), str(exc)) from None


def _field_named(message: str, fields: dict) -> str:
    """The first field a message of Lesson's own checks names (for the error's field), the lesson's name
    left out of the search (a lesson named "my-layernorm" names no field)."""
    message = message.replace(f"lesson {fields.get('name')!r}", "")
    found = {f: re.search(rf"\b{f}\b", message) for f in fields}
    named = sorted((match.start(), f) for f, match in found.items() if match)  # the first one the message names
    return named[0][1] if named else "(lesson)"
