"""``nnparity plot``: the figure holds every side's loss curve and decision boundary; the PNG is written."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.lessons import LESSONS
from frameworks import available_frameworks
from nnparity.cli import main

pytest.importorskip("matplotlib", reason="nnparity plot needs matplotlib (pip install 'nnparity[plot]')")

from nnparity.figures import plot_lesson, training_runs  # noqa: E402


def test_figure_has_every_side_s_curve_and_boundary():
    runs = training_runs(LESSONS["perceptron-and"])
    fig = plot_lesson("perceptron-and", runs=runs)
    loss_ax, *boundary_axes = fig.axes
    assert len(boundary_axes) == len(runs) == 1 + len(available_frameworks())
    lines = loss_ax.get_lines()
    assert [line.get_label() for line in lines][:1] == ["NumPy reference"]
    for line, run in zip(lines, runs.values()):
        np.testing.assert_array_equal(line.get_ydata(), run.losses)  # each side's own curve
    for ax in boundary_axes:
        assert ax.collections, "a decision boundary (contours and points) on every side"


def test_plot_command_writes_a_png(tmp_path, capsys):
    out = tmp_path / "neuron.png"
    assert main(["plot", "neuron", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("lesson", ["keras-4-64-32-1", "deep-sigmoid"])  # 4 input features; does not train
def test_lessons_without_a_boundary_or_training_still_plot(lesson, tmp_path):
    assert main(["plot", lesson, "-o", str(tmp_path / f"{lesson}.png")]) == 0


@pytest.mark.parametrize("argv,message", [
    (["plot", "spirals"], "unknown lesson 'spirals'"),
    (["plot", "spiral", "--dtype", "float16"], "--dtype: unknown 'float16'"),
    (["plot", "spiral", "--framework", "jax"], "--framework: unknown 'jax'"),
    (["plot", "spiral", "-o", "/no/such/folder/spiral.png"], "the folder /no/such/folder does not exist"),
])
def test_plot_bad_arguments_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
