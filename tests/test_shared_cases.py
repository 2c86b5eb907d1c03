"""`nnparity run`'s sharing of cases between the parent and a helper child (nnparity/workers.py).

The parent takes its cases from the front, the child from the back; whoever creates a case's
file first runs it. What must hold: every case runs exactly once, the parent gets every
result back, and a child that helped with nothing is stopped rather than waited for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conformance.checks import Case, run_check
from frameworks import missing_reason
from nnparity import workers

needs_torch = pytest.mark.skipif(missing_reason("torch") is not None, reason=str(missing_reason("torch")))
needs_keras = pytest.mark.skipif(missing_reason("keras") is not None, reason=str(missing_reason("keras")))

CASES = [Case("neuron", "torch", "float64"), Case("neuron", "torch", "float32"), Case("xor-mse", "torch", "float64")]


def test_two_processes_taking_from_both_ends_take_every_case_once(tmp_path):
    """A real race: another process takes from the back while this one takes from the front."""
    n = 400
    cases = [Case("neuron", "torch", "float64")] * n  # only the indices matter here
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys; from nnparity.workers import SharedCases; from conformance.checks import Case\n"
        f"s = SharedCases([Case('neuron', 'torch', 'float64')] * {n}, sys.argv[1])\n"
        f"print([i for i in reversed(range({n})) if s.take(i)])"), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mine = workers.SharedCases(cases, str(tmp_path))
    taken_here = [i for i in range(n) if mine.take(i)]
    out, _ = child.communicate(timeout=120)
    taken_there = json.loads(out)
    assert child.returncode == 0
    assert sorted(taken_here + taken_there) == list(range(n))  # each once: none twice, none left
    assert sorted(mine.not_mine()) == sorted(taken_there)


@needs_torch
def test_a_helper_runs_the_cases_the_parent_left_from_the_back_with_the_same_results(tmp_path):
    shared = workers.SharedCases(CASES, str(tmp_path))
    assert shared.take(0)  # the parent took the first
    checks = ["forward", "loss"]
    helper = workers.SharedCases.from_spec(json.loads(json.dumps(shared.spec())))  # as the child receives it
    helped = workers.help_with(helper, checks)
    assert [(r.case, r.check) for r in helped] == [(c, k) for c in reversed(CASES[1:]) for k in checks]
    assert shared.not_mine() == [1, 2]
    for r in helped:
        assert r.to_json() == run_check(r.check, r.case).to_json()


@needs_torch
def test_a_child_process_helping_returns_its_own_results_and_the_cases_it_took():
    """Through a real child: the JSON trip, and the parent's account of who took what."""
    shared = workers.SharedCases(CASES, tempfile.mkdtemp(prefix="nnparity-test-"))
    assert shared.take(0)
    child = workers.start(["torch"], ["neuron"], ["float64"], ["forward"], shared=shared)
    results = child.results()  # the parent takes nothing more: the child takes cases 2 and 1
    assert [(r.case, r.check) for r in results] == [
        (Case("neuron", "torch", "float64"), "forward"),  # its own case
        (CASES[2], "forward"), (CASES[1], "forward"),  # then the parent's, from the back
    ]
    assert all(r.status == "passed" for r in results), [r.comparison.message() for r in results]
    assert not os.path.exists(child.directory)


def _fake_child(directory: str, code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, directory])


def test_a_helper_that_took_nothing_is_stopped_not_waited_for(tmp_path):
    shared = workers.SharedCases(CASES, str(tmp_path / "cases"))
    os.mkdir(shared.directory)
    assert all(shared.take(i) for i in range(len(CASES)))  # the parent took every case
    directory = str(tmp_path / "out")
    os.mkdir(directory)
    # writes its own (empty) results, then "imports Keras" for a minute
    process = _fake_child(directory, "import sys, time; from nnparity.workers import _write_json\n"
                                     "_write_json(sys.argv[1] + '/own.json', []); time.sleep(60)")
    worker = workers.Worker("torch", ["torch"], process, directory, tempfile.TemporaryFile(), shared)
    started = time.perf_counter()
    assert worker.results() == []
    assert process.returncode == -signal.SIGKILL  # killed, not waited for (it would have slept on)
    assert time.perf_counter() - started < 50  # the minute's sleep was not sat through


