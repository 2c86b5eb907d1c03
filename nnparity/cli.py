"""The ``nnparity`` command: list the lessons, run the conformance matrix.

    nnparity lessons [--json]
    nnparity optimizers [--json]
    nnparity run [--lesson NAME]... [--framework NAME]... [--dtype float64|float32]...
                 [--check NAME]... [--optimizer NAME]... [--json FILE]
    nnparity plot LESSON [-o FILE.png] [--dtype float64|float32] [--framework NAME]...
    nnparity bench [--lesson NAME]... [--dtype DTYPE]... [--impl NAME]... [--json FILE]
    nnparity check PATH.py:ClassName --lesson NAME [--framework NAME]... [--json FILE]   (see check.py)

``run`` uses the same check functions as the pytest suite (``conformance.checks``):
each framework is imported once and each twin built once. Keras on a backend other
than this process's (``keras-jax``, ``keras-torch``) runs in a child process per
backend (``workers.py``), at the same time, and its results are merged in. With
``--jobs 2`` (the default on two CPUs) torch runs in a child too, and a helper (a fork
of this process, on Linux) takes this process's Keras cases from the back once the torch
child is done (``workers.fork_helper``). A child process does not see what a test patches in
this process (the forked helper sees what was patched before the run): such a test passes
``--jobs 1`` (or runs a single case).
Exit status: 0 if every check passed or failed only as a named known difference
(``conformance/known.py``), 1 if any failed, 2 for bad arguments, 143 on SIGTERM (``entry_point``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_on_terminate = []  # what SIGTERM must undo first: the run in progress registers its clean-up (cmd_run)


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


def _choices(values, known, option):
    values = values or list(known)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise UsageError(f"{option}: unknown {', '.join(map(repr, unknown))}; expected one of {', '.join(known)}")
    return list(dict.fromkeys(values))  # keep order, drop repeats


def _console():
    """A rich Console; piped or captured output (CI logs, ``| less``) gets 120 columns, not rich's
    default 80, which would cut the tables of six checks."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


# `nnparity run` without --framework: PyTorch and Keras on its default backend (TensorFlow), the two
# frameworks the lessons compare. Keras on JAX and on torch are named, or included by --framework all.
DEFAULT_FRAMEWORKS = ("torch", "keras")


# `nnparity run` without --check: every check but `training`. The step-level checks (forward to
# gradient_norms, 100 steps of each lesson) answer "does it compute the same?" in seconds; `training`
# trains every lesson to its end in all three (up to 10,000 epochs: about 35 s of the frameworks' own
# loops here, docs/performance.md). `--check training` or `--check all` runs it; the pytest suite always does.
OPT_IN_CHECKS = ("training",)


def _checks(values) -> list[str]:
    """The --check values: the default set without any, every check for ``all``."""
    from conformance.checks import CHECKS

    if not values:
        return [c for c in CHECKS if c not in OPT_IN_CHECKS]
    if "all" in values:
        return list(CHECKS)
    return _choices(values, list(CHECKS), "--check")


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.0e}"


