"""``nnparity run``: the options, the matrix (``conformance/matrix.py``), what is printed and written.

    nnparity run [--lesson NAME]... [--framework NAME]... [--dtype float64|float32]...
                 [--check NAME]... [--optimizer NAME]... [--json FILE] [--jobs N]

``run`` uses the same check functions as the pytest suite (``conformance.checks``), through
the one runner (``conformance.matrix.run_matrix``): a pool of worker processes per Keras
backend, at most ``--jobs`` processes at once (default: the CPUs this process may use), each
importing its frameworks once. With ``--jobs 1``, torch and Keras on TensorFlow run in this
process, one after the other. A worker process does not see what a test patches in this
process: such a test passes ``--jobs 1`` (or runs a single case, which runs here).
Printed: the table of every case and check, the trained networks (``training``), the
vanishing gradient (``gradient_norms``), every skip, failure (with where it first diverges)
and known difference, and a summary line.
Exit status: 0 if every check passed or failed only as a named known difference
(``conformance/known/__init__.py``), 1 if any failed, 2 for bad arguments, 143 on SIGTERM (``cli.entry_point``).
"""

from __future__ import annotations

import time

from rich import box
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from conformance.cases import DTYPES, Case
from conformance.checks import CHECKS
from conformance.divergence import first_divergences
from conformance.known import KNOWN_DIFFERENCES
from conformance.lessons import LESSONS
from conformance.matrix import cores, run_matrix
from conformance.optimizer_specs import OPTIMIZER_SPECS
from frameworks import FRAMEWORKS, missing_reason, versions
from frameworks.backends import backend_reason

from .common import EXIT_FAILED, EXIT_OK, UsageError, choices, output_file, write_json
from .common import console as make_console

# `nnparity run` without --framework: PyTorch and Keras on its default backend (TensorFlow), the two
# frameworks the lessons compare. Keras on JAX and on torch are named, or included by --framework all.
DEFAULT_FRAMEWORKS = ("torch", "keras")


# `nnparity run` without --check: every check but `training`. The step-level checks (forward to
# gradient_norms, 100 steps of each lesson) answer "does it compute the same?" in seconds; `training`
# trains every lesson to its end in all three (up to 10,000 epochs: about 35 s of the frameworks' own
# loops here, docs/performance.md). `--check training` or `--check all` runs it; the pytest suite always does.
OPT_IN_CHECKS = ("training",)

MARKS = {"passed": "[green]ok[/]", "known": "[yellow]known[/]", "failed": "[bold red]FAIL[/]"}


def add_arguments(p) -> None:
    """``nnparity run``'s options (nnparity/cli.py lists the command and its help line)."""
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
    p.add_argument("--jobs", type=int, default=cores(), metavar="N",
                   help="processes to run frameworks in at once (default: the CPUs this process may use, "
                   f"{cores()} here); 1 runs torch and Keras on TensorFlow in this process, one after the other")
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    console = make_console()
    cases, checks = _selection(args, console)
    started = time.perf_counter()
    results = _run(cases, checks, args.jobs, console)
    elapsed = time.perf_counter() - started

    keys = ("lesson", "optimizer", "framework", "dtype") if args.optimizer else ("lesson", "framework", "dtype")
    console.print(_table(results, checks, keys))
    if (trained := training_table(results)) is not None:
        console.print(trained)
    if lines := vanishing_lines(results):
        console.print("vanishing gradient, first layer's gradient norm over the last layer's (reference):")
        console.print("\n".join(f"  {line}" for line in lines), markup=False, highlight=False)
    divergences = _print_problems(console, results)
    _print_summary(console, results, len(cases), checks, elapsed)
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
    return EXIT_FAILED if any(r.status == "failed" for r in results) else EXIT_OK


def _checks(values) -> list[str]:
    """The --check values: the default set without any, every check for ``all``."""
    if not values:
        return [c for c in CHECKS if c not in OPT_IN_CHECKS]
    if "all" in values:
        return list(CHECKS)
    return choices(values, list(CHECKS), "--check")


def _selection(args, console) -> tuple[list[Case], list[str]]:
    """The cases (lesson, optimizer, framework, dtype, in that order of loops) and checks asked for.

    Every option is checked before any work; a framework named but not installed is an error, one
    only implied (the default, ``all``) is skipped with the reason.
    """
    lessons = choices(args.lesson, list(LESSONS), "--lesson")
    by_name = bool(args.framework) and "all" not in args.framework  # named: not having one is an error
    frameworks = (choices(args.framework, list(FRAMEWORKS), "--framework") if by_name
                  else list(FRAMEWORKS) if args.framework else list(DEFAULT_FRAMEWORKS))
    dtypes = choices(args.dtype, list(DTYPES), "--dtype")
    checks = _checks(args.check)
    optimizers = choices(args.optimizer, list(OPTIMIZER_SPECS), "--optimizer") if args.optimizer else [None]
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1. Received: --jobs {args.jobs}")
    output_file(args.json, "--json")  # now, not after the whole run

    skipped = {fw: missing_reason(fw) for fw in frameworks if missing_reason(fw)}
    if by_name and skipped:
        raise UsageError("; ".join(skipped.values()))
    for fw, reason in skipped.items():
        console.print(f"[yellow]skipped {fw}[/]: {escape(reason)}")  # plain text: "nnparity[torch]" is no style tag
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
    return cases, checks


