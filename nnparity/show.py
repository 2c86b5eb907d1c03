"""``nnparity show``: a lesson as three short programs, NumPy, PyTorch and Keras, side by side in the terminal.

    nnparity show LESSON [--framework numpy|torch|keras] [--export DIR] [--width N]
    nnparity show LESSON --internals [--width N]
    nnparity show --component NAME [--width N]

A lesson shows its three programs (``nnparity/programs/``) step by step: one row per step
(setup, data, model, initial weights, loss, optimizer, training, accuracy), the three programs
in columns, each cell opening with the step's marker line, so the same step lines up across the
frameworks. Narrower than ``WIDE`` columns, each step is printed one program after the other.
``--framework`` prints one program whole; ``--export DIR`` writes the files.

``--internals`` shows instead the code that the conformance suite runs for the lesson, read from
its source (``sources.py``): five sections (model, forward, loss, gradients, update). A component
(``relu``, ``bce``, ``dense``, ``sgd``, ...) shows the reference's implementation beside the
framework calls and arguments that match it, then the conventions where the frameworks differ
(``frameworks/conventions.py``).
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from pathlib import Path

from conformance.lessons import get_lesson
from frameworks.conventions import conventions_for

from .common import UsageError
from .programs import MARKER, STEPS, TITLES, NotGenerated, programs
from .sources import (
    COLUMNS,
    SECTIONS,
    Cell,
    component_code,
    get_component,
    lesson_code,
    lesson_notes,
)

WIDE = 150  # terminal columns below which the three columns are stacked (about 45 per column)
THEME = "ansi_dark"  # the terminal's own colours


def render_cell(cell: Cell) -> Group:
    """A column's snippets, each under its ``file:line  name``."""
    if cell.note:
        return Group(Text(cell.note, style="yellow"))
    parts = []
    for snippet in cell.snippets:
        parts.append(Text(f"{snippet.where}  {snippet.title}", style="dim"))
        parts.append(Syntax(snippet.shown, "python", theme=THEME, word_wrap=True, background_color="default"))
    return Group(*parts)


def _columns_table(rows: list[tuple[str, dict[str, Cell]]]) -> Table:
    table = Table(expand=True, show_lines=True, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True, width=9)
    for title in COLUMNS.values():
        table.add_column(title, ratio=1)
    for label, cells in rows:
        table.add_row(label, *(render_cell(cells[col]) for col in COLUMNS))
    return table


def _stacked(console: Console, rows: list[tuple[str, dict[str, Cell]]]) -> None:
    for label, cells in rows:
        if label:
            console.print(Rule(label))
        for col, title in COLUMNS.items():
            console.print(Panel(render_cell(cells[col]), title=title, title_align="left"))


def _print_rows(console: Console, rows) -> None:
    if console.width >= WIDE:
        console.print(_columns_table(rows))
    else:
        _stacked(console, rows)


def _step_cell(program, step: str) -> Syntax:
    return Syntax(program.step(step), "python", theme=THEME, word_wrap=True, background_color="default")


def show_programs(console: Console, three: dict, framework: str | None = None) -> None:
    """The programs step by step: columns on a wide console, one after the other on a narrow one."""
    if framework:
        program = three[framework]
        console.print(Rule(f"{TITLES[framework]}  {program.filename}"))
        console.print(Syntax(program.text, "python", theme=THEME, word_wrap=True, background_color="default"))
        return
    if console.width >= WIDE:
        table = Table(expand=True, show_lines=True, pad_edge=False)
        for key, program in three.items():
            table.add_column(f"{TITLES[key]}  {program.filename}", ratio=1, overflow="fold")
        for step in STEPS:
            table.add_row(*(_step_cell(program, step) for program in three.values()))
        console.print(table)
        return
    for step in STEPS:
        console.print(Rule(step))
        for key, program in three.items():
            console.print(Text(f"{TITLES[key]}  {program.filename}", style="dim"))
            console.print(_step_cell(program, step))


def export_programs(three: dict, folder: str, framework: str | None) -> None:
    """Write the programs (or the one asked for) into ``folder``, made if its parent exists."""
    path = Path(folder)
    if not path.parent.is_dir():
        raise UsageError(f"--export: the folder {str(path.parent)!r} does not exist")
    if path.exists() and not path.is_dir():
        raise UsageError(f"--export: {folder!r} is a file, not a folder")
    path.mkdir(exist_ok=True)
    for key, program in three.items():
        if framework in (None, key):
            (path / program.filename).write_text(program.text)
            print(f"wrote {path / program.filename}")  # a path, never wrapped


def show_lesson(console: Console, lesson) -> None:
    for note in lesson_notes(lesson):
        console.print(note, highlight=False)
    code = lesson_code(lesson)
    _print_rows(console, [(section, code[section]) for section in SECTIONS])


def conventions_table(rows) -> Table:
    table = Table(title="Conventions", expand=True, show_lines=True)
    for col in ("topic", "PyTorch", "Keras 3", "nnparity"):
        table.add_column(col, ratio=1)
    for row in rows:
        table.add_row(row.topic, row.torch, row.keras, row.nnparity)
    return table


def show_component(console: Console, name: str) -> None:
    component, cells = component_code(name)
    console.print(f"{component.name}: {component.kind}", style="bold")
    _print_rows(console, [(component.name, cells)])
    rows = conventions_for(component.name, component.kind)
    if rows:
        console.print(conventions_table(rows))
    else:
        console.print(f"No convention differs between PyTorch and Keras for {component.name}.")


def _programs_of(lesson) -> dict:
    try:
        return programs(lesson)
    except NotGenerated as exc:
        raise UsageError(f"{exc}. `nnparity show {lesson.name} --internals` shows the code nnparity "
                         "runs for it") from None


def cmd_show(args) -> int:
    if (args.lesson is None) == (args.component is None):
        raise UsageError("give a LESSON or --component NAME (one of them)")
    program_options = [o for o in ("framework", "export") if getattr(args, o)]
    if program_options and (args.internals or args.component):
        raise UsageError(f"--{program_options[0]} is for a lesson's programs, not with --internals or --component")
    if args.width is not None and args.width < 40:
        raise UsageError(f"--width must be at least 40 columns. Received: --width {args.width}")
    try:  # an unknown name: the message lists the known ones
        lesson = get_lesson(args.lesson) if args.lesson else None
        if args.component:
            get_component(args.component)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    console = Console(width=args.width) if args.width else Console()
    if lesson and args.internals:
        show_lesson(console, lesson)
    elif lesson and args.export:
        export_programs(_programs_of(lesson), args.export, args.framework)
    elif lesson:
        show_programs(console, _programs_of(lesson), args.framework)
    else:
        show_component(console, args.component)
    return 0


def add_arguments(p) -> None:
    """``nnparity show``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("lesson", nargs="?", metavar="LESSON", help="a lesson (nnparity lessons lists them)")
    p.add_argument("--component", metavar="NAME",
                   help="one component instead (an activation, loss or optimizer name, or dense)")
    p.add_argument("--framework", choices=list(TITLES), help="one program, whole")
    p.add_argument("--export", metavar="DIR", help="write the programs into DIR (made if its parent exists)")
    p.add_argument("--internals", action="store_true",
                   help="the code nnparity runs for the lesson instead (reference, twins), read from its source")
    p.add_argument("--width", type=int, metavar="N",
                   help=f"print N columns wide (default: the terminal's; below {WIDE} the columns are stacked)")
    p.set_defaults(func=cmd_show)