def cmd_run(args) -> int:
    from rich.markup import (
        escape,  # a reason is plain text: its "nnparity[torch]" is not a style tag
    )
    from rich.progress import Progress
    from rich.table import Table

    from conformance.cases import DTYPES, Case
    from conformance.checks import run_check
    from conformance.divergence import first_divergences
    from conformance.lessons import LESSONS
    from conformance.optimizer_specs import OPTIMIZER_SPECS
    from frameworks import FRAMEWORKS, missing_reason, twin_class, versions
    from frameworks.backends import backend_reason
    from nnparity import workers

    lessons = _choices(args.lesson, list(LESSONS), "--lesson")
    by_name = bool(args.framework) and "all" not in args.framework  # named: not having one is an error
    frameworks = (_choices(args.framework, list(FRAMEWORKS), "--framework") if by_name
                  else list(FRAMEWORKS) if args.framework else list(DEFAULT_FRAMEWORKS))
    dtypes = _choices(args.dtype, list(DTYPES), "--dtype")
    checks = _checks(args.check)
    optimizers = _choices(args.optimizer, list(OPTIMIZER_SPECS), "--optimizer") if args.optimizer else [None]
    console = _console()
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1. Received: --jobs {args.jobs}")
    output_file(args.json, "--json")  # now, not after the whole run

    skipped = {fw: missing_reason(fw) for fw in frameworks if missing_reason(fw)}
    if by_name and skipped:
        raise UsageError("; ".join(skipped.values()))
    for fw, reason in skipped.items():
        console.print(f"[yellow]skipped {fw}[/]: {escape(reason)}")
    frameworks = [fw for fw in frameworks if fw not in skipped]
    if not frameworks:
        raise UsageError("no framework to compare against is installed: pip install 'nnparity[all]'")
    if not args.framework:
        others = [fw for fw in FRAMEWORKS if fw not in frameworks and not missing_reason(fw)]
        if others:
            console.print(f"also installed: {', '.join(others)} (Keras on another backend, a process each): "
                          "add them with --framework all", highlight=False)

    cases = [Case(lesson, fw, dt, opt) for lesson in lessons for opt in optimizers for fw in frameworks
             for dt in dtypes]
    here, elsewhere = workers.parallel(*workers.split(frameworks), jobs=args.jobs)
    results = []
    started = time.perf_counter()
    mine = [case for case in cases if case.framework in here]
    children, helper, shared = [], None, None

    def cleanup():  # also when a check raised or the run was interrupted: no child left running, no files left
        for child in [*children, helper]:
            if child is not None:
                child.stop()
        if shared is not None:
            shutil.rmtree(shared.directory, ignore_errors=True)

    _on_terminate.append(cleanup)
    try:
        for fws in elsewhere.values():
            children.append(workers.start(fws, lessons, dtypes, checks, optimizers))
        # A helper takes this process's cases from the back once a core is free (workers.fork_helper): a fork
        # of this process, made after importing its frameworks (it starts with them imported) and before
        # running anything; it waits for a core (--jobs) to be free.
        if len(mine) > 1 and args.jobs > 1:
            for fw in here:
                twin_class(fw)
            if workers.fork_reason() is None:
                shared = workers.SharedCases(mine, tempfile.mkdtemp(prefix="nnparity-cases-"))
                helper = workers.fork_helper(shared, checks, children, args.jobs)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("conformance", total=len(cases) * len(checks))
            for i, case in enumerate(mine):
                if shared is not None and not shared.take(i):
                    continue  # the helper has it
                for check in checks:
                    progress.update(task, description=f"{check} {case.id}")
                    results.append(run_check(check, case))
                    progress.advance(task)
            for child in children:
                progress.update(task, description=f"waiting for the {child.backend} worker "
                                                  f"({', '.join(child.frameworks)})")
                theirs = child.results()
                results += theirs
                progress.advance(task, len(theirs))
            if helper is not None:
                progress.update(task, description="waiting for the helper")
                theirs = helper.results()
                results += theirs
                progress.advance(task, len(theirs))
    finally:
        cleanup()
        _on_terminate.remove(cleanup)
    order = {(case, check): i for i, (case, check) in enumerate((c, k) for c in cases for k in checks)}
    results.sort(key=lambda r: order[(r.case, r.check)])
    elapsed = time.perf_counter() - started

    from rich import box

    table = Table(title="nnparity conformance: framework vs NumPy reference", box=box.SIMPLE_HEAD)
    keys = ("lesson", "optimizer", "framework", "dtype") if args.optimizer else ("lesson", "framework", "dtype")
    for col in (*keys, *checks):
        table.add_column(col, no_wrap=True, justify="left" if col in keys else "right")
    by_case: dict[Case, dict] = {}
    for r in results:
        by_case.setdefault(r.case, {})[r.check] = r
    for case, row in by_case.items():
        cells = []
        for check in checks:
            r = row[check]
            if r.skipped:
                cells.append("[yellow]skip[/]")
                continue
            mark = {"passed": "[green]ok[/]", "known": "[yellow]known[/]", "failed": "[bold red]FAIL[/]"}[r.status]
            cells.append(f"{mark} {_fmt(r.to_json()['max_abs_err'])}")
        table.add_row(*(getattr(case, key) for key in keys), *cells)
    console.print(table)
    from .summaries import training_table, vanishing_lines

    if (trained := training_table(results)) is not None:
        console.print(trained)
    if lines := vanishing_lines(results):
        console.print("vanishing gradient, first layer's gradient norm over the last layer's (reference):")
        console.print("\n".join(f"  {line}" for line in lines), markup=False, highlight=False)

    not_run = [r for r in results if r.skipped]
    for reason in dict.fromkeys(r.skipped for r in not_run):
        where = ", ".join(f"{r.check} {r.case.id}" for r in not_run if r.skipped == reason)
        console.print(f"[yellow]skip[/] {where}: {escape(reason)}", highlight=False)
    failed = [r for r in results if r.status == "failed"]
    known = [r for r in results if r.status == "known"]
    for r in failed:
        console.print(f"[bold red]FAIL[/] {r.check} {r.case.id}", markup=True)
        console.print(r.comparison.message(), markup=False, highlight=False)
    # the walk needs the framework's twin: for the frameworks this process can import (not Keras on another backend)
    divergences = first_divergences([r for r in failed if backend_reason(r.case.framework) is None])
    for case, divergence in divergences.items():
        text = divergence.message() if divergence else f"{case.id}: the walk found no quantity that disagrees"
        console.print(text, markup=False, highlight=False)
    if known:
        _print_known(console, known)
    n = len(results)
    summary = f"{n - len(failed) - len(not_run) - len(known)} passed, {len(failed)} failed, {len(not_run)} skipped"
    if known:
        summary += f", {len(known)} known differences"
    console.print(f"{summary} ({len(cases)} cases x {len(checks)} checks in {elapsed:.2f} s; "
                  "cell = greatest absolute difference)")
    if not args.check:
        console.print(f"not run: {', '.join(OPT_IN_CHECKS)} (every lesson trained to its end, about half a minute): "
                      "add --check all", highlight=False)
    if args.json:
        def first_divergence(r):  # null when the check passed
            found = divergences.get(r.case) if r.status == "failed" else None
            return found.to_json() if found else None

        payload = {"versions": versions(),
                   "results": [dict(r.to_json(), first_divergence=first_divergence(r)) for r in results]}
        write_json(args.json, payload)
    return EXIT_FAILED if failed else EXIT_OK


