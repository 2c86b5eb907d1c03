"""``nnparity show``: a lesson's NumPy, PyTorch and Keras code side by side in the terminal.

    nnparity show LESSON [--width N]
    nnparity show --component NAME [--width N]

The code is read from the source that the conformance suite runs (``sources.py``).
A lesson shows five sections (model, forward, loss, gradients, update) as rows of
a three-column table, so the same step lines up across the frameworks. A
component (``relu``, ``bce``, ``dense``, ``sgd``, ...) shows the reference's
implementation beside the framework calls and arguments that match it, then the
conventions where the frameworks differ (``frameworks/conventions.py``). Narrower than
``WIDE`` columns, each section is printed one column after the other.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from conformance.lessons import get_lesson
from frameworks.conventions import conventions_for

from .common import UsageError
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


def cmd_show(args) -> int:
    if (args.lesson is None) == (args.component is None):
        raise UsageError("give a LESSON or --component NAME (one of them)")
    if args.width is not None and args.width < 40:
        raise UsageError(f"--width must be at least 40 columns. Received: --width {args.width}")
    try:  # an unknown name: the message lists the known ones
        lesson = get_lesson(args.lesson) if args.lesson else None
        if args.component:
            get_component(args.component)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    console = Console(width=args.width) if args.width else Console()
    if lesson:
        show_lesson(console, lesson)
    else:
        show_component(console, args.component)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="a lesson's NumPy, PyTorch and Keras code side by side")
    p.add_argument("lesson", nargs="?", metavar="LESSON", help="a lesson (nnparity lessons lists them)")
    p.add_argument("--component", metavar="NAME",
                   help="one component instead (an activation, loss or optimizer name, or dense)")
    p.add_argument("--width", type=int, metavar="N",
                   help=f"print N columns wide (default: the terminal's; below {WIDE} the columns are stacked)")
    p.set_defaults(func=cmd_show)
