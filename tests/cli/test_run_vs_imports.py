"""tools/run_vs_imports.py, the harness behind docs/performance.md's `nnparity run` vs imports numbers:
its arithmetic and its refusal to time a failing run (the processes themselves are replaced here)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "run_vs_imports.py"


@pytest.fixture
def tool():
    spec = importlib.util.spec_from_file_location("run_vs_imports", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_timed(times, returncode=0):
    """timed() answering from ``times`` in order: (seconds, a finished process printing a summary)."""
    calls = []

    def timed(cmd):
        calls.append(cmd)
        done = subprocess.CompletedProcess(cmd, returncode, stdout="408 passed, 0 failed, 0 skipped (...)\n")
        return times[len(calls) - 1], done

    return timed, calls


def test_rounds_interleave_imports_and_the_run_and_report_medians(tool, monkeypatch, capsys):
    timed, calls = _fake_timed([6.0, 12.0, 8.0, 20.0, 7.0, 14.0])  # imports, run, imports, run, ...
    monkeypatch.setattr(tool, "timed", timed)
    assert tool.main(["--rounds", "3", "--", "--lesson", "neuron"]) == 0
    out = capsys.readouterr().out
    assert [c[-1] for c in calls] == ["import numpy, torch, keras", "neuron"] * 3  # one after the other
    assert calls[1][-3:] == ["run", "--lesson", "neuron"]  # the arguments after -- go to nnparity run
    assert "round 2: imports 8.00 s, run 20.00 s, ratio 2.50" in out
    # medians 7.0 and 14.0: ratio 2.00; per-round ratios 2.0, 2.5, 2.0: median 2.00
    assert "median imports 7.00 s, median run 14.00 s, ratio of the medians 2.00, " \
           "median of the per-round ratios 2.00" in out


def test_a_failing_run_is_not_a_time(tool, monkeypatch, capsys):
    timed, _ = _fake_timed([6.0, 12.0], returncode=1)
    monkeypatch.setattr(tool, "timed", timed)
    assert tool.main(["--rounds", "2"]) == 1
    captured = capsys.readouterr()
    assert "nnparity run exited 1" in captured.err and "median" not in captured.out
