"""`nnparity run`'s helper: a fork of the parent sharing its cases (nnparity/workers.py).

The parent takes its cases from the front, the helper from the back; whoever creates a case's
file first runs it. What must hold: every case runs exactly once, the parent gets every
result back, a helper that took nothing is stopped rather than waited for, and a helper is
forked only from a process with no threads but OpenBLAS's.

The scenarios that fork run in a fresh Python process (``_script``), as ``nnparity run`` does:
a pytest worker holds threads of its own (xdist's), and forking it is what ``fork_reason`` refuses.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conformance.cases import Case
from conformance.checks import run_check
from frameworks import missing_reason
from nnparity import workers

ROOT = pathlib.Path(__file__).resolve().parents[2]
needs_torch = pytest.mark.skipif(missing_reason("torch") is not None, reason=str(missing_reason("torch")))
needs_keras = pytest.mark.skipif(missing_reason("keras") is not None, reason=str(missing_reason("keras")))
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper is a fork, on Linux only")

CASES = [Case("neuron", "torch", "float64"), Case("neuron", "torch", "float32"), Case("xor-mse", "torch", "float64")]


def _script(code: str, timeout: float = 300) -> dict:
    """Run ``code`` in a fresh Python process (Keras on TensorFlow); the JSON it prints last."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_taking_from_both_ends_take_every_case_once(tmp_path):
    """A real race: another process takes from the back while this one takes from the front."""
    n = 400
    cases = [Case("neuron", "torch", "float64")] * n  # only the indices matter here
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys; from nnparity.workers import SharedCases; from conformance.checks import Case\n"
        f"s = SharedCases([Case('neuron', 'torch', 'float64')] * {n}, sys.argv[1])\n"
        f"print([i for i in reversed(range({n})) if s.take(i)])"), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    mine = workers.SharedCases(cases, str(tmp_path))
    taken_here = [i for i in range(n) if mine.take(i)]
    out, _ = child.communicate(timeout=120)
    taken_there = json.loads(out)
    assert child.returncode == 0
    assert sorted(taken_here + taken_there) == list(range(n))  # each once: none twice, none left
    assert sorted(mine.not_mine()) == sorted(taken_there)


@needs_torch
def test_a_helper_runs_the_cases_the_parent_left_from_the_back_with_the_same_results(tmp_path):
    parent = workers.SharedCases(CASES, str(tmp_path))
    assert parent.take(0)  # the parent took the first
    checks = ["forward", "loss"]
    helped = workers.help_with(workers.SharedCases(CASES, str(tmp_path)), checks)  # the helper's own view
    assert [(r.case, r.check) for r in helped] == [(c, k) for c in reversed(CASES[1:]) for k in checks]
    assert parent.not_mine() == [1, 2]
    for r in helped:
        assert r.to_json() == run_check(r.check, r.case).to_json()


@needs_linux
@needs_torch
def test_a_forked_helper_returns_the_cases_it_took_and_leaves_nothing():
    """Through a real fork: the JSON trip, the parent's account of who took what, no process or file left."""
    out = _script(f"""
import json, os, tempfile
from conformance.checks import Case
from frameworks import twin_class
from nnparity import workers
twin_class("torch")
cases = [Case(*c) for c in {[(c.lesson, c.framework, c.dtype) for c in CASES]!r}]
shared = workers.SharedCases(cases, tempfile.mkdtemp())
reason = workers.fork_reason()
assert shared.take(0)  # the parent takes the first case and no more: the helper takes 2, then 1
helper = workers.fork_helper(shared, ["forward"])
results = helper.results()
print(json.dumps({{"reason": reason, "results": [r.to_json() for r in results], "status": helper.exit_status,
                  "left": os.path.exists(helper.directory)}}))
""")
    assert out["reason"] is None  # a fresh process after its imports: it may fork
    assert [(r["lesson"], r["dtype"]) for r in out["results"]] == [("xor-mse", "float64"), ("neuron", "float32")]
    assert out["results"] == [run_check("forward", CASES[i]).to_json() for i in (2, 1)]
    assert out["status"] == 0 and not out["left"]


@needs_linux
def test_a_helper_that_took_nothing_is_stopped_not_waited_for():
    """The parent took every case while the helper waited for a core (a child that never finishes)."""
    out = _script(f"""
import json, subprocess, sys, tempfile, time
from conformance.checks import Case
from nnparity import workers
cases = [Case(*c) for c in {[(c.lesson, c.framework, c.dtype) for c in CASES]!r}]
shared = workers.SharedCases(cases, tempfile.mkdtemp())
busy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
child = workers.Worker("torch", ["torch"], busy, tempfile.mkdtemp(), tempfile.TemporaryFile())
helper = workers.fork_helper(shared, ["forward"], [child], jobs=2)  # waits for the child: two jobs
assert all(shared.take(i) for i in range(len(cases)))
started = time.perf_counter()
results = helper.results()
seconds = time.perf_counter() - started
child.stop()
print(json.dumps({{"results": results, "status": helper.exit_status, "seconds": seconds}}))
""")
    assert out["results"] == []
    assert out["status"] == -signal.SIGKILL  # killed, not waited for (it would have waited on)
    assert out["seconds"] < 50  # the child's minute was not sat through


