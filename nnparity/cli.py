"""The ``nnparity`` command: list the lessons, run the conformance matrix.

    nnparity lessons [--json]
    nnparity run [--lesson NAME]... [--framework NAME]... [--dtype float64|float32]...
                 [--check NAME]... [--json FILE]

``run`` uses the same check functions as the pytest suite (``conformance.checks``):
each framework is imported once and each twin built once. Keras on a backend other
than this process's (``keras-jax``, ``keras-torch``) runs in a child process per
backend (``workers.py``), at the same time, and its results are merged in.
Exit status: 0 if every check passed or failed only as a named known difference
(``conformance/known.py``), 1 if any failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _choices(values, known, option):
    values = values or list(known)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise UsageError(f"{option}: unknown {', '.join(map(repr, unknown))}; expected one of {', '.join(known)}")
    return list(dict.fromkeys(values))  # keep order, drop repeats


def cmd_lessons(args) -> int:
    from conformance.lessons import LESSONS

    if args.json:
        print(json.dumps([lesson.describe() for lesson in LESSONS.values()], indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title="nnparity lessons")
    for col in ("name", "layers", "activations", "loss", "init", "optimizer", "dataset"):
        table.add_column(col)
    for lesson in LESSONS.values():
        d = lesson.describe()
        opt = f"{lesson.optimizer}(" + ", ".join(f"{k}={v:g}" for k, v in lesson.hyperparameters.items()) + ")"
        table.add_row(d["name"], d["layers"] + ("" if lesson.use_bias else " (no bias)"),
                      ", ".join(d["activations"]), d["loss"], d["init"], opt, d["dataset"])
    Console().print(table)
    return EXIT_OK


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def cmd_run(args) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from conformance.checks import CHECKS, DTYPES, Case, run_check
    from conformance.lessons import LESSONS
    from frameworks import FRAMEWORKS, missing_reason, versions
    from nnparity import workers

    lessons = _choices(args.lesson, list(LESSONS), "--lesson")
    frameworks = _choices(args.framework, list(FRAMEWORKS), "--framework")
    dtypes = _choices(args.dtype, list(DTYPES), "--dtype")
    checks = _choices(args.check, list(CHECKS), "--check")
    console = Console(stderr=False)

    skipped = {fw: missing_reason(fw) for fw in frameworks if missing_reason(fw)}
    if args.framework and skipped:  # asked for by name: not having it is an error
        raise UsageError("; ".join(skipped.values()))
    for fw, reason in skipped.items():
        console.print(f"[yellow]skipped {fw}[/]: {reason}")
    frameworks = [fw for fw in frameworks if fw not in skipped]
    if not frameworks:
        raise UsageError("no framework to compare against is installed: pip install 'nnparity[all]'")

    cases = [Case(lesson, fw, dt) for lesson in lessons for fw in frameworks for dt in dtypes]
    here, elsewhere = workers.split(frameworks)
    results = []
    started = time.perf_counter()
    children = [workers.start(fws, lessons, dtypes, checks) for fws in elsewhere.values()]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("conformance", total=len(cases) * len(checks))
        for case in cases:
            if case.framework not in here:
                continue
            for check in checks:
                progress.update(task, description=f"{check} {case.id}")
                results.append(run_check(check, case))
                progress.advance(task)
        for child in children:
            progress.update(task, description=f"waiting for the {child.backend} worker ({', '.join(child.frameworks)})")
            results += child.results()
            progress.advance(task, len(lessons) * len(child.frameworks) * len(dtypes) * len(checks))
    order = {(case, check): i for i, (case, check) in enumerate((c, k) for c in cases for k in checks)}
    results.sort(key=lambda r: order[(r.case, r.check)])
    elapsed = time.perf_counter() - started

    table = Table(title="nnparity conformance: framework vs NumPy reference")
    for col in ("lesson", "framework", "dtype", *checks):
        table.add_column(col, justify="left" if col in ("lesson", "framework", "dtype") else "right")
    by_case: dict[Case, dict] = {}
    for r in results:
        by_case.setdefault(r.case, {})[r.check] = r
    for case, row in by_case.items():
        cells = []
        for check in checks:
            r = row[check]
            mark = {"passed": "[green]ok[/]", "known": "[yellow]known[/]", "failed": "[bold red]FAIL[/]"}[r.status]
            cells.append(f"{mark} {_fmt(r.to_json()['max_abs_err'])}")
        table.add_row(case.lesson, case.framework, case.dtype, *cells)
    console.print(table)

    failed = [r for r in results if r.status == "failed"]
    known = [r for r in results if r.status == "known"]
    for r in failed:
        console.print(f"[bold red]FAIL[/] {r.check} {r.case.id}", markup=True)
        console.print(r.comparison.message(), markup=False, highlight=False)
    if known:
        from conformance.known import KNOWN_DIFFERENCES

        for name in dict.fromkeys(r.known for r in known):
            difference = KNOWN_DIFFERENCES[name]
            where: dict[str, int] = {}
            for r in known:
                if r.known == name:
                    key = f"{r.case.framework} {r.case.dtype}"
                    where[key] = where.get(key, 0) + 1
            counts = ", ".join(f"{key} ({n} checks)" for key, n in where.items())
            console.print(f"[yellow]known difference {name}[/] (within the {difference.bound} tolerance) in "
                          f"{counts}; the cells marked known:")
            console.print(difference.explanation, markup=False, highlight=False)
    n = len(results)
    summary = f"{n - len(failed) - len(known)} passed, {len(failed)} failed"
    if known:
        summary += f", {len(known)} known differences"
    console.print(f"{summary} ({len(cases)} cases x {len(checks)} checks in {elapsed:.2f} s; "
                  "cell = greatest absolute difference)")
    if args.json:
        payload = {"versions": versions(), "results": [r.to_json() for r in results]}
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
    return EXIT_FAILED if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnparity",
        description="Does my neural network compute what PyTorch and Keras compute?",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lessons", help="list the lesson catalog")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(func=cmd_lessons)

    p = sub.add_parser("run", help="run the conformance matrix (lessons x frameworks x dtypes x checks)")
    p.add_argument("--lesson", action="append", metavar="NAME", help="a lesson (repeatable; default: all)")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch, keras, keras-jax or keras-torch (repeatable; default: every one installed)")
    p.add_argument("--dtype", action="append", metavar="DTYPE", help="float64 or float32 (repeatable; default: both)")
    p.add_argument("--check", action="append", metavar="NAME",
                   help="forward, loss, gradients or step (repeatable; default: all)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"nnparity {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
