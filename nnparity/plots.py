"""Plots of a lesson, as PNG bytes (matplotlib, no display needed).

- ``training_figure``: the lesson's data with the decision regions of the NumPy
  reference after training it as the lesson does (full batch, the lesson's
  optimizer and epochs), beside its loss curve.
- ``agreement_figure``: the greatest absolute difference of every check, per
  framework and dtype, on a log scale, with the tolerance each must stay under.

Figures are made with ``matplotlib.figure.Figure`` (not pyplot), so nothing is
kept between calls. ``png(fig)`` turns one into bytes; ``nnparity report`` embeds
them as base64, so the report needs no network and no side files.
"""

from __future__ import annotations

import io

import numpy as np

DPI = 100


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def train_reference(lesson, epochs: int | None = None):
    """The reference trained as the ``training`` check trains it (``conformance.training.reference_run``:
    the lesson's own initial weights, optimizer, epochs, batches and dropout masks, torch's conventions);
    (the trained model, its loss curve)."""
    from dataclasses import replace

    from conformance.cases import reference_model
    from conformance.training import reference_run

    if epochs is not None:
        lesson = replace(lesson, epochs=epochs)
    run = reference_run(lesson, "float64", "torch")
    return reference_model(lesson, run.params, convention="torch"), run.losses


def _classes(y: np.ndarray) -> np.ndarray:
    return y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5).astype(int)


def training_figure(lesson, epochs: int | None = None):
    """Data and decision regions (2-input lessons; else the first two features) beside the loss curve."""
    from matplotlib.figure import Figure

    from conformance.lessons import lesson_data

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
