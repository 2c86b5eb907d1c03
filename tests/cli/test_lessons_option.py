"""``--lessons FILE`` on every command, and pytest's ``--nnparity-lessons PATH``: a user's new network runs
through the run (in its worker processes), the report, the suite and the other commands; a bad file is a
usage error (exit 2 from the command line, pytest's usage error from pytest)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cases import Case
from conformance.checks import CHECKS
from conformance.lessons import LESSONS
from conformance.matrix import _plan
from frameworks import unavailable_reason
from nnparity.cli import main

ROOT = Path(__file__).resolve().parents[2]
needs_torch = pytest.mark.skipif(unavailable_reason("torch") is not None, reason=str(unavailable_reason("torch")))

# A network the catalog does not have (3-12-8-1, tanh then ReLU) on the catalog's tabular3, and a 2-4-1
# sigmoid net on XOR under a name of its own (the learner example's architecture, for nnparity check).
# Few epochs: the training check trains them to their end in every framework.
LESSON_FILE = """
[[lesson]]
name = "mine-3-12-8-1"
sizes = [3, 12, 8, 1]
activations = ["tanh", "relu", "sigmoid"]
loss = "bce"
init = "glorot_uniform"
dataset = "tabular3"
epochs = 20

[[lesson]]
name = "mine-xor"
sizes = [2, 4, 1]
activations = ["sigmoid", "sigmoid"]
loss = "bce"
init = "normal"
init_args = {scale = 0.5}
dataset = "xor"
epochs = 20
"""
MINE = ("mine-3-12-8-1", "mine-xor")


@pytest.fixture(scope="module")
def lesson_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("lessons") / "my_lessons.toml"
    path.write_text(LESSON_FILE)
    return str(path)


@pytest.fixture()
def bad_file(tmp_path) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(LESSON_FILE.replace('"tanh"', '"gelu"'))
    return str(path)


@needs_torch
def test_run_every_check_of_a_new_network_in_worker_processes(lesson_file, tmp_path, capsys):
    """Two cases and --jobs 2: a pool of two spawned workers runs them, and can only because each worker
    added the lesson file too (``_start_worker``); without --lesson the run is the file's lessons."""
    out = tmp_path / "r.json"
    rc = main(["run", "--lessons", lesson_file, "--framework", "torch", "--dtype", "float64", "--check", "all",
               "--jobs", "2", "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    assert [(r["lesson"], r["check"]) for r in results] == [(lesson, check) for lesson in MINE for check in CHECKS]
    assert all(r["passed"] for r in results)
    assert not set(MINE) & set(LESSONS)  # the command's lessons leave the catalog with the command
    here, pooled = _plan([Case(lesson, "torch", "float64") for lesson in MINE], 2)
    assert here is None and [g.workers for g in pooled] == [2]  # both cases ran in spawned workers


# NAdam and Adadelta (reference/adaptive_optimizers.py) as a user's lessons' optimizers, every value written out
NADAM = ('optimizer = "nadam"\n[lesson.hyper]\nlearning_rate = 0.01\nbeta_1 = 0.9\nbeta_2 = 0.999\n'
         'epsilon = 1e-7\nmomentum_decay = 1.0\n')
ADADELTA = 'optimizer = "adadelta"\n[lesson.hyper]\nlearning_rate = 1.0\nrho = 0.95\nepsilon = 1e-6\n'
ADAPTIVE_FILE = "[[lesson]]".join(part + optimizer for part, optimizer in
                                  zip(LESSON_FILE.split("[[lesson]]"), ("", NADAM, ADADELTA), strict=True))


@needs_torch
@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_run_every_check_of_lessons_with_nadam_and_adadelta(framework, tmp_path, capsys):
    if unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))
    path = tmp_path / "adaptive.toml"
    path.write_text(ADAPTIVE_FILE)
    out = tmp_path / "r.json"
    rc = main(["run", "--lessons", str(path), "--framework", framework, "--dtype", "float64", "--check", "all",
               "--jobs", "1", "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    assert [(r["lesson"], r["check"]) for r in results] == [(lesson, check) for lesson in MINE for check in CHECKS]
    assert all(r["passed"] for r in results)


@needs_torch
def test_report_of_a_new_network(lesson_file, tmp_path, capsys):
    pytest.importorskip("jinja2", reason="the report needs nnparity[report]")
    out = tmp_path / "report.html"
    rc = main(["report", "--lessons", lesson_file, "--lesson", "mine-3-12-8-1", "--framework", "torch",
               "--dtype", "float64", "--no-plots", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    html = out.read_text()
    assert "mine-3-12-8-1" in html and "3-12-8-1" in html and "mine-xor" not in html
    assert f"--lessons {lesson_file}" in html  # the command that makes it again names the file
    assert f"{len(CHECKS)} passed, 0 failed, 0 skipped" in " ".join(capsys.readouterr().err.split())


@needs_torch
def test_pytest_runs_the_conformance_suite_on_a_new_network(lesson_file):
    """``--nnparity-lessons``: the cases of the conformance suite are the file's lessons' (ids name them)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance/tests/test_forward.py", "conformance/tests/test_training.py",
         "--nnparity-lessons", lesson_file, "--framework", "torch", "--dtype", "float64", "-p", "no:randomly",
         "-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-rA", "-W", "ignore::DeprecationWarning"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    passed = set(re.findall(r"PASSED (\S+)", done.stdout))
    assert passed == {f"conformance/tests/test_{check}.py::test_{check}[{lesson}-torch-float64]"
                      for check in ("forward", "training") for lesson in MINE}


def test_pytest_refuses_a_bad_lesson_file_as_a_usage_error(bad_file):
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_project.py", "--collect-only", "-q",
                           "--nnparity-lessons", bad_file, "-p", "no:cacheprovider"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert (f"--nnparity-lessons {bad_file}: lesson 'mine-3-12-8-1', field 'activations': expected names from ["
            in done.stderr)


@pytest.mark.parametrize("command", [["lessons"], ["run"], ["show", "mine-xor"], ["report"], ["plot", "mine-xor"],
                                     ["bench"], ["check", "x.py:Net", "--lesson", "mine-xor"]],
                         ids=lambda c: c[0])
def test_every_command_refuses_a_bad_lesson_file_with_exit_2(command, bad_file, capsys):
    assert main([*command, "--lessons", bad_file]) == 2
    err = capsys.readouterr().err
    assert f"nnparity {command[0]}: error: --lessons {bad_file}: lesson 'mine-3-12-8-1', field 'activations'" in err
    assert "(unknown: ['gelu'])" in err


def test_lessons_lists_the_catalog_and_the_files_lessons(lesson_file, capsys):
    assert main(["lessons", "--json", "--lessons", lesson_file]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert names == [*LESSONS, *MINE]


def test_show_a_new_network(lesson_file, capsys):
    assert main(["show", "mine-3-12-8-1", "--lessons", lesson_file, "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "tanh" in out and "relu" in out


@needs_torch
def test_bench_times_the_files_lessons(lesson_file, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--lessons", lesson_file, "--dtype", "float64", "--impl", "reference",
                 "--impl", "torch-1thread", "--rounds", "1", "--block-seconds", "0.005", "--pause-seconds", "0",
                 "--json", str(out)]) == 0, capsys.readouterr().out
    assert set(MINE) <= set(json.dumps(json.loads(out.read_text())).split('"'))


@needs_torch
def test_check_a_learner_against_a_lesson_of_the_file(lesson_file, capsys):
    learner = ROOT / "examples" / "learners" / "correct_update.py"
    rc = main(["check", f"{learner}:MLP", "--lessons", lesson_file, "--lesson", "mine-xor", "--framework", "torch"])
    out = capsys.readouterr().out
    assert rc == 0 and "mine-xor" in out, out


@needs_torch
def test_plot_a_new_network(lesson_file, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plot needs nnparity[plot]")
    out = tmp_path / "mine.png"
    assert main(["plot", "mine-xor", "--lessons", lesson_file, "--framework", "torch", "-o", str(out)]) == 0
    assert out.stat().st_size > 0
