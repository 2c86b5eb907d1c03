"""``nnparity check PATH.py:ClassName --lesson NAME``: is a learner's own NumPy network right?

    nnparity check my_net.py:NeuralNetwork --lesson circles [--framework torch]... [--json FILE]

Runs the learner's class from the lesson's canonical weights (``load.py``),
compares its output and every gradient with PyTorch and Keras (``diagnose.py``),
and names the learner's own attribute where they diverge, with the usual cause.
Exit status: 0 when everything agrees, 1 when something diverges, 2 when the class
cannot be checked (missing file or class, wrong shapes, an exception in its code).
"""

from __future__ import annotations

from rich.table import Table

from conformance.lessons import LESSONS
from frameworks import FRAMEWORKS, available_frameworks, unavailable_reason
from nnparity.common import UsageError, output_file, write_json
from nnparity.common import console as make_console

from .diagnose import REFERENCE, check_learner
from .load import LearnerError
from .script import TIME_LIMIT, source_line
from .optimizer_read import STATES
from .script_check import check_script

EXIT_OK, EXIT_DIVERGED, EXIT_UNUSABLE = 0, 1, 2


def add_arguments(p) -> None:
    """``nnparity check``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("target", metavar="PATH.py[:ClassName]",
                   help="the file and the class in it, or a script (no class): run until its first update")
    p.add_argument("--lesson", required=True, metavar="NAME", help="the lesson the code implements (nnparity lessons)")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="reference (the default: the NumPy reference, proven equal to PyTorch and Keras by the "
                        "conformance suite), torch, keras or all (repeatable)")
    p.add_argument("--lr", type=float, metavar="RATE",
                   help="a script's learning rate (default: its lr / learning_rate variable, else the lesson's)")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                   help=f"how long a script may take to reach its first update (default {TIME_LIMIT:g})")
    p.add_argument("--optimizer", choices=sorted(STATES),
                   help="your own optimizer on top of the lesson (a script's or a class's): its gradients are read "
                        "from the optimizer's state, and its step is checked against torch's and Keras's formulas")
    p.add_argument("--json", metavar="FILE", help="also write the verdict as JSON to FILE")
    p.set_defaults(func=cmd_check)


def _frameworks(asked) -> list[str]:
    """What to compare with: the NumPy reference unless asked; ``all`` is every installed framework."""
    if not asked:
        return [REFERENCE]
    wanted = [w for fw in asked for w in (available_frameworks() if fw == "all" else [fw])]
    unknown = [fw for fw in wanted if fw not in FRAMEWORKS and fw != REFERENCE]
    if unknown:
        raise UsageError(f"--framework: unknown {', '.join(map(repr, unknown))}; expected {REFERENCE}, all, or one of "
                         f"{', '.join(FRAMEWORKS)}")
    missing = [unavailable_reason(fw) for fw in wanted if fw != REFERENCE and unavailable_reason(fw)]
    if missing:
        raise UsageError("; ".join(missing))
    if not wanted:
        raise UsageError("--framework all: no framework to compare against is installed: pip install 'nnparity[all]'")
    return list(dict.fromkeys(wanted))


def is_class_target(target: str) -> bool:
    """'file.py:ClassName' names a class; anything else is a script."""
    path, sep, name = target.rpartition(":")
    return bool(sep and path and name.isidentifier())


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
    if hasattr(run, "steps"):
        _print_script(console, run)
    if report.frameworks == [REFERENCE]:
        console.print("(compared with nnparity's NumPy reference, which the conformance suite (nnparity run) proves "
                      "equal to PyTorch and Keras on every lesson; --framework torch, keras or all compares with "
                      "them directly)", style="dim", highlight=False)
    verdict = ("[bold green]PASS[/]: your forward pass and every gradient agree with " + " and ".join(report.frameworks)
               if report.passed else
               f"[bold red]FAIL[/]: {len(report.divergences)} of {len(report.findings)} quantities diverge")
    console.print(verdict)


def _print_script(console, run) -> None:
    """A script's intermediates, layer by layer, the first wrong one, and the lines behind each wrong gradient."""
    if any(s.status != "not kept" for s in run.steps):
        table = Table(title="what your loop computed, layer by layer (the reference's z, a and dL/dz)")
        for col in ("quantity", "your variable", "line", "agrees", "max diff", ""):
            table.add_column(col)
        for s in run.steps:
            mark = {"exact": "[green]exact[/]", "approximate": "[green]approximate[/]",
                    "differs": "[bold red]NO[/]"}.get(s.status, "[dim]not kept[/]")
            table.add_row(s.quantity, (s.label or "-").replace("@", " in "), str(s.line or "-"), mark,
                          _fmt(s.max_diff), s.note)
        console.print(table)
    wrong = next((s for s in run.steps if s.status == "differs"), None)
    if wrong is not None:
        where = f" ({source_line(run.path, wrong.line)})" if wrong.line else ""
        console.print(f"[bold red]first wrong intermediate[/]: {wrong.quantity}, your `{wrong.label.replace('@', ' in ')}`"
                      f"{where}, greatest difference {wrong.max_diff:.3g}", highlight=False)
    for text in dict.fromkeys(r.text for r in getattr(run, "readings", {}).values() if r.matched):
        console.print(f"  optimizer: {text}", highlight=False, markup=False)
    for slot, (label, line) in getattr(run, "origins", {}).items():
        applied = source_line(run.path, run.update_lines.get(slot))
        console.print(f"  {run.labels[slot]}'s gradient was made by {source_line(run.path, line)}"
                      + (f", applied by {applied}" if applied else ""), highlight=False, markup=False)


def _stats(f) -> str:
    fw, r = max(f.reports.items(), key=lambda kv: kv[1].max_abs_err)
    pct = 100.0 * r.n_mismatched / max(r.n_total, 1)
    return (f"{r.n_mismatched} / {r.n_total} elements ({pct:.1f}%) differ from {fw}; greatest absolute "
            f"difference {r.max_abs_err:.3g} at index {r.max_abs_index}, greatest relative {r.max_rel_err:.3g}")


def cmd_check(args) -> int:
    if args.lesson not in LESSONS:
        raise UsageError(f"--lesson: unknown {args.lesson!r}; expected one of {', '.join(LESSONS)}")
    output_file(args.json, "--json")
    for option, value in (("--lr", args.lr), ("--time-limit", args.time_limit)):
        if value is not None and not value > 0:
            raise UsageError(f"{option}: expected a positive number. Received: {value}")
    frameworks = _frameworks(args.framework)
    console = make_console()
    try:
        if is_class_target(args.target):
            report = check_learner(args.target, args.lesson, frameworks, args.optimizer)
        else:
            report = check_script(args.target, args.lesson, frameworks, args.lr, args.time_limit, args.optimizer)
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