@needs_linux
def test_fork_reason_refuses_a_process_with_other_threads():
    """Other threads (a framework's pool after its first operation, a test runner's) could hold a lock."""
    out = _script("""
import json, threading
from nnparity import workers
before = workers.fork_reason()
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
during = workers.fork_reason()
stop.set()
thread.join()
print(json.dumps({"before": before, "during": during}))
""")
    assert out["before"] is None
    assert out["during"] is not None and "1 thread(s) besides OpenBLAS's" in out["during"]


@needs_linux
@needs_keras
def test_tensorflow_starts_its_threads_at_its_first_operation_not_at_import():
    """What makes the fork after the import safe, and a fork after a Keras check refused."""
    out = _script("""
import json
from conformance.checks import Case, run_check
from frameworks import twin_class
twin_class("keras")
from nnparity import workers
imported = workers.fork_reason()
run_check("forward", Case("neuron", "keras", "float64"))
print(json.dumps({"imported": imported, "ran": workers.fork_reason()}))
""")
    assert out["imported"] is None
    assert out["ran"] is not None


def _fake_child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT)


@needs_torch
def test_a_helper_that_returns_other_cases_than_it_took_is_an_error(tmp_path):
    shared = workers.SharedCases(CASES, str(tmp_path / "cases"))
    os.mkdir(shared.directory)
    assert shared.take(0) and shared.take(1)  # the helper took case 2 ...
    directory = tmp_path / "out"
    directory.mkdir()
    # ... and returns the result of case 0 (a process of this one's standing in for the fork)
    (tmp_path / "other.json").write_text(json.dumps(
        [workers.result_to_dict(run_check("forward", Case("neuron", "torch", "float64")))]))
    process = _fake_child("import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])",
                          str(tmp_path / "other.json"), str(directory / "helped.json"))
    helper = workers.Helper(process.pid, str(directory), shared)
    with pytest.raises(RuntimeError, match=r"took cases \['xor-mse-torch-float64'\] but returned results for "
                                           r"\['neuron-torch-float64'\]"):
        helper.results()
    assert helper.exit_status == 0 and not directory.exists()


def test_a_helper_that_failed_is_an_error_with_its_output(tmp_path):
    shared = workers.SharedCases(CASES, str(tmp_path / "cases"))
    os.mkdir(shared.directory)
    assert shared.take(0)
    directory = tmp_path / "out"
    directory.mkdir()
    process = _fake_child("import sys; open(sys.argv[1], 'w').write('Traceback: a check broke'); sys.exit(1)",
                          str(directory / "log"))
    helper = workers.Helper(process.pid, str(directory), shared)
    with pytest.raises(RuntimeError, match=r"exited with status 1:\nTraceback: a check broke"):
        helper.results()


def test_stop_kills_a_running_child_or_helper_and_removes_its_files(tmp_path):
    """What `nnparity run` does for every child and the helper when a check raises or the run is interrupted."""
    for kind in ("worker", "helper"):
        directory = tempfile.mkdtemp(dir=tmp_path)
        process = _fake_child("import time; time.sleep(60)")
        if kind == "worker":
            worker = workers.Worker("torch", ["torch"], process, directory, tempfile.TemporaryFile())
        else:  # a Helper knows its process by pid alone, as fork gives it
            worker = workers.Helper(process.pid, directory, workers.SharedCases(CASES, directory))
        started = time.perf_counter()
        worker.stop()
        status = process.returncode if kind == "worker" else worker.exit_status
        assert status == -signal.SIGKILL, kind
        assert time.perf_counter() - started < 50 and not os.path.exists(directory)
        worker.stop()  # twice is harmless (results() stops it too)


@needs_linux
@needs_torch
@needs_keras
def test_a_failed_run_leaves_no_child_or_helper_running():
    """A check raising in the parent: the torch child and the helper are stopped, their files removed."""
    out = _script("""
import json, os
import conformance.checks
from nnparity import cli, workers
made = []
for name in ("start", "fork_helper"):
    def record(*args, real=getattr(workers, name), **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]
    setattr(workers, name, record)
def broken(check, case):
    raise RuntimeError("a check broke")
conformance.checks.run_check = broken
try:
    cli.main(["run", "--lesson", "neuron", "--framework", "torch", "--framework", "keras", "--check", "loss",
              "--jobs", "2"])
except RuntimeError as e:
    error = str(e)
child, helper = made
print(json.dumps({"error": error, "child": child.process.poll(), "helper": helper.exit_status,
                  "files": [os.path.exists(d) for d in (child.directory, helper.directory, helper.shared.directory)]}))
""")
    assert out["error"] == "a check broke"
    assert out["child"] is not None and out["helper"] is not None  # neither left running
    assert out["files"] == [False, False, False]


