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
Exit status: 0 if every check passed or failed only as a named known difference
(``conformance/known/__init__.py``), 1 if any failed, 2 for bad arguments, 143 on SIGTERM (``entry_point``).
"""

from __future__ import annotations

import argparse
import signal
import sys

from conformance.matrix import stop_workers
from conformance.threads import limit_reference_blas

from . import bench, catalog, export, plot, report, run, show, translate
from . import compare as compare_pair
from .common import EXIT_USAGE, UsageError, add_lessons_option, exit_now, user_lessons
from .learner import check


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnparity",
        description="Does my neural network compute what PyTorch and Keras compute?",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lessons", help="list the lesson catalog")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(func=catalog.cmd_lessons)

    p = sub.add_parser("optimizers", help="list the named optimizer settings that --optimizer takes")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(func=catalog.cmd_optimizers)

    run.add_parser(sub)
    show.add_parser(sub)
    report.add_parser(sub)
    plot.add_parser(sub)

    p = sub.add_parser("bench", help="time one training step: the reference against torch and keras")
    bench.add_arguments(p)
    p.set_defaults(func=bench.cmd_bench)

    compare_pair.add_parser(sub)  # nnparity compare: your torch model against your Keras model
    export.add_parser(sub)  # nnparity export: weights and optimizer state without pickle
    check.add_parser(sub)  # nnparity check: a learner's own network
    translate.add_parser(sub)  # nnparity translate: a construction in the other framework
    for name in ("lessons", "show", "plot", "check"):  # a user's lesson files (conformance/lesson_files.py)
        add_lessons_option(sub.choices[name])
    for name in ("run", "report", "bench"):  # and without --lesson, run the files' lessons
        add_lessons_option(sub.choices[name], chooses=True)
    return parser


def _terminated(signum, frame):
    """SIGTERM: the run's worker processes killed, then exit 128 + 15 at once. Not by raising SystemExit:
    raised here, it can land in a garbage-collector callback (JAX has one), which swallows it."""
    stop_workers()
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with user_lessons(args):  # --lessons FILE: the file's lessons join the catalog for this command
            return args.func(args)
    except UsageError as exc:
        print(f"nnparity {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    entry_point()
