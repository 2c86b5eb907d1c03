"""The `nnparity` command: its output, its JSON, its exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conformance.lessons import LESSONS
from frameworks import available_frameworks
from nnparity.cli import main

RESULT_FIELDS = {"lesson", "framework", "dtype", "check", "passed", "max_abs_err", "max_rel_err", "atol", "rtol",
                 "worst", "known"}
needs_framework = pytest.mark.skipif(not available_frameworks(), reason="no framework installed")


def test_lessons_json_lists_the_catalog(capsys):
    assert main(["lessons", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == list(LESSONS)
    assert all({"name", "layers", "activations", "loss"} <= set(d) for d in listed)


def test_console_script_is_installed():
    exe = shutil.which("nnparity")
    if exe is None:
        pytest.skip("the nnparity console script is not on PATH (package not installed)")
    out = subprocess.run([exe, "lessons", "--json"], capture_output=True, text=True, check=True).stdout
    assert "spiral" in [d["name"] for d in json.loads(out)]


@needs_framework
def test_run_writes_exactly_the_documented_fields(tmp_path, capsys):
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "spiral", "--lesson", "sensor", "--framework", fw, "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    payload = json.loads(out.read_text())
    assert set(payload) == {"versions", "results"}
    assert "numpy" in payload["versions"]
    results = payload["results"]
    assert len(results) == 2 * 2 * 4  # lessons x dtypes x checks
    for r in results:
        assert set(r) == RESULT_FIELDS
        assert r["passed"] is True and r["framework"] == fw
        assert r["max_abs_err"] <= (1e-10 if r["dtype"] == "float64" else 1e-5)
    printed = capsys.readouterr().out
    assert "16 passed, 0 failed" in printed


@needs_framework
def test_run_exits_1_and_reports_a_failure(monkeypatch, tmp_path, capsys):
    from reference import activations

    monkeypatch.setattr(activations.ReLU, "forward", lambda self, z: abs(z))  # a broken reference
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "spiral", "--framework", fw, "--dtype", "float64", "--check", "forward",
               "--json", str(out)])
    printed = capsys.readouterr().out
    assert rc == 1
    assert "FAIL forward spiral-" in printed and "Mismatched elements" in printed
    (result,) = json.loads(out.read_text())["results"]
    assert result["passed"] is False and result["worst"] in ("a1", "z2", "a2")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["run", "--lesson", "nope"], "--lesson: unknown 'nope'"),
        (["run", "--dtype", "float16"], "--dtype: unknown 'float16'"),
        (["run", "--framework", "jaxx"], "--framework: unknown 'jaxx'"),
        (["run", "--check", "speed"], "--check: unknown 'speed'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "nnparity", "lessons", "--json"], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)[0]["name"] == "neuron"