def _print_known(console, known) -> None:
    """Each known difference once: where it showed, and its explanation."""
    from conformance.known import KNOWN_DIFFERENCES

    for name in dict.fromkeys(r.known for r in known):
        where: dict[str, int] = {}
        for r in known:
            if r.known == name:
                key = f"{r.case.framework} {r.case.dtype}"
                where[key] = where.get(key, 0) + 1
        counts = ", ".join(f"{key} ({n} checks)" for key, n in where.items())
        difference = KNOWN_DIFFERENCES[name]
        console.print(f"[yellow]known difference {name}[/] ({difference.judged_by}) in "
                      f"{counts}; the cells marked known:")
        console.print(difference.explanation, markup=False, highlight=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnparity",
        description="Does my neural network compute what PyTorch and Keras compute?",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    from . import catalog  # `nnparity lessons` and `nnparity optimizers`

    p = sub.add_parser("lessons", help="list the lesson catalog")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(func=catalog.cmd_lessons)

    p = sub.add_parser("optimizers", help="list the named optimizer settings that --optimizer takes")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(func=catalog.cmd_optimizers)

    p = sub.add_parser("run", help="run the conformance matrix (lessons x frameworks x dtypes x checks)")
    p.add_argument("--lesson", action="append", metavar="NAME", help="a lesson (repeatable; default: all)")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch, keras (on TensorFlow), keras-jax or keras-torch (repeatable), or all (every one "
                   "installed); default: torch and keras. Keras on another backend runs in a child process")
    p.add_argument("--dtype", action="append", metavar="DTYPE", help="float64 or float32 (repeatable; default: both)")
    p.add_argument("--check", action="append", metavar="NAME",
                   help="forward, loss, gradients, step, trajectory, training or gradient_norms "
                   "(repeatable), or all; default: every check but training (each lesson trained to its end)")
    p.add_argument("--optimizer", action="append", metavar="NAME",
                   help="replace each lesson's optimizer with this named setting for the step and trajectory "
                   "checks (repeatable; `nnparity optimizers` lists them)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--jobs", type=int, default=_cpus(), metavar="N",
                   help="processes to run frameworks in at once (default: the CPUs this process may use, "
                   f"{_cpus()} here); 1 runs torch and Keras on TensorFlow in this process, one after the other")
    p.set_defaults(func=cmd_run)

    from . import plot, report, show  # each command in its own module
    from .learner import check

    show.add_parser(sub)
    report.add_parser(sub)
    plot.add_parser(sub)

    from .bench import add_arguments as add_bench_arguments
    from .bench import cmd_bench

    p = sub.add_parser("bench", help="time one training step: the reference against torch and keras")
    add_bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    check.add_parser(sub)  # nnparity check: a learner's own network
    return parser


def exit_now(code: int) -> None:
    """Flush stdout and stderr, then end the process without the interpreter's teardown.

    With torch and TensorFlow loaded, Python's shutdown (their atexit handlers, thread
    pools, thousands of modules torn down) took 1.3 s (Keras alone) to 2.3 s (numpy,
    torch and Keras) here, after every result was printed and written. Nothing of
    nnparity's runs in it: its files are closed by ``with``, its child processes waited
    for. The command-line entry points end this way; ``main()`` itself returns normally
    (the tests call it in their own process).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away, or a stream already closed
            pass
    os._exit(code)


def _terminated(signum, frame):
    """SIGTERM: the run's clean-up, then exit 128 + 15 at once. Not by raising SystemExit: raised
    here, it can land in a garbage-collector callback (JAX has one), which swallows it."""
    for cleanup in list(_on_terminate):
        cleanup()
    exit_now(128 + signum)


def entry_point() -> None:
    """The ``nnparity`` command (console script, ``python -m nnparity``): ``main()``, then ``exit_now``.

    SIGTERM (a CI job's timeout, ``kill``) stops ``run``'s children and helper and removes
    their files before the command exits with 143.
    """
    signal.signal(signal.SIGTERM, _terminated)
    exit_now(main())


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"nnparity {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    entry_point()
