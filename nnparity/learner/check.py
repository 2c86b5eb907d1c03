"""``nnparity check PATH.py:ClassName --lesson NAME``: is a learner's own NumPy network right?

    nnparity check my_net.py:NeuralNetwork --lesson circles [--framework torch]... [--json FILE]

Runs the learner's class from the lesson's canonical weights (``load.py``),
compares its output and every gradient with PyTorch and Keras (``diagnose.py``),
and names the learner's own attribute where they diverge, with the usual cause.
Exit status: 0 when everything agrees, 1 when something diverges, 2 when the class
cannot be checked (missing file or class, wrong shapes, an exception in its code).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from conformance.lessons import LESSONS
from frameworks import FRAMEWORKS, available_frameworks, unavailable_reason
from nnparity.common import UsageError, output_file, write_json

from .diagnose import check_learner
from .load import LearnerError

EXIT_OK, EXIT_DIVERGED, EXIT_UNUSABLE = 0, 1, 2


def add_parser(sub) -> None:
    """Register ``check`` on the CLI's subparsers."""
    p = sub.add_parser("check", help="check a learner's own NumPy network (its forward and backprop) "
                                     "against PyTorch and Keras")
    p.add_argument("target", metavar="PATH.py:ClassName", help="the file and the class in it")
    p.add_argument("--lesson", required=True, metavar="NAME", help="the lesson the class implements (nnparity lessons)")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch or keras (repeatable; default: every one installed)")
    p.add_argument("--json", metavar="FILE", help="also write the verdict as JSON to FILE")
    p.set_defaults(func=cmd_check)


def _frameworks(asked) -> list[str]:
    if asked:
        unknown = [fw for fw in asked if fw not in FRAMEWORKS]
        if unknown:
            raise UsageError(f"--framework: unknown {', '.join(map(repr, unknown))}; expected one of "
                             f"{', '.join(FRAMEWORKS)}")
        missing = [unavailable_reason(fw) for fw in asked if unavailable_reason(fw)]
        if missing:
            raise UsageError("; ".join(missing))
        return list(dict.fromkeys(asked))
    found = available_frameworks()
    if not found:
        raise UsageError("no framework to compare against is installed: pip install 'nnparity[all]'")
    return found


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def _print_report(console, report) -> None:
    run = report.run
    console.print(f"[bold]{report.target}[/] on lesson [bold]{report.lesson.name}[/] "
                  f"({'-'.join(map(str, report.lesson.sizes))}, {', '.join(report.lesson.activations)}, "
                  f"{report.lesson.loss})", highlight=False)
    console.print(f"  built as {run.constructed_as}; {run.style}", highlight=False, markup=False)
    layouts = ", ".join(f"{n} {s.shape} {s.layout if s.is_kernel else ''}".rstrip() for n, s in run.slots.items())
    console.print(f"  parameters: {layouts}", highlight=False, markup=False)
    table = Table(title=f"your network vs {' and '.join(report.frameworks)} (float64: "
                        f"atol {report.atol:g}, rtol {report.rtol:g})")
    for col in ("check", "parameter", "shape", *report.frameworks, "verdict"):
        table.add_column(col, justify="right" if col in report.frameworks else "left")
    for f in report.findings:
        cells = [_fmt(f.to_json()["frameworks"].get(fw)) for fw in report.frameworks]
        verdict = "[green]agrees[/]" if f.passed else "[bold red]DIVERGES[/]"
        table.add_row(f.check, f.parameter or ("output" if f.check == "forward" else "-"), str(f.shape),
                      *cells, verdict)
    console.print(table)
    for f in report.divergences:
        what = f"{f.check} {f.parameter}" if f.parameter else f.check
        console.print(f"[bold red]{what}[/]: " + (f.problem or _stats(f)), highlight=False)
        if f.cause:
            console.print(f"  usual cause: {f.cause}", highlight=False, markup=False)
    if run.printed:
        console.print(f"(your code printed {run.printed} line{'s' if run.printed > 1 else ''}; hidden)", style="dim")
    if run.warnings:
        console.print(f"(your code raised {len(run.warnings)} warning(s), first: {run.warnings[0]})",
                      style="dim", markup=False)
    verdict = ("[bold green]PASS[/]: your forward pass and every gradient agree with " + " and ".join(report.frameworks)
               if report.passed else
               f"[bold red]FAIL[/]: {len(report.divergences)} of {len(report.findings)} quantities diverge")
    console.print(verdict)


def _stats(f) -> str:
    fw, r = max(f.reports.items(), key=lambda kv: kv[1].max_abs_err)
    pct = 100.0 * r.n_mismatched / max(r.n_total, 1)
    return (f"{r.n_mismatched} / {r.n_total} elements ({pct:.1f}%) differ from {fw}; greatest absolute "
            f"difference {r.max_abs_err:.3g} at index {r.max_abs_index}, greatest relative {r.max_rel_err:.3g}")


def cmd_check(args) -> int:
    if args.lesson not in LESSONS:
        raise UsageError(f"--lesson: unknown {args.lesson!r}; expected one of {', '.join(LESSONS)}")
    output_file(args.json, "--json")
    frameworks = _frameworks(args.framework)
    console = Console()
    try:
        report = check_learner(args.target, args.lesson, frameworks)
    except LearnerError as exc:
        console.print(f"[bold red]nnparity check: cannot check {args.target}[/]", highlight=False)
        console.print(str(exc), markup=False, highlight=False)
        if args.json:
            write_json(args.json, {"passed": False, "target": args.target, "lesson": args.lesson,
                                    "error": str(exc), "divergences": []})
        return EXIT_UNUSABLE
    _print_report(console, report)
    if args.json:
        write_json(args.json, report.to_json())
    return EXIT_OK if report.passed else EXIT_DIVERGED