@needs_torch
def test_a_helper_that_returns_other_cases_than_it_took_is_an_error(tmp_path):
    shared = workers.SharedCases(CASES, str(tmp_path / "cases"))
    os.mkdir(shared.directory)
    assert shared.take(0) and shared.take(1)  # the child took case 2 ...
    other = workers.result_to_dict(run_check("forward", Case("neuron", "torch", "float64")))
    directory = str(tmp_path / "out")
    os.mkdir(directory)
    # ... and returns the result of case 0
    with open(tmp_path / "other.json", "w") as fh:
        json.dump([other], fh)
    process = _fake_child(directory, "import sys, shutil; from nnparity.workers import _write_json\n"
                                     "_write_json(sys.argv[1] + '/own.json', [])\n"
                                     f"shutil.copy({str(tmp_path / 'other.json')!r}, sys.argv[1] + '/helped.json')")
    worker = workers.Worker("torch", ["torch"], process, directory, tempfile.TemporaryFile(), shared)
    with pytest.raises(RuntimeError, match=r"took cases \['xor-mse-torch-float64'\] but returned results for "
                                           r"\['neuron-torch-float64'\]"):
        worker.results()


def test_stop_kills_a_running_child_and_removes_its_files(tmp_path):
    """What `nnparity run` does for every child when a check raises or the run is interrupted."""
    directory = str(tmp_path / "out")
    os.mkdir(directory)
    process = _fake_child(directory, "import time; time.sleep(60)")
    worker = workers.Worker("torch", ["torch"], process, directory, tempfile.TemporaryFile())
    worker.stop()
    assert process.returncode == -signal.SIGKILL
    assert not os.path.exists(directory)
    worker.stop()  # twice is harmless (results() stops it too)


@needs_torch
@needs_keras
def test_a_failed_run_leaves_no_child_running(monkeypatch, tmp_path):
    """A check raising in the parent: the helper child is stopped, and its files and the shared cases removed."""
    from nnparity import cli

    started = []
    real_start = workers.start

    def start(*args, **kwargs):
        worker = real_start(*args, **kwargs)
        started.append(worker)
        return worker

    def broken(check, case):
        raise RuntimeError("a check broke")

    monkeypatch.setattr(workers, "start", start)
    monkeypatch.setattr("conformance.checks.run_check", broken)
    with pytest.raises(RuntimeError, match="a check broke"):
        cli.main(["run", "--lesson", "neuron", "--framework", "torch", "--framework", "keras", "--check", "loss",
                  "--jobs", "2"])
    assert len(started) == 1 and started[0].shared is not None
    assert started[0].process.poll() is not None  # not left running
    assert not os.path.exists(started[0].directory) and not os.path.exists(started[0].shared.directory)


@needs_torch
def test_one_framework_and_two_jobs_starts_a_helper_with_no_cases_of_its_own(monkeypatch, tmp_path):
    """`--framework torch --jobs 2`: a child that only takes this process's cases; the results are --jobs 1's.

    Measured (fifth session, whole catalog): --framework keras 10.9 s -> 7.9 s, --framework keras
    --check all 31.1 s -> 17.9 s, --framework torch 4.8 s -> 4.0 s; the JSON the same, timings aside.
    """
    from nnparity import cli

    started = []
    real_start = workers.start

    def start(frameworks, lessons, *args, **kwargs):
        worker = real_start(frameworks, lessons, *args, **kwargs)
        started.append((frameworks, lessons, worker))
        return worker

    monkeypatch.setattr(workers, "start", start)
    runs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.json"
        argv = ["run", "--lesson", "neuron", "--lesson", "xor-mse", "--framework", "torch", "--check", "forward",
                "--check", "step", "--jobs", str(jobs), "--json", str(out)]
        assert cli.main(argv) == 0
        runs[jobs] = json.loads(out.read_text())["results"]
        if jobs == 1:
            assert started == []  # one job: no child
    [(frameworks, lessons, worker)] = started
    assert frameworks == ["torch"] and lessons == []  # no cases of its own ...
    assert len(worker.shared.cases) == 4  # ... only this process's 2 lessons x 2 dtypes
    assert worker.process.poll() is not None and not os.path.exists(worker.directory)
    assert runs[1] == runs[2]
