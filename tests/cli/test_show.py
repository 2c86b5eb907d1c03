"""``nnparity show``: the code shown is the code the suite runs, in aligned columns."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from conformance.cases import reference_model
from conformance.checks.training import missing_optimizer
from conformance.lessons import LESSONS, canonical_params, get_lesson
from frameworks import get_twin, unavailable_reason
from nnparity import sources
from nnparity.cli import main
from nnparity.sources import (
    ROOT,
    SECTIONS,
    component_code,
    components,
    fold_checks,
    lesson_code,
)
from reference import get_optimizer


def snippets_of(cells):
    return [s for cell in cells.values() for s in cell.snippets]


def objects(code, section, column):
    return [s.obj for s in code[section][column].snippets]


def need(framework):
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)


# ---- the code shown is read from the source ----------------------------------------


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_every_snippet_is_the_text_of_its_file_at_its_line(lesson):
    code = lesson_code(get_lesson(lesson))
    for section in SECTIONS:
        for snippet in snippets_of(code[section]):
            lines = (ROOT / snippet.path).read_text().splitlines()
            n = len(snippet.code.splitlines())
            assert snippet.code == textwrap.dedent("\n".join(lines[snippet.line - 1: snippet.line - 1 + n])).rstrip()


@pytest.mark.parametrize("name", sorted(components()))
def test_every_component_snippet_is_the_text_of_its_file(name):
    _, cells = component_code(name)
    shown = snippets_of(cells)
    assert shown, f"nothing shown for {name}"
    for snippet in shown:
        lines = (ROOT / snippet.path).read_text().splitlines()
        n = len(snippet.code.splitlines())
        assert snippet.code == textwrap.dedent("\n".join(lines[snippet.line - 1: snippet.line - 1 + n])).rstrip()


# ---- and it is what the suite calls for that lesson -------------------------------


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_reference_column_shows_what_the_reference_runs(lesson):
    lesson = get_lesson(lesson)
    code = lesson_code(lesson)
    model = reference_model(lesson, canonical_params(lesson), convention="torch")
    for act in model.activations:
        assert type(act).forward in objects(code, "forward", "numpy")
    assert type(model._output_loss).forward in objects(code, "loss", "numpy")
    assert type(model._output_loss).backward in objects(code, "gradients", "numpy")
    reason = missing_optimizer(lesson)
    if reason:
        pytest.skip(f"{lesson.name} {reason}")
    optimizer = get_optimizer(lesson.optimizer, **lesson.hyperparameters)
    assert type(optimizer).update in objects(code, "update", "numpy")


def made_by_one_of(closure, shown) -> bool:
    """``closure`` is a function defined inside one of the functions ``shown`` (a lesson's class-weighted loss)."""
    return any(closure.__qualname__.startswith(f"{getattr(obj, '__qualname__', None)}.<locals>.") for obj in shown)


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_torch_column_shows_what_the_torch_twin_runs(lesson):
    need("torch")
    lesson = get_lesson(lesson)
    code = lesson_code(lesson)
    twin = get_twin("torch", lesson, "float64")
    if lesson.class_weights:
        assert made_by_one_of(twin.loss_fn, objects(code, "loss", "torch"))
    else:
        assert twin.loss_fn in objects(code, "loss", "torch")
    shown = objects(code, "forward", "torch")
    assert all(any(act is obj for obj in shown) for act in twin.model.activations)
    assert type(twin.model).forward in shown
    assert type(twin.model).__init__ in objects(code, "model", "torch")


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_keras_column_shows_what_the_keras_twin_runs(lesson):
    need("keras")
    import keras

    lesson = get_lesson(lesson)
    code = lesson_code(lesson)
    twin = get_twin("keras", lesson, "float64")
    factories = [obj for obj in objects(code, "loss", "keras") if callable(obj)]
    if lesson.class_weights:
        assert made_by_one_of(twin.loss_fn, factories)
    else:
        assert any(type(twin.loss_fn) is type(make()) for make in factories if make.__name__ == "<lambda>")
    shown = [keras.activations.get(obj) for obj in objects(code, "forward", "keras") if not hasattr(obj, "__self__")]
    activations = [layer for layer in twin.model.layers if isinstance(layer, keras.layers.Activation)]
    assert len(activations) == lesson.n_layers  # one per Dense (BatchNorm and Dropout sit between, where present)
    for layer in activations:
        assert any(layer.activation is fn for fn in shown), layer.name


# ---- the terminal output -------------------------------------------------------------


def run_show(capsys, *args):
    code = main(["show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_internals_of_spiral_print_three_aligned_columns(capsys):
    need("torch")
    need("keras")
    code, out, _ = run_show(capsys, "spiral", "--internals", "--width", "200")
    assert code == 0
    lines = out.splitlines()
    header = [line for line in lines if "NumPy (reference)" in line]
    assert len(header) == 1 and "PyTorch" in header[0] and "Keras 3" in header[0]
    starts = [next(i for i, line in enumerate(lines) if line.startswith(f"│{section}")) for section in SECTIONS]
    assert starts == sorted(starts), "sections out of order"
    cells = lesson_code(get_lesson("spiral"))
    for section, start in zip(SECTIONS, starts):
        first = lines[start]
        for column in ("numpy", "torch", "keras"):  # each column opens the section on the same line
            snippet = cells[section][column].snippets[0]
            assert f"{snippet.where}  {snippet.title}" in first, (section, column, first)
    for text in ("F.binary_cross_entropy(a, y)", "keras.losses.BinaryCrossentropy()",
                 "np.log1p(np.exp(-np.abs(z)))", '"sgd": torch.optim.SGD,', "opt.apply(tape.gradient(loss, variables)"):
        assert text in out


def test_narrow_internals_stack_one_column_per_section(capsys):
    need("torch")
    need("keras")
    code, out, _ = run_show(capsys, "spiral", "--internals", "--width", "100")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert out.count("NumPy (reference)") == out.count("PyTorch ─") == out.count("Keras 3 ─") == len(SECTIONS)
    positions = [out.index(f" {section} ─") for section in SECTIONS]
    assert positions == sorted(positions)


def test_component_shows_reference_framework_calls_and_conventions(capsys):
    need("torch")
    need("keras")
    code, out, _ = run_show(capsys, "--component", "leaky_relu", "--width", "220")
    assert code == 0
    assert "class LeakyReLU(Activation):" in out
    assert "F.leaky_relu(z, negative_slope=0.01)" in out
    assert "ops.where(z > 0, z, slope * z)" in out
    assert "leaky_relu default slope" in out


def test_a_framework_not_installed_is_said_in_its_column(capsys, monkeypatch):
    monkeypatch.setattr(sources, "unavailable_reason",  # what sources.py asks
                        lambda fw: "keras is not installed (missing keras)" if fw == "keras" else unavailable_reason(fw))
    cells = lesson_code(get_lesson("neuron"))
    assert all(cells[s]["keras"].note == "keras is not installed (missing keras)" for s in SECTIONS)
    assert cells["loss"]["numpy"].snippets


@pytest.mark.parametrize(
    "args, message",
    [
        (["nosuch"], "unknown lesson 'nosuch'; expected one of"),
        (["--component", "nosuch"], "unknown component 'nosuch'; expected one of"),
        ([], "give a LESSON or --component NAME"),
        (["spiral", "--component", "bce"], "give a LESSON or --component NAME"),
        (["spiral", "--width", "0"], "--width must be at least 40 columns. Received: --width 0"),
        (["spiral", "--internals", "--framework", "torch"], "--framework is for a lesson's programs"),
        (["--component", "bce", "--export", "out"], "--export is for a lesson's programs"),
        (["spiral", "--export", "/nosuch/folder"], "--export: the folder '/nosuch' does not exist"),
    ],
)
def test_bad_arguments_are_named(capsys, args, message):
    code, _, err = run_show(capsys, *args)
    assert code == 2
    assert message in err


def test_a_lesson_without_programs_is_refused_naming_the_feature(capsys, monkeypatch):
    """Every lesson of the catalog has its programs; one with dropout and mini-batches has none yet."""
    lesson = replace(LESSONS["spiral-dropout"], name="dropout-batches", batch_size=32)
    monkeypatch.setitem(LESSONS, lesson.name, lesson)
    code, _, err = run_show(capsys, lesson.name)
    assert code == 2
    assert "lesson 'dropout-batches': no programs yet: dropout with mini-batches" in err


def test_fold_checks_folds_only_if_raise_blocks():
    code = textwrap.dedent('''
        def f(x):
            if x < 0:
                raise ValueError(
                    f"bad {x}"
                )
            if x > 10:
                x = 10
            return x
    ''').strip()
    assert fold_checks(code).splitlines() == [
        "def f(x):",
        "    # if x < 0: raise ValueError",
        "    if x > 10:",
        "        x = 10",
        "    return x",
    ]
