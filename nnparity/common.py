"""What every ``nnparity`` command shares: exit codes, the usage error, option checks, output files, the console.

The command modules (``run.py``, ``report.py``, ``plot.py``, ...) import these from here, and
``cli.py`` imports the command modules: nothing imports back from ``cli.py``.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager

from rich.console import Console

from conformance.lesson_files import LessonFileError, add_lesson_files, remove_lessons

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def output_file(path: str | None, option: str) -> None:
    """Refuse an output file that cannot be written, before the command does any work.

    Its folder must exist and be writable, and the path must not be a folder; ``None``
    (the option not given) is fine. ``option`` is named in the message ("--json", "-o").
    """
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a folder; expected a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {path}: the folder {folder} is not writable")


def write_output(path: str, option: str, text: str) -> None:
    """Write ``text`` to ``path``; an OS error (disk full, permissions changed) names the option and file."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write it: {exc.strerror}") from None


def write_json(path: str, payload) -> None:
    """``--json FILE`` of every command: ``payload`` as indented JSON (``write_output``)."""
    write_output(path, "--json", json.dumps(payload, indent=2))


def choices(values, known, option):
    """The values of a repeatable option (all of ``known`` when none), each once; an unknown one is refused."""
    values = values or list(known)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise UsageError(f"{option}: unknown {', '.join(map(repr, unknown))}; expected one of {', '.join(known)}")
    return list(dict.fromkeys(values))  # keep order, drop repeats


def add_lessons_option(parser, chooses: bool = False) -> None:
    """``--lessons FILE`` (repeatable): a user's lesson file (docs/lesson-files.md). ``chooses``: the
    command's repeatable ``--lesson`` runs the files' lessons when it is not given (run, report, bench)."""
    parser.add_argument("--lessons", action="append", metavar="FILE",
                        help="your own lessons: a .py file with LESSONS = [Lesson(...)] or a .toml file "
                        "(docs/lesson-files.md); they join the catalog for this command"
                        + (" and are the lessons run unless --lesson says otherwise" if chooses else "")
                        + " (repeatable)")
    parser.set_defaults(lessons_choose=chooses)


@contextmanager
def user_lessons(args):
    """The ``--lessons`` files' lessons in the catalog while the command runs; a bad file is a UsageError."""
    try:
        added = add_lesson_files(getattr(args, "lessons", None) or ())
    except LessonFileError as exc:
        raise UsageError(f"--lessons {exc}") from None
    try:
        if added and getattr(args, "lessons_choose", False) and not args.lesson:
            args.lesson = list(added)
        yield added
    finally:
        remove_lessons(added)


def console():
    """A rich Console; piped or captured output (CI logs, ``| less``) gets 120 columns, not rich's
    default 80, which would cut the tables of six checks."""
    return Console(width=None if sys.stdout.isatty() else 120)


def exit_now(code: int) -> None:
    """Flush stdout and stderr, then end the process without the interpreter's teardown.

    With torch and TensorFlow loaded, Python's shutdown (their atexit handlers, thread
    pools, thousands of modules torn down) took 1.3 s (Keras alone) to 2.3 s (numpy,
    torch and Keras) here, after every result was printed and written. Nothing of
    nnparity's runs in it: its files are closed by ``with``, its worker processes waited
    for. The command-line entry points end this way; ``main()`` itself returns normally
    (the tests call it in their own process).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away, or a stream already closed
            pass
    os._exit(code)
