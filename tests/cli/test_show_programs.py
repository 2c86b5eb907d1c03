"""``nnparity show LESSON``: the lesson's three programs, step by step, in columns or one after the other."""

from __future__ import annotations

import pytest

from conformance.lessons import get_lesson
from nnparity.cli import main
from nnparity.programs import MARKER, STEPS, TITLES, programs

SPIRAL = programs(get_lesson("spiral"))


def run_show(capsys, *args):
    code = main(["show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def columns_of(out: str) -> list[str]:
    """The text of each of the table's three columns, the table's own lines dropped, as words."""
    cells = [[], [], []]
    for line in out.splitlines():
        if line.startswith("│"):
            for i, cell in enumerate(line.strip("│").split("│")):
                cells[i].append(cell)
    return [" ".join(" ".join(cell).split()) for cell in cells]


def test_spiral_fits_160_columns_and_names_every_step_in_every_column(capsys):
    code, out, _ = run_show(capsys, "spiral", "--width", "160")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 160
    assert "…" not in out, "a line was cut short"
    for step in STEPS:  # each step opens on one line in all three columns: the rows line up
        opening = [line for line in lines if f"{MARKER}{step} " in line or line.rstrip("│ ").endswith(f"{MARKER}{step}")]
        assert len(opening) == 1 and opening[0].count(f"{MARKER}{step}") == 3, (step, opening)
    header = next(line for line in lines if "NumPy" in line)
    assert all(f"{TITLES[key]}  {program.filename}" in header for key, program in SPIRAL.items())
    # every word of every program is shown, in order, in its column (wrapped lines keep their words)
    for column, program in zip(columns_of(out), SPIRAL.values()):
        shown = " ".join(" ".join(program.step(step).split()) for step in STEPS)
        assert column.replace(" ", "") == shown.replace(" ", ""), program.filename
    assert len(lines) <= 110  # one screen: spiral measured 95 lines


def test_narrow_terminal_prints_each_step_one_program_after_another(capsys):
    code, out, _ = run_show(capsys, "spiral", "--width", "100")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    positions = [out.index(f" {step} ─") for step in STEPS]
    assert positions == sorted(positions)
    for i, step in enumerate(STEPS):
        block = out[positions[i]:positions[i + 1] if i + 1 < len(STEPS) else len(out)]
        titles = [block.index(f"{TITLES[key]}  {p.filename}") for key, p in SPIRAL.items()]
        assert titles == sorted(titles) and block.count(f"{MARKER}{step}") == 3


def test_one_framework_prints_its_whole_program(capsys):
    code, out, _ = run_show(capsys, "spiral", "--framework", "keras", "--width", "120")
    assert code == 0
    assert "keras.Sequential([" in out and "nn.Sequential(" not in out and "def forward(X):" not in out
    assert out.count(MARKER) == len(STEPS)


@pytest.mark.parametrize("framework", [None, "torch"])
def test_export_writes_the_programs(capsys, tmp_path, framework):
    folder = tmp_path / "programs"
    args = ["spiral", "--export", str(folder)] + (["--framework", framework] if framework else [])
    code, out, _ = run_show(capsys, *args)
    assert code == 0
    wanted = {key: p for key, p in SPIRAL.items() if framework in (None, key)}
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.filename for p in wanted.values())
    for program in wanted.values():
        assert (folder / program.filename).read_text() == program.text
        assert f"wrote {folder / program.filename}" in out


def test_spiral_dropout_fits_160_columns_every_line_whole(capsys):
    """The dropout lesson's extra lines (the shared masks, the masked layer) fit a column: none is wrapped."""
    code, out, _ = run_show(capsys, "spiral-dropout", "--width", "160")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 160
    assert "…" not in out, "a line was cut short"
    cells = [[], [], []]
    for line in out.splitlines():
        if line.startswith("│"):
            for i, cell in enumerate(line.strip("│").split("│")):
                cells[i].append(cell.strip())
    for column, program in zip(cells, programs(get_lesson("spiral-dropout")).values()):
        lines = [line.strip() for step in STEPS for line in program.step(step).splitlines() if line.strip()]
        assert [cell for cell in column if cell] == lines, f"{program.filename}: a line was wrapped"
