"""Every matplotlib figure nnparity draws (no display needed).

- ``plot_lesson``: the lesson trained in the reference, PyTorch and Keras, drawn
  together: the three loss curves overlaid (they should lie on one another), and
  each side's decision boundary side by side, computed by that side's own trained
  network, with the training points on top. ``nnparity plot`` saves it as a PNG
  (``save_plot``).
- ``training_figure``: the lesson's data with the decision regions of the NumPy
  reference after training it as the lesson does (full batch, the lesson's
  optimizer and epochs), beside its loss curve.
- ``agreement_figure``: the greatest absolute difference of every check, per
  framework and dtype, on a log scale, with the tolerance each must stay under.

Figures are made with ``matplotlib.figure.Figure`` (not pyplot), so nothing is
kept between calls and no global backend is chosen. ``png(fig)`` turns one into bytes;
``nnparity report`` embeds ``training_figure`` and ``agreement_figure`` as base64, so the
report needs no network and no side files.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np

from conformance.cases import reference_model
from conformance.checks.training import framework_run, reference_run
from conformance.lessons import get_lesson, lesson_data
from frameworks import available_frameworks, get_twin

DPI = 100


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def train_reference(lesson, epochs: int | None = None):
    """The reference trained as the ``training`` check trains it (``conformance.checks.training.reference_run``:
    the lesson's own initial weights, optimizer, epochs, batches and dropout masks, torch's conventions);
    (the trained model, its loss curve)."""
    if epochs is not None:
        lesson = replace(lesson, epochs=epochs)
    run = reference_run(lesson, "float64", "torch")
    return reference_model(lesson, run.params, convention="torch"), run.losses


def _classes(y: np.ndarray) -> np.ndarray:
    return y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5).astype(int)


def training_figure(lesson, epochs: int | None = None):
    """Data and decision regions (2-input lessons; else the first two features) beside the loss curve."""
    from matplotlib.figure import Figure

    X, y = lesson_data(lesson)
    model, losses = train_reference(lesson, epochs)
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_data, ax_loss = fig.subplots(1, 2)
    n_classes = max(2, y.shape[1])
    colours = dict(cmap="coolwarm", vmin=0, vmax=n_classes - 1)
    if X.shape[1] == 2:
        pad = 0.5
        xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 200)
        ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 200)
        gx, gy = np.meshgrid(xs, ys)
        regions = _classes(model.predict(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
        ax_data.contourf(gx, gy, regions, levels=np.arange(n_classes + 1) - 0.5, alpha=0.25, **colours)
        ax_data.set_title(f"decision regions after {len(losses)} epochs (reference)")
    else:
        ax_data.set_title(f"first two of {X.shape[1]} features")
    ax_data.scatter(X[:, 0], X[:, 1], c=_classes(y), s=12, edgecolors="k", linewidths=0.3, **colours)
    ax_data.set_xlabel("x1")
    ax_data.set_ylabel("x2")
    ax_loss.plot(np.arange(1, len(losses) + 1), losses, color="tab:blue")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"loss ({lesson.loss})")
    ax_loss.set_title(f"{lesson.optimizer}(" + ", ".join(f"{k}={v:g}" for k, v in lesson.hyperparameters.items()) + ")")
    ax_loss.grid(alpha=0.3)
    fig.suptitle(f"{lesson.name}: {'-'.join(map(str, lesson.sizes))}, {', '.join(lesson.activations)}")
    return fig


FLOOR = 1e-18  # a difference of exactly 0 is drawn here (a log scale has no 0)


def agreement_figure(lesson_name: str, results, tolerances: dict):
    """Bars of the greatest absolute difference per check, one group per (framework, dtype).

    ``results`` are ``CheckResult``s of one lesson; ``tolerances`` maps a dtype
    to its ``Tolerance`` (the allowed absolute difference is drawn as a line).
    """
    from matplotlib.figure import Figure

    groups = list(dict.fromkeys((r.case.framework, r.case.dtype) for r in results))
    checks = list(dict.fromkeys(r.check for r in results))
    by_key = {(r.case.framework, r.case.dtype, r.check): r for r in results}
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(checks), 1)
    for j, check in enumerate(checks):
        heights, colors = [], []
        for fw, dt in groups:
            r = by_key.get((fw, dt, check))
            if r is not None and r.skipped:  # the check does not apply to this lesson: no bar
                heights.append(np.nan)
                colors.append(None)
                continue
            err = r.comparison.max_abs_err if r else np.nan
            heights.append(max(err, FLOOR) if np.isfinite(err) else 1.0)
            colors.append("tab:red" if r and not r.passed else None)
        bars = ax.bar(np.arange(len(groups)) + j * width, heights, width, label=check)
        for bar, color in zip(bars, colors):
            if color:
                bar.set_edgecolor(color)
                bar.set_linewidth(2)
    for i, (fw, dt) in enumerate(groups):
        tol = tolerances[dt].atol
        ax.hlines(tol, i - width / 2, i + 0.8 - width / 2, colors="k", linestyles="dashed", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 2, 1.0)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{fw} {dt}" for fw, dt in groups])
    ax.set_ylabel("greatest |framework - reference|")
    ax.set_title(f"{lesson_name}: differences from the reference (dashed: atol; 0 is drawn at {FLOOR:g})")
    ax.legend(ncol=len(checks), fontsize="small", loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return fig


# Each side's line: drawn so that three identical curves stay visible on top of one another.
STYLES = {
    "reference": {"color": "0.55", "linewidth": 5.0, "linestyle": "-", "label": "NumPy reference"},
    "torch": {"color": "tab:orange", "linewidth": 2.0, "linestyle": "--", "label": "PyTorch"},
    "keras": {"color": "tab:blue", "linewidth": 1.5, "linestyle": ":", "label": "Keras"},
}
GRID_POINTS = 200  # per axis of the decision-boundary grid


def training_runs(lesson, dtype: str = "float64", frameworks=None) -> dict:
    """{side: TrainingRun} for the reference and every framework asked for (default: every one installed)."""
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
        return reference_model(lesson, run.params, convention="torch").predict(X)  # training_runs' convention
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
