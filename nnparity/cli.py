"""The ``nnparity`` command: its parser, ``main`` and the console-script entry point.

    nnparity lessons [--json]
    nnparity optimizers [--json]
    nnparity run [--lesson NAME]... [--framework NAME]... [--dtype float64|float32]...
                 [--check NAME]... [--optimizer NAME]... [--json FILE]              (see run.py)
    nnparity plot LESSON [-o FILE.png] [--dtype float64|float32] [--framework NAME]...
    nnparity bench [--lesson NAME]... [--dtype DTYPE]... [--impl NAME]... [--json FILE]
    nnparity check PATH.py[:ClassName] --lesson NAME [--framework NAME]... [--json FILE]   (see check.py)
    nnparity translate "CONSTRUCTION" [--json]                                   (see translate.py)
    nnparity compare PAIR.py [--steps N] [--dtype DTYPE] [--json FILE] [--html FILE]   (see compare.py)
    nnparity export MODEL.py -o FILE.safetensors                                      (see export.py)

Every command but ``optimizers`` takes ``--lessons FILE`` (repeatable): a user's own lessons
(``conformance/lesson_files.py``, docs/lesson-files.md), in the catalog while the command runs.

Each command lives in a module of its own; what they share (exit codes, ``UsageError``,
output files, the console) is ``common.py``, and no command module imports from this one.
A command's module is imported only when that command runs (``COMMANDS``, ``build_parser``).
Exit status: 0 if every check passed or failed only as a named known difference
(``conformance/known/__init__.py``), 1 if any failed, 2 for bad arguments, 143 on SIGTERM (``entry_point``).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from conformance.threads import limit_reference_blas

from .common import EXIT_USAGE, UsageError, add_lessons_option, exit_now, user_lessons

# Every command: (where its options are added, "module:function" under nnparity; the line `nnparity --help` lists).
# A command's module is imported only when that command runs (``build_parser``): `nnparity check` does not pay
# for report's, bench's or compare's imports. The function adds the command's options and its ``func``.
COMMANDS = {
    "lessons": (".catalog:add_lessons_arguments", "list the lesson catalog"),
    "optimizers": (".catalog:add_optimizers_arguments", "list the named optimizer settings that --optimizer takes"),
    "run": (".run:add_arguments", "run the conformance matrix (lessons x frameworks x dtypes x checks)"),
    "show": (".show:add_arguments", "a lesson as three short programs, NumPy, PyTorch and Keras, side by side"),
    "report": (".report:add_arguments", "write the scoreboard, code and plots of every lesson as one HTML file"),
    "plot": (".plot:add_arguments", "train a lesson on every side; draw the loss curves and decision boundaries"),
    "bench": (".bench:add_arguments", "time one training step: the reference against torch and keras"),
    "compare": (".compare:add_arguments", "compare your torch model with your Keras model, declared in pair.py"),
    "export": (".export:add_arguments", "write a model's weights and optimizer state as .safetensors (no pickle)"),
    "check": (".learner.check:add_arguments", "check a learner's own NumPy network (its forward and backprop) "
                                              "against PyTorch and Keras"),
    "translate": (".translate:add_arguments", "the other framework's construction that computes the same numbers"),
}
LESSON_FILES = ("lessons", "show", "plot", "check")  # --lessons FILE: a user's lesson files (conformance/lesson_files.py)
CHOOSING_LESSON_FILES = ("run", "report", "bench")  # and without --lesson, run the files' lessons


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command with its help line (what ``nnparity --help`` lists); ``command``'s options too, its module
    imported for them. ``main`` names the command argv names; ``None`` adds no command's options."""
    parser = argparse.ArgumentParser(
        prog="nnparity",
        description="Does my neural network compute what PyTorch and Keras compute?",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (where, help_line) in COMMANDS.items():
        p = sub.add_parser(name, help=help_line)
        if name == command:
            module, function = where.split(":")
            getattr(importlib.import_module(module, __package__), function)(p)
        if name in LESSON_FILES or name in CHOOSING_LESSON_FILES:
            add_lessons_option(p, chooses=name in CHOOSING_LESSON_FILES)
    return parser


def command_named(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (nnparity itself takes none but -h)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _terminated(signum, frame):
    """SIGTERM: the run's worker processes killed, then exit 128 + 15 at once. Not by raising SystemExit:
    raised here, it can land in a garbage-collector callback (JAX has one), which swallows it."""
    matrix = sys.modules.get("conformance.matrix")  # imported by the commands that start workers (run, report)
    if matrix is not None:
        matrix.stop_workers()
    exit_now(128 + signum)


def entry_point() -> None:
    """The ``nnparity`` command (console script, ``python -m nnparity``): ``main()``, then ``exit_now``.

    SIGTERM (a CI job's timeout, ``kill``) stops the worker processes of ``run`` or ``report``
    (``conformance.matrix.stop_workers``) before the command exits with 143.
    """
    signal.signal(signal.SIGTERM, _terminated)
    exit_now(main())


def main(argv=None) -> int:
    limit_reference_blas()  # every command runs the reference on one BLAS thread (conformance/threads.py)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(command_named(argv)).parse_args(argv)
    try:
        with user_lessons(args):  # --lessons FILE: the file's lessons join the catalog for this command
            return args.func(args)
    except UsageError as exc:
        print(f"nnparity {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    entry_point()
