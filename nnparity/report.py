"""``nnparity report -o report.html``: the whole matrix as one self-contained HTML page.

    nnparity report [-o FILE] [--lesson NAME]... [--framework NAME]... [--dtype DTYPE]... [--no-plots]

The page holds a scoreboard (lessons x frameworks x dtypes x checks, coloured,
with the greatest absolute difference), where every failing case diverges
(``conformance/divergence.py``), the table of framework conventions, a section
per lesson with its three programs as tabs (``programs/``: NumPy, PyTorch, Keras; highlighted
by Pygments), the code nnparity runs for it side by side (``sources.py``, folded under
"internals") and its plots (``figures.py``), and the versions it ran with. Plots are embedded as base64 PNG and the styles inline: the file opens
with no network and no side files. The page is rendered by a Jinja2 template
(``templates/report.html.j2``) with autoescaping on.

Exit status as ``nnparity run``: 0 if every check passed, 1 if any failed.
"""

from __future__ import annotations

import base64
import datetime as _dt
import importlib.util
import shlex
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from conformance.cases import DTYPES, Case
from conformance.checks import CHECKS
from conformance.checks.training import missing_optimizer
from conformance.divergence import first_divergences
from conformance.lessons import LESSONS, get_lesson
from conformance.matrix import cores, run_matrix
from conformance.tolerances import TOLERANCES
from frameworks import FRAMEWORKS, unavailable_reason, versions
from frameworks.conventions import TORCH_VS_KERAS

from .common import EXIT_FAILED, EXIT_OK, UsageError, choices, output_file, write_output
from .figures import agreement_figure, png, training_figure
from .programs import TITLES, not_generated, programs
from .sources import COLUMNS, SECTIONS, lesson_code, lesson_notes


@dataclass
class Matrix:
    """What was run: the results in order, the frameworks skipped (and why), the first divergences."""

    results: list
    skipped: dict
    divergences: dict

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.passed and not r.skipped]

    @property
    def not_run(self) -> list:
        """Checks that do not apply to their lesson (``CheckResult.skipped`` says why)."""
        return [r for r in self.results if r.skipped]


def matrix_of(lessons, frameworks, dtypes, checks, on_result=None, jobs: int | None = None) -> Matrix:
    """Every check of every case that can run here (the runner of ``nnparity run``, ``jobs`` processes
    at once, default the CPUs): frameworks on another Keras backend than this process's are skipped."""
    skipped = {fw: unavailable_reason(fw) for fw in frameworks if unavailable_reason(fw)}
    cases = [Case(lesson, fw, dtype) for lesson in lessons for fw in frameworks if fw not in skipped
             for dtype in dtypes]
    results = run_matrix(cases, checks, jobs or cores(), on_result=on_result)
    failed = [r for r in results if not r.passed and not r.skipped]
    return Matrix(results, skipped, first_divergences(failed))


def _scoreboard(matrix: Matrix, checks) -> list[dict]:
    rows: dict = {}
    for r in matrix.results:
        row = rows.setdefault(r.case, {"id": r.case.id, "lesson": r.case.lesson, "framework": r.case.framework,
                                       "dtype": r.case.dtype, "cells": {}})
        c = r.comparison
        if r.skipped:
            row["cells"][r.check] = {"check": r.check, "passed": None, "skipped": True, "error": "",
                                     "title": f"{r.check} of {r.case.id}: skipped, {r.skipped}"}
            continue
        row["cells"][r.check] = {
            "check": r.check,
            "passed": r.passed,
            "skipped": False,
            "error": f"{c.max_abs_err:.1e}",
            "title": f"{r.check} of {r.case.id}: greatest absolute difference {c.max_abs_err:.3g}, relative "
            f"{c.max_rel_err:.3g} (allowed |a - e| <= {c.atol:g} + {c.rtol:g} |e|); worst item: {c.worst}",
        }
        if r.known:  # counted as failed here; the known difference and its probe's verdict are named
            verdict = r.info.get(r.known, {}).get("message", "")
            row["cells"][r.check]["title"] += f"; known difference {r.known}" + (f": {verdict}" if verdict else "")
    return [dict(row, cells=[row["cells"][check] for check in checks if check in row["cells"]])
            for row in rows.values()]


def _highlighter():
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(cssclass="hl")
    lexer = PythonLexer()
    return (lambda code: highlight(code, lexer, formatter)), formatter.get_style_defs(".hl")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def program_tabs(lesson, highlight) -> list[dict]:
    """The lesson's programs as the report's tabs (none where the generator refuses the lesson)."""
    from markupsafe import Markup

    if not_generated(lesson):
        return []
    return [{"key": key, "title": TITLES[key], "filename": p.filename, "id": f"program-{lesson.name}-{key}",
             "html": Markup(highlight(p.text))} for key, p in programs(lesson).items()]


