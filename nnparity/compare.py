"""``nnparity compare pair.py``: a torch model and a Keras model, declared in a Python file, compared.

    nnparity compare pair.py [--steps N] [--dtype float64|float32] [--batch-size N] [--json FILE] [--html FILE]

``pair.py`` is run as a script and must define these names (docs/porting.md has a whole file)::

    torch_model       an nn.Sequential
    keras_model       a keras Sequential, or a functional model that is a chain
    X, y              the data, NumPy arrays (y: targets, one-hot rows for a categorical loss)
    torch_loss        e.g. nn.BCELoss()
    keras_loss        e.g. keras.losses.BinaryCrossentropy()
    torch_optimizer   a callable taking the parameters: lambda p: torch.optim.SGD(p, lr=0.1)
    keras_optimizer   e.g. keras.optimizers.SGD(learning_rate=0.1)
    steps, dtype      optional (default 100 and "float64"); --steps and --dtype win over them
    batch_size        optional (default None: full batch; N: the next N samples a step, in order); --batch-size wins

Printed: a row per stage (config, forward, loss, backward, gradients, step, trajectory), then the
report of ``nnparity.compare_models`` (the first divergence, why, the fixes tried). ``--json`` writes
``PairResult.to_json()`` with the file and the versions; ``--html`` a self-contained page of the same.
Exit status: 0 if the models agree (or differ only by a convention no setting changes), 1 if they
disagree, 2 for a file that cannot be run, lacks a name, or holds models that cannot be paired.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import os
import runpy
import traceback

from rich import box
from rich.table import Table

from frameworks import missing_reason, versions
from .common import EXIT_FAILED, EXIT_OK, UsageError, console, output_file, write_json, write_output
from .pairs import PairError, compare_models

REQUIRED = ("torch_model", "keras_model", "X", "y", "torch_loss", "keras_loss", "torch_optimizer", "keras_optimizer")


def add_arguments(p) -> None:
    """``nnparity compare``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("pair", metavar="PAIR.py", help=f"a Python file defining {', '.join(REQUIRED)} (and optionally "
                   "steps, dtype)")
    p.add_argument("--steps", type=int, metavar="N", help="training steps to compare (default: the file's, else 100)")
    p.add_argument("--dtype", choices=("float64", "float32"), help="default: the file's, else float64")
    p.add_argument("--batch-size", type=int, metavar="N", help="samples a step, in order, the same in both models "
                   "(default: the file's, else the whole data)")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    p.add_argument("--html", metavar="FILE", help="also write the result as a self-contained HTML page")
    p.set_defaults(func=cmd_compare)


def run_user_file(path: str, required) -> dict:
    """The names ``path`` defines, after running it; a missing file, an exception or a missing name is refused."""
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    for framework in ("torch", "keras"):
        if reason := missing_reason(framework):
            raise UsageError(reason)
    import torch  # noqa: F401  (torch before Keras: frameworks/keras_config.py says why)

    import frameworks.keras_twin  # noqa: F401  (Keras's backend and TensorFlow's flags before the file loads Keras)

    try:
        names = runpy.run_path(path, run_name="__nnparity_pair__")
    except Exception as exc:  # the user's file: any error it raises is reported, not ours
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise UsageError(f"{path}: running it raised {type(exc).__name__}: {exc} (line {where.lineno} of "
                         f"{where.filename})") from None
    missing = [name for name in required if name not in names]
    if missing:
        raise UsageError(f"{path}: it must define {', '.join(required)}; missing: {', '.join(missing)}")
    return names


def load_pair(path: str) -> dict:
    """The pair file's names (``REQUIRED``, and ``steps``, ``dtype`` if it sets them)."""
    return run_user_file(path, REQUIRED)


def _table(result) -> Table:
    table = Table(title="nnparity compare: torch against Keras", box=box.SIMPLE_HEAD)
    for col in ("stage", "verdict", "max |torch - keras|", "allowed", "items", "worst"):
        table.add_column(col, no_wrap=True)
    for stage, c in result.comparisons.items():
        table.add_row(stage, "[green]ok[/]" if c.passed else "[bold red]FAIL[/]", f"{c.max_abs_err:.2e}",
                      f"{c.atol:g} + {c.rtol:g} |keras|", str(len(c.items)), str(c.worst))
    return table


def render_html(result, path: str) -> str:
    """The result as one self-contained HTML page (``templates/compare.html.j2``, autoescaped)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("nnparity", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("compare.html.j2").render(
        pair=path, result=result, data=result.to_json(),
        divergence=result.divergence.message() if result.divergence is not None else "",
        explanations=[e.text() for e in result.explanations + result.accounted], versions=versions(),
        generated=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))


def cmd_compare(args) -> int:
    output_file(args.json, "--json")
    output_file(args.html, "--html")
    if args.html and importlib.util.find_spec("jinja2") is None:
        raise UsageError("--html needs jinja2: pip install 'nnparity[report]'")
    names = load_pair(args.pair)
    steps = args.steps if args.steps is not None else names.get("steps", 100)
    dtype = args.dtype or names.get("dtype", "float64")
    batch_size = args.batch_size if args.batch_size is not None else names.get("batch_size")
    try:
        result = compare_models(*(names[n] for n in REQUIRED[:4]), steps=steps, dtype=dtype, batch_size=batch_size,
                                **{n: names[n] for n in REQUIRED[4:]})
    except (PairError, ValueError) as exc:
        raise UsageError(f"{args.pair}: {exc}") from None
    out = console()
    out.print(_table(result))
    out.print(result.report(stages=False), markup=False, highlight=False, soft_wrap=True)
    if args.json:
        write_json(args.json, {"pair": args.pair, "versions": versions(), **result.to_json()})
    if args.html:
        write_output(args.html, "--html", render_html(result, args.pair))
    return EXIT_OK if result.passed else EXIT_FAILED