def _run(cases: list[Case], checks: list[str], jobs: int, console) -> list:
    """``run_matrix`` under a progress bar (gone once done)."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("conformance", total=len(cases) * len(checks))

        def on_result(r):
            progress.update(task, description=f"{r.check} {r.case.id}", advance=1)

        return run_matrix(cases, checks, jobs, on_result=on_result)


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.0e}"


def _table(results, checks, keys) -> Table:
    """A row per case, a cell per check: its verdict and the greatest absolute difference."""
    table = Table(title="nnparity conformance: framework vs NumPy reference", box=box.SIMPLE_HEAD)
    for col in (*keys, *checks):
        table.add_column(col, no_wrap=True, justify="left" if col in keys else "right")
    by_case: dict[Case, dict] = {}
    for r in results:
        by_case.setdefault(r.case, {})[r.check] = r
    for case, row in by_case.items():
        cells = []
        for check in checks:
            r = row[check]
            cells.append("[yellow]skip[/]" if r.skipped else f"{MARKS[r.status]} {_fmt(r.to_json()['max_abs_err'])}")
        table.add_row(*(getattr(case, key) for key in keys), *cells)
    return table


def _print_problems(console, results) -> dict:
    """Every skip with its reason, every failure with its report and first divergence, every known
    difference; the first divergences found (case -> Divergence or None)."""
    not_run = [r for r in results if r.skipped]
    for reason in dict.fromkeys(r.skipped for r in not_run):
        where = ", ".join(f"{r.check} {r.case.id}" for r in not_run if r.skipped == reason)
        console.print(f"[yellow]skip[/] {where}: {escape(reason)}", highlight=False)
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        console.print(f"[bold red]FAIL[/] {r.check} {r.case.id}", markup=True)
        console.print(r.comparison.message(), markup=False, highlight=False)
    # the walk needs the framework's twin: for the frameworks this process can import (not Keras on another backend)
    divergences = first_divergences([r for r in failed if backend_reason(r.case.framework) is None])
    for case, divergence in divergences.items():
        text = divergence.message() if divergence else f"{case.id}: the walk found no quantity that disagrees"
        console.print(text, markup=False, highlight=False)
    known = [r for r in results if r.status == "known"]
    if known:
        _print_known(console, known)
    return divergences


def _print_known(console, known) -> None:
    """Each known difference once: where it showed, and its explanation."""
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
        for r in known:  # a probe's verdict on its case, where it words one (adam_amplification.py)
            message = r.info.get(name, {}).get("message") if r.known == name else None
            if message:
                console.print(f"  {r.check} {r.case.id}: {message}", markup=False, highlight=False)


def _print_summary(console, results, n_cases: int, checks, elapsed: float) -> None:
    counts = {status: sum(r.status == status for r in results) for status in ("failed", "skipped", "known")}
    passed = len(results) - sum(counts.values())
    summary = f"{passed} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    if counts["known"]:
        summary += f", {counts['known']} known differences"
    console.print(f"{summary} ({n_cases} cases x {len(checks)} checks in {elapsed:.2f} s; "
                  "cell = greatest absolute difference)")


def training_table(results):
    """A rich Table of every ``training`` result (None if there is none)."""
    rows = [r for r in results if r.check == "training" and not r.skipped]
    if not rows:
        return None
    table = Table(title="trained to the end: framework vs reference", box=box.SIMPLE_HEAD)
    for col in ("lesson", "framework", "dtype", "epochs", "loss", "ref loss", "correct", "ref",
                "max |dparam|", "s"):
        table.add_column(col, no_wrap=True, justify="left" if col in ("lesson", "framework", "dtype") else "right")
    for r in rows:
        fw, info = r.case.framework, r.info
        table.add_row(
            r.case.lesson, fw, r.case.dtype, str(info["epochs"]),
            _loss(info[fw]["final loss"]), _loss(info["reference"]["final loss"]),
            f"{info[fw]['correct']}/{info['test points']}", str(info["reference"]["correct"]),
            f"{info['greatest parameter difference']:.1e}", f"{info[fw]['seconds']:.2f}",
        )
    return table


def _loss(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def vanishing_lines(results) -> list[str]:
    """One line per lesson: the reference's first-layer gradient norm over its last layer's.

    (Each framework's own ratio is one of the ``gradient_norms`` items compared to it.)
    """
    ratios: dict[str, tuple[str, float]] = {}
    for r in results:
        if r.check == "gradient_norms" and not r.skipped and (r.case.lesson not in ratios or r.case.dtype == "float64"):
            ratios[r.case.lesson] = (r.info["ratio"], r.info["reference"])
    width = max((len(name) for name in ratios), default=0)
    return [f"{lesson:<{width}}  {ratio} = {value:.2e}" for lesson, (ratio, value) in ratios.items()]
