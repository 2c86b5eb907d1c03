"""A user's own lessons, declared in a file of theirs and added to the catalog of one process.

Two forms (docs/lesson-files.md, examples/lessons/): a Python module that defines
``LESSONS = [Lesson(...), ...]`` with ``from nnparity import Lesson``, and a TOML file of
``[[lesson]]`` tables with the same fields. Both go through the same checks
(``lesson_checks.py``), so a mistake reads the same in either: the file, the lesson, the field,
what was received and what is allowed (``LessonFileError``).

    read_lesson_file(path) -> (Lesson, ...)   read and checked; nothing added (no data function kept)
    add_lesson_files(paths) -> names          the files' lessons join ``LESSONS`` (``get_lesson``)
    remove_lessons(names)                     and leave it again
    catalog_with(paths)                       the two as a context manager
    lesson_files(), added_lessons()           what this process added: the runner's workers
                                              (conformance/matrix.py) read the same files again

A lesson's ``dataset`` is a name of ``conformance.datasets.DATASETS``, the user's own
``.npz``/``.csv`` file, a path relative to the lesson file (``datasets.from_file``), or, in a
Python file, a function of the file returning ``(X, y)`` (``datasets.register``, as 'FILE:function').
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import re
import sys
import tomllib
import traceback
from contextlib import contextmanager
from pathlib import Path

from . import datasets
from .lesson_checks import FIELD_KINDS, LessonFileError, checked_lesson
from .lessons import LESSONS, Lesson

FORMS = (".py", ".toml")
_FILES: list[str] = []  # the lesson files this process added, in order
_ADDED: dict[str, str] = {}  # lesson name -> the file that declared it
_FUNCTIONS: dict[str, list[str]] = {}  # a Python lesson file -> the data functions it registered (datasets.register)


def _where(path: Path, index: int, declaration) -> str:
    name = declaration.get("name") if isinstance(declaration, dict) else None
    return f"{path}: lesson {name!r}" if isinstance(name, str) else f"{path}: lesson #{index + 1}"


def _from_toml(path: Path) -> list[tuple[str, dict]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LessonFileError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(document) - {"lesson"})
    tables = document.get("lesson")
    if extra or not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise LessonFileError(f"{path}: expected one [[lesson]] table per lesson and nothing else. Received: "
                              f"top-level keys {sorted(document)}")
    return [(_where(path, i, t), t) for i, t in enumerate(tables)]


def _line_in(path: Path, exc: BaseException) -> str:
    """', line N' of the deepest frame of the user's file in ``exc``'s traceback ('' if none)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f", line {exc.lineno}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return f", line {lines[-1]}" if lines else ""