def _lesson_page(lesson, results, highlight, plots: bool) -> dict:
    from markupsafe import Markup

    code = lesson_code(lesson)
    sections = []
    for section in SECTIONS:
        columns = []
        for key, title in COLUMNS.items():
            cell = code[section][key]
            columns.append({
                "key": key,
                "title": title,
                "note": cell.note,
                "snippets": [{"where": s.where, "title": s.title, "html": Markup(highlight(s.shown))}
                             for s in cell.snippets],
            })
        sections.append({"name": section, "columns": columns})
    images = []
    if plots:
        if not missing_optimizer(lesson):  # a lesson whose optimizer the reference lacks cannot train
            images.append({"alt": f"{lesson.name}: data, decision regions and loss curve of the reference",
                           "base64": _b64(png(training_figure(lesson)))})
        if results:
            images.append({"alt": f"{lesson.name}: greatest difference of each check from the reference",
                           "base64": _b64(png(agreement_figure(lesson.name, results, {row.label: tol for row, tol in TOLERANCES.items()})))})
    return {"name": lesson.name, "seed_text": lesson.seed_text, "choices": lesson.choices,
            "notes": lesson_notes(lesson), "sections": sections, "plots": images,
            "programs": program_tabs(lesson, highlight), "programs_note": not_generated(lesson)}


def render(matrix: Matrix, lessons, checks, *, plots: bool = True, command: str = "nnparity report") -> str:
    """The report's HTML for ``matrix`` (from ``matrix_of``) and the lessons named."""
    import jinja2

    highlight, code_css = _highlighter()
    env = jinja2.Environment(loader=jinja2.PackageLoader("nnparity", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    failed = matrix.failed
    return env.get_template("report.html.j2").render(
        generated=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        command=command,
        summary={"passed": len(matrix.results) - len(failed) - len(matrix.not_run), "failed": len(failed),
                 "skipped": len(matrix.not_run),
                 "cases": len({r.case for r in matrix.results})},
        checks=checks,
        skipped=matrix.skipped,
        scoreboard=_scoreboard(matrix, checks),
        tolerances={row.label: tol for row, tol in TOLERANCES.items()},
        divergences=[d.message() if d else f"{case.id}: the walk found no quantity that disagrees"
                     for case, d in matrix.divergences.items()],
        conventions=list(TORCH_VS_KERAS.values()),
        lessons=[_lesson_page(get_lesson(name), [r for r in matrix.results if r.case.lesson == name],
                              highlight, plots) for name in lessons],
        versions=versions(),
        code_css=code_css,
    )


def _command(args) -> str:
    """The command line that makes this report again."""
    parts = ["nnparity", "report", "-o", args.output]
    for option in ("lessons", "lesson", "framework", "dtype"):
        for value in getattr(args, option) or []:
            parts += [f"--{option}", value]
    return shlex.join(parts + (["--no-plots"] if args.no_plots else []))


def cmd_report(args) -> int:
    lessons = choices(args.lesson, list(LESSONS), "--lesson")
    frameworks = choices(args.framework, list(FRAMEWORKS), "--framework")
    dtypes = choices(args.dtype, list(DTYPES), "--dtype")
    checks = list(CHECKS)
    output_file(args.output, "-o")  # say so now, not after running the whole matrix
    if args.framework:  # asked for by name: not having it is an error
        missing = [unavailable_reason(fw) for fw in frameworks if unavailable_reason(fw)]
        if missing:
            raise UsageError("; ".join(missing))
    needed = ["jinja2", "pygments"] + ([] if args.no_plots else ["matplotlib"])
    missing = [pkg for pkg in needed if importlib.util.find_spec(pkg) is None]
    if missing:
        raise UsageError(f"the report needs {', '.join(missing)}: pip install 'nnparity[report]'")
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("conformance", total=len(lessons) * len(frameworks) * len(dtypes) * len(checks))
        matrix = matrix_of(lessons, frameworks, dtypes, checks, on_result=lambda r: progress.advance(task))
    page = render(matrix, lessons, checks, plots=not args.no_plots, command=_command(args))
    write_output(args.output, "-o", page)
    for fw, reason in matrix.skipped.items():
        console.print(f"[yellow]skipped {fw}[/]: {escape(reason)}")  # plain text: "nnparity[torch]" is no style tag
    failed, not_run = len(matrix.failed), len(matrix.not_run)
    console.print(f"wrote {args.output}: {len(matrix.results) - failed - not_run} passed, {failed} failed, "
                  f"{not_run} skipped")
    return EXIT_FAILED if failed else EXIT_OK


def add_arguments(p) -> None:
    """``nnparity report``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("-o", "--output", default="report.html", metavar="FILE", help="where to write (default: report.html)")
    p.add_argument("--lesson", action="append", metavar="NAME", help="a lesson (repeatable; default: all)")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch or keras (repeatable; default: every one installed)")
    p.add_argument("--dtype", action="append", metavar="DTYPE", help="float64 or float32 (repeatable; default: both)")
    p.add_argument("--no-plots", action="store_true", help="leave out the plots (no matplotlib needed)")
    p.set_defaults(func=cmd_report)
