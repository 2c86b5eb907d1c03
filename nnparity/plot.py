"""``nnparity plot LESSON``: the lesson trained in the reference, PyTorch and Keras, drawn together.

Top: the three loss curves, overlaid (they should lie on one another). Bottom:
each side's decision boundary, side by side, computed by that side's own
trained network, with the training points on top; as the seeds draw them for
one framework. ``plot_lesson`` returns a matplotlib ``Figure`` (made without
pyplot, so no global state and no display is needed); ``nnparity plot`` saves
it as a PNG::

    nnparity plot LESSON [-o FILE.png] [--dtype float64|float32] [--framework NAME]...
"""

from __future__ import annotations

import numpy as np

from .common import EXIT_OK, UsageError, output_file
from .common import choices as _choices

# Each side's line: drawn so that three identical curves stay visible on top of one another.
STYLES = {
    "reference": {"color": "0.55", "linewidth": 5.0, "linestyle": "-", "label": "NumPy reference"},
    "torch": {"color": "tab:orange", "linewidth": 2.0, "linestyle": "--", "label": "PyTorch"},
    "keras": {"color": "tab:blue", "linewidth": 1.5, "linestyle": ":", "label": "Keras"},
}
GRID_POINTS = 200  # per axis of the decision-boundary grid


def training_runs(lesson, dtype: str = "float64", frameworks=None) -> dict:
    """{side: TrainingRun} for the reference and every framework asked for (default: every one installed)."""
    from conformance.training import framework_run, reference_run
    from frameworks import available_frameworks

    runs = {"reference": reference_run(lesson, dtype, "torch")}  # torch's conventions where the two differ
    for fw in frameworks or available_frameworks():
        runs[fw] = framework_run(lesson, fw, dtype)
    return runs


def _grid(X: np.ndarray):
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo) + 0.25
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID_POINTS)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID_POINTS)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def side_output(lesson, side: str, run, X: np.ndarray, dtype: str) -> np.ndarray:
    """The output of ``side``'s trained network on X, computed by that side, in inference mode."""
    if side == "reference":
        from conformance.models import reference_model

        return reference_model(lesson, run.params, convention="torch").predict(X)  # training_runs' convention
    from frameworks import get_twin

    twin = get_twin(side, lesson, dtype)
    twin.set_params(run.params)
    return twin.forward(X, training=False)[f"a{lesson.n_layers}"]


def _draw_boundary(ax, lesson, side, run, X, y, dtype):
    xx, yy, grid = _grid(X)
    out = np.asarray(side_output(lesson, side, run, grid, dtype), dtype=np.float64)
    if out.shape[1] == 1:
        proba = out[:, 0].reshape(xx.shape)
        ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1.0)
        colors = y[:, 0]
    else:
        labels = out.argmax(axis=1).reshape(xx.shape)
        k = out.shape[1]
        ax.contourf(xx, yy, labels, levels=np.arange(k + 1) - 0.5, cmap="viridis", alpha=0.45)
        colors = y.argmax(axis=1)
    ax.scatter(X[:, 0], X[:, 1], c=colors, cmap="RdBu_r" if out.shape[1] == 1 else "viridis",
               edgecolors="k", linewidths=0.4, s=14 if len(X) > 50 else 70)


def plot_lesson(name: str, dtype: str = "float64", frameworks=None, runs=None):
    """A ``Figure``: the loss curves of every side overlaid, and their decision boundaries side by side.

    ``runs`` ({side: TrainingRun}) can be passed to draw runs already made; by default
    the lesson is trained here in the reference and every framework installed.
    """
    from matplotlib.figure import Figure

    from conformance.lessons import get_lesson, lesson_data

    lesson = get_lesson(name)
    runs = runs or training_runs(lesson, dtype, frameworks)
    X, y = lesson_data(lesson)
    sides = list(runs)

    fig = Figure(figsize=(4.2 * len(sides), 8.2), layout="constrained")
    grid = fig.add_gridspec(2, len(sides))
    ax_loss = fig.add_subplot(grid[0, :])
    for side, run in runs.items():
        style = STYLES.get(side, {"label": side})
        ax_loss.plot(np.arange(1, len(run.losses) + 1), run.losses, **style)
    if lesson.epochs == 0:
        ax_loss.text(0.5, 0.5, "this lesson does not train (epochs=0)", ha="center", va="center",
                     transform=ax_loss.transAxes)
    else:
        ax_loss.legend()
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"{lesson.loss} loss")
    ax_loss.set_title("loss curves, overlaid")

    for i, (side, run) in enumerate(runs.items()):
        ax = fig.add_subplot(grid[1, i])
        label = STYLES.get(side, {}).get("label", side)
        if X.shape[1] == 2:
            _draw_boundary(ax, lesson, side, run, X, y, dtype)
            ax.set_title(f"{label}: decision boundary")
            ax.set_xlabel("x1")
            ax.set_ylabel("x2")
        else:
            ax.text(0.5, 0.5, f"{X.shape[1]} input features:\nno 2-D decision boundary", ha="center",
                    va="center", transform=ax.transAxes)
            ax.set_title(label)
            ax.set_axis_off()
    layers = "-".join(map(str, lesson.sizes))
    hyper = ", ".join(f"{k}={v:g}" for k, v in lesson.hyperparameters.items())
    fig.suptitle(f"{lesson.name} ({layers}, {lesson.optimizer}({hyper}), {lesson.epochs} epochs, {dtype}): "
                 "the same initial weights, trained on every side")
    return fig


def save_plot(name: str, path: str, dtype: str = "float64", frameworks=None) -> str:
    """Draw ``plot_lesson(name)`` into the PNG file ``path``; return the path."""
    # Figure.savefig picks the Agg canvas for .png by itself: no pyplot, no display, no global backend.
    plot_lesson(name, dtype, frameworks).savefig(path, dpi=110)
    return path


def cmd_plot(args) -> int:
    from conformance.lessons import LESSONS

    if args.lesson not in LESSONS:
        raise UsageError(f"unknown lesson {args.lesson!r}; expected one of {', '.join(LESSONS)}")
    if args.dtype not in ("float64", "float32"):
        raise UsageError(f"--dtype: unknown {args.dtype!r}; expected float64 or float32")
    path = args.output or f"{args.lesson}.png"
    output_file(path, "-o")  # now, not after training the lesson on every side
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("plot needs matplotlib: pip install 'nnparity[plot]'")
    from conformance.training import missing_optimizer
    from frameworks import FRAMEWORKS, unavailable_reason

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


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="train a lesson on every side; draw the loss curves and decision boundaries")
    p.add_argument("lesson", metavar="LESSON", help="a lesson name (nnparity lessons)")
    p.add_argument("-o", "--output", metavar="FILE.png", help="where to write the PNG (default: LESSON.png)")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    p.add_argument("--framework", action="append", metavar="NAME",
                   help="torch or keras (repeatable; default: every one installed)")
    p.set_defaults(func=cmd_plot)