def _exec_module(path: Path):
    """Run the user's module (under a name of its own, so its dataclasses and pickles find it)."""
    name = "nnparity_lesson_file_" + re.sub(r"\W", "_", str(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # anything the user's code raises: shown with its line, as a usage error
        del sys.modules[name]
        _refuse_refused_lesson(path, exc)
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
            word = str(exc).rsplit(" ", 1)[-1].strip("'")
            hint = difflib.get_close_matches(word, FIELD_KINDS, n=1)
            message += f"; Lesson's fields are {sorted(FIELD_KINDS)}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        raise LessonFileError(f"{path}{_line_in(path, exc)}: {message}") from None
    return module


def _refuse_refused_lesson(path: Path, exc: Exception) -> None:
    """A Lesson that refused its own fields (``Lesson.__post_init__``): the same checks as a TOML
    declaration's, on the fields it was given, so the message names the field (and the line)."""
    tb = exc.__traceback__
    while tb is not None:
        lesson = tb.tb_frame.f_locals.get("self") if tb.tb_frame.f_code.co_name == "__post_init__" else None
        if isinstance(lesson, Lesson):
            fields = {f.name: getattr(lesson, f.name) for f in dataclasses.fields(Lesson)}
            checked_lesson(fields, f"{path}{_line_in(path, exc)}: lesson {lesson.name!r}", path.parent)
        tb = tb.tb_next


def _from_python(path: Path) -> tuple[list[tuple[str, dict]], dict]:
    """([(where, fields)], {dataset name: data function}): the functions are not registered here."""
    declared = getattr(_exec_module(path), "LESSONS", None)
    functions: dict[str, object] = {}  # the data functions the lessons name, by their dataset name
    if not isinstance(declared, (list, tuple)) or not declared:
        raise LessonFileError(f"{path}: expected LESSONS = [Lesson(...), ...] (from nnparity import Lesson). "
                              f"Received: LESSONS = {declared!r}")
    out = []
    for i, lesson in enumerate(declared):
        if not isinstance(lesson, Lesson):
            raise LessonFileError(f"{path}: lesson #{i + 1}: expected a Lesson (from nnparity import Lesson). "
                                  f"Received: {lesson!r}")
        fields = {f.name: getattr(lesson, f.name) for f in dataclasses.fields(Lesson)}
        _data_functions(path, fields, functions)
        out.append((_where(path, i, fields), fields))
    return out, functions


def _data_functions(path: Path, fields: dict, functions: dict) -> None:
    """A data function in place of a dataset's name (``dataset=make_data``): named 'FILE:make_data'."""
    for field in ("dataset", "test_dataset"):
        function = fields.get(field)
        if not callable(function):
            continue
        name = f"{path}:{getattr(function, '__name__', type(function).__name__)}"
        if functions.setdefault(name, function) is not function:
            raise LessonFileError(f"{path}: lesson {fields.get('name')!r}, field {field!r}: expected a data "
                                  f"function of its own name (def make_data(): ...). Received: two named {name!r}")
        fields[field] = name


def read_lesson_file(path) -> tuple[Lesson, ...]:
    """The lessons a file declares, each checked (``checked_lesson``); nothing is added to the catalog, and
    no data function of the file stays registered."""
    return _read(path)[0]


def _read(path) -> tuple[tuple[Lesson, ...], dict]:
    """(the file's lessons, checked; {dataset name: data function} of a Python file). The functions are
    registered only while the checks load their data (``datasets.registered``); ``add_lesson_files`` keeps them."""
    path = Path(path).resolve()
    if path.suffix not in FORMS or not path.is_file():
        raise LessonFileError(f"{path}: expected an existing lesson file ending in {' or '.join(FORMS)}")
    declared, functions = (_from_toml(path), {}) if path.suffix == ".toml" else _from_python(path)
    with datasets.registered(functions):
        lessons = tuple(checked_lesson(dict(fields), where, path.parent) for where, fields in declared)
    names = [lesson.name for lesson in lessons]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise LessonFileError(f"{path}: each lesson name once. Received twice: {twice}")
    return lessons, functions


def _forget_functions(path: str) -> None:
    for name in _FUNCTIONS.pop(path, []):
        datasets.unregister(name)


def add_lesson_files(paths) -> tuple[str, ...]:
    """Read every file, then add its lessons to ``LESSONS``; the names added, in order.

    A file already added in this process is not read again (its lessons are there). A name the
    catalog (or another file) already has is refused, and then nothing is added.
    """
    found: dict[str, tuple[Lesson, str]] = {}
    files, functions = [], {}
    for path in paths:
        path = str(Path(path).resolve())
        if path in _FILES or path in files:
            continue
        files.append(path)
        lessons, functions[path] = _read(path)
        for lesson in lessons:
            owner = _ADDED.get(lesson.name) or (found[lesson.name][1] if lesson.name in found else None)
            if owner or lesson.name in LESSONS:
                raise LessonFileError(f"{path}: lesson {lesson.name!r}, field 'name': a name of its own. Received: "
                                      f"{lesson.name!r}, already declared in "
                                      f"{owner or 'the catalog (conformance/lessons.py)'}")
            found[lesson.name] = (lesson, path)
    for name, (lesson, path) in found.items():
        LESSONS[name] = lesson
        _ADDED[name] = path
    for path, named in functions.items():  # a file's data functions join with its lessons, and leave with them
        for name, function in named.items():
            datasets.register(name, function)
        _FUNCTIONS[path] = list(named)
    _FILES.extend(files)
    return tuple(found)


def remove_lessons(names) -> None:
    """Take lessons ``add_lesson_files`` added out of the catalog again (and forget their files)."""
    for name in names:
        LESSONS.pop(name, None)
        _ADDED.pop(name, None)
    _FILES[:] = [f for f in _FILES if f in _ADDED.values()]
    for path in [p for p in _FUNCTIONS if p not in _FILES]:
        _forget_functions(path)


@contextmanager
def catalog_with(paths):
    """The files' lessons in the catalog while the block runs; yields their names."""
    added = add_lesson_files(paths)
    try:
        yield added
    finally:
        remove_lessons(added)


def lesson_files() -> tuple[str, ...]:
    """The lesson files this process added (absolute paths): what a worker process adds too."""
    return tuple(_FILES)


def added_lessons() -> tuple[str, ...]:
    """The names of the lessons this process added from files, in order."""
    return tuple(_ADDED)
