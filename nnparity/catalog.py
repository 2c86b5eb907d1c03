"""``nnparity lessons`` and ``nnparity optimizers``: the lesson catalog and the named optimizer settings.

    nnparity lessons [--json]
    nnparity optimizers [--json]

The catalog itself is ``conformance/lessons.py`` (every lesson, as data) and
``conformance/optimizer_specs.py`` (the settings ``nnparity run --optimizer`` takes);
this module only prints them: a table, or with ``--json`` every field.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conformance.datasets import is_data_file
from conformance.lessons import LESSONS
from conformance.optimizer_specs import OPTIMIZER_SPECS

from .common import EXIT_OK
from .common import console as _console


def _repeats_counted(items, sep: str, times: str = "x") -> str:
    """Repeats written once with a count: (2, 16, 16, 16, 1) -> "2-16x3-1" (the deep lessons fit a row)."""
    out: list[list] = []
    for item in items:
        if out and out[-1][0] == item:
            out[-1][1] += 1
        else:
            out.append([item, 1])
    return sep.join(f"{item}{times}{n}" if n > 2 else sep.join([str(item)] * n) for item, n in out)


def add_lessons_arguments(p) -> None:
    """``nnparity lessons``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(func=cmd_lessons)


def add_optimizers_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(func=cmd_optimizers)


def cmd_lessons(args) -> int:
    if args.json:
        print(json.dumps([lesson.describe() for lesson in LESSONS.values()], indent=2))
        return EXIT_OK
    table = Table(title="nnparity lessons (every hyper-parameter: nnparity lessons --json)")
    for col in ("name", "layers", "activations"):  # a network's shape reads on one line
        table.add_column(col, no_wrap=True)
    for col in ("loss", "init", "optimizer", "dataset"):
        table.add_column(col, overflow="fold")  # a long name folds rather than being cut
    for lesson in LESSONS.values():
        d = lesson.describe()
        opt = f"{lesson.optimizer} {lesson.hyperparameters['learning_rate']:g}"  # the name and learning rate
        opt += " decaying" if lesson.lr_schedule else ""
        loss = d["loss"] + (" weighted" if lesson.class_weights else "")
        extras = "".join([
            "" if lesson.use_bias else " (no bias)",
            f" +dropout {lesson.dropout:g}" if lesson.dropout else "",
            " +batchnorm" if lesson.batchnorm else "",
            f" +layernorm {lesson.layernorm_epsilon:g}" if lesson.layernorm else "",
            f" +L2 {lesson.kernel_l2:g}" if lesson.kernel_l2 else "",
        ])
        table.add_row(d["name"], _repeats_counted(d["sizes"], "-") + extras,
                      _repeats_counted(d["activations"], ", ", " x"), loss, d["init"], opt,
                      Path(d["dataset"]).name if is_data_file(d["dataset"]) else d["dataset"])  # a user's own file
    _console().print(table)
    return EXIT_OK


def cmd_optimizers(args) -> int:
    if args.json:
        print(json.dumps([spec.describe() for spec in OPTIMIZER_SPECS.values()], indent=2))
        return EXIT_OK
    table = Table(title="nnparity optimizers (nnparity run --optimizer NAME)")
    for col in ("name", "optimizer", "hyper-parameters", "note"):
        table.add_column(col)
    for spec in OPTIMIZER_SPECS.values():
        hyper = ", ".join(f"{k}={v:g}" if not isinstance(v, bool) else f"{k}={v}"
                          for k, v in spec.hyperparameters.items())
        table.add_row(spec.name, spec.optimizer, hyper, spec.note)
    Console().print(table)
    return EXIT_OK