@needs_linux
@needs_torch
def test_one_framework_and_two_jobs_forks_a_helper_with_the_results_of_one_job():
    """`--framework torch --jobs 2`: the helper takes some of this process's cases; the results are --jobs 1's.

    Measured (whole catalog): no helper 10.9 s (keras) and 4.8 s (torch); with a helper about 7 s and 4-5 s,
    the same for the old subprocess helper and the fork (interleaved, docs/performance.md).
    """
    out = _script("""
import json, sys, tempfile
from nnparity import cli, workers
helpers, runs = [], {}
real = workers.fork_helper
def record(*args, **kwargs):
    helpers.append(real(*args, **kwargs))
    return helpers[-1]
workers.fork_helper = record
for jobs in (1, 2):
    path = tempfile.mktemp(suffix=".json")
    argv = ["run", "--lesson", "neuron", "--lesson", "xor-mse", "--lesson", "spiral", "--framework", "torch",
            "--check", "forward", "--check", "step", "--jobs", str(jobs), "--json", path]
    assert cli.main(argv) == 0
    runs[jobs] = json.load(open(path))["results"]
    if jobs == 1:
        assert helpers == []  # one job: no helper
[helper] = helpers
print(json.dumps({"runs": runs, "cases": len(helper.shared.cases), "helped": len(helper.shared.not_mine()),
                  "status": helper.exit_status}))
""")
    assert out["cases"] == 6  # this process's 3 lessons x 2 dtypes
    assert out["runs"]["1"] == out["runs"]["2"]
    # It helped and ended well. (A race, but a lopsided one: the helper takes the last case as soon as it is
    # forked, while the parent would first have to run five cases, its first torch operations among them.)
    assert out["helped"] >= 1 and out["status"] == 0, out


def _run_until_its_helper_started(tmp_path, *args: str) -> subprocess.Popen:
    """``nnparity run --framework torch --framework keras --jobs 2 ARGS`` in a session of its own, its temporary
    files under ``tmp_path``; returned once the torch child's directory and the helper's log exist (the
    log is the fork's first act)."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    run = subprocess.Popen([sys.executable, "-m", "nnparity", "run", "--framework", "torch", "--framework", "keras",
                            "--jobs", "2", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    while not (list(tmp_path.glob("nnparity-worker-*")) and list(tmp_path.glob("nnparity-helper-*/log"))):
        if run.poll() is not None or time.monotonic() > deadline:
            os.killpg(run.pid, signal.SIGKILL)
            pytest.fail(f"the run ended or stalled before its helper started: {run.communicate()[1][-3000:]}")
        time.sleep(0.05)
    time.sleep(0.5)  # past fork_helper's return in the parent
    return run


def _alive_in_group(pgid: int, marker: str = "") -> list[int]:
    """Processes of group ``pgid`` whose command line contains ``marker``, zombies left out."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = (pathlib.Path("/proc") / entry / "stat").read_text()
            cmdline = (pathlib.Path("/proc") / entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z" and marker in cmdline:
            alive.append(int(entry))
    return alive


def _gone(pgid: int, marker: str = "", seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while _alive_in_group(pgid, marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@needs_linux
@needs_torch
@needs_keras
def test_sigterm_stops_the_children_and_the_helper_and_leaves_no_files(tmp_path):
    """A CI job's timeout or `kill`: the run's clean-up, then exit 143 (cli.entry_point)."""
    run = _run_until_its_helper_started(tmp_path, "--lesson", "spiral", "--lesson", "circles", "--check", "all")
    try:
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=120)
        assert run.returncode == 128 + signal.SIGTERM, err[-3000:]
        assert _gone(run.pid), f"a process of the run outlived it: {_alive_in_group(run.pid)}"
        assert list(tmp_path.glob("nnparity-*")) == []
    finally:
        if _alive_in_group(run.pid):
            os.killpg(run.pid, signal.SIGKILL)


@needs_linux
@needs_torch
@needs_keras
def test_a_helper_dies_with_its_parent_even_a_killed_one(tmp_path):
    """SIGKILL leaves no clean-up: the helper goes by PR_SET_PDEATHSIG instead of running on alone."""
    run = _run_until_its_helper_started(tmp_path, "--check", "all")  # the whole catalog: minutes of work left
    try:
        assert len(_alive_in_group(run.pid, "nnparity run")) == 2  # the run and its fork
        run.kill()
        run.wait()
        assert _gone(run.pid, "nnparity run"), f"the helper outlived its parent: {_alive_in_group(run.pid)}"
    finally:  # the torch child, which a killed parent leaves to finish on its own (and anything left on a failure)
        if _alive_in_group(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
