"""``nnparity plot LESSON``: the lesson trained in the reference, PyTorch and Keras, drawn together.

Top: the three loss curves, overlaid (they should lie on one another). Bottom:
each side's decision boundary, side by side, computed by that side's own
trained network, with the training points on top; as the seeds draw them for
one framework. The figure is ``figures.plot_lesson`` (a matplotlib ``Figure``,
made without pyplot); this command checks its options and saves it as a PNG::

    nnparity plot LESSON [-o FILE.png] [--dtype float64|float32] [--framework NAME]...
"""

from __future__ import annotations

import importlib.util

from conformance.checks.training import missing_optimizer
from conformance.lessons import LESSONS
from frameworks import FRAMEWORKS, unavailable_reason

from .common import EXIT_OK, UsageError, output_file
from .common import choices as _choices
from .figures import save_plot


def cmd_plot(args) -> int:
    if args.lesson not in LESSONS:
        raise UsageError(f"unknown lesson {args.lesson!r}; expected one of {', '.join(LESSONS)}")
    if args.dtype not in ("float64", "float32"):
        raise UsageError(f"--dtype: unknown {args.dtype!r}; expected float64 or float32")
    path = args.output or f"{args.lesson}.png"
    output_file(path, "-o")  # now, not after training the lesson on every side
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("plot needs matplotlib: pip install 'nnparity[plot]'")
    reason = missing_optimizer(LESSONS[args.lesson])
    if reason:
        raise UsageError(f"{args.lesson} cannot be trained here: it {reason}")
    frameworks = _choices(args.framework, list(FRAMEWORKS), "--framework")
    for fw in list(frameworks):
        if unavailable_reason(fw):
            if args.framework:  # asked for by name: not having it is an error
                raise UsageError(unavailable_reason(fw))
            frameworks.remove(fw)
    try:
        print(f"wrote {save_plot(args.lesson, path, args.dtype, frameworks)}")
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write it: {exc.strerror}") from None
    return EXIT_OK


def add_arguments(p) -> None:
    """``nnparity plot``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("lesson", metavar="LESSON", help="a lesson name (nnparity lessons)")
    p.add_argument("-o", "--output", metavar="FILE.png", help="where to write the PNG (default: LESSON.png)")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch or keras (repeatable; default: every one installed)")
    p.set_defaults(func=cmd_plot)
