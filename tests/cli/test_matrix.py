"""The matrix runner (conformance/matrix.py): how it shares the processes out, and what must hold whatever
process ran a case: the order of the results, every case once, a dead worker reported, no process left behind.

The scenarios that signal a whole ``nnparity run`` start it as a process of its own, in a session of its own,
and look for what is left of it in /proc (Linux).
"""

from __future__ import annotations

import multiprocessing
import os
import pathlib
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
from threadpoolctl import threadpool_info

from conformance.cases import DTYPES, Case
from conformance.checks import run_check
from conformance.matrix import Group, _plan, _start_worker, backend_of, run_matrix
from conformance.threads import REFERENCE_BLAS_THREADS
from frameworks import missing_reason
from frameworks.backends import process_backend

ROOT = pathlib.Path(__file__).resolve().parents[2]
needs_torch = pytest.mark.skipif(missing_reason("torch") is not None, reason=str(missing_reason("torch")))
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")

TORCH_CASES = [Case(lesson, "torch", dtype) for lesson in ("neuron", "xor-mse", "spiral") for dtype in DTYPES]


def _shape(groups: list[Group]) -> list[tuple[str, list[int], int]]:
    return [(g.backend, [i for i, _ in g.cases], g.workers) for g in groups]


def test_plan_groups_cases_by_keras_backend_in_order_and_shares_out_the_jobs():
    cases = [Case("neuron", "keras-jax", "float64"), Case("neuron", "torch", "float64"),
             Case("neuron", "keras", "float64"), Case("spiral", "torch", "float64"),
             Case("spiral", "keras", "float64")]
    jax, mine = backend_of("keras-jax"), process_backend()
    if jax == mine:
        pytest.skip("this process runs Keras on JAX: keras-jax needs no group of its own")
    ours = [i for i, c in enumerate(cases) if backend_of(c.framework) == mine]
    theirs = [i for i, c in enumerate(cases) if backend_of(c.framework) != mine]
    assert backend_of("torch") == mine  # torch runs on any backend: this process's group
    here, pooled = _plan(cases, jobs=2)
    assert here is None  # two jobs and more than one case of this process: a pool
    assert _shape(pooled) == [(jax, [0], 1), (mine, ours, 1)]  # in order of first appearance
    here, pooled = _plan(cases, jobs=4)  # two spare workers, both to the group with the most cases per worker
    assert _shape(pooled) == [(jax, [0], 1), (mine, ours, 3)]
    here, pooled = _plan(cases, jobs=1)  # one job: this process runs its own cases, the others wait their turn
    assert _shape([here]) == [(mine, ours, 1)] and _shape(pooled) == [(jax, theirs, 1)]
    here, pooled = _plan(cases[1:2], jobs=2)  # one case of this process: no pool for it
    assert _shape([here]) == [(mine, [0], 1)] and pooled == []
    here, pooled = _plan(cases[:2] * 3, jobs=16)
    assert [g.workers for g in pooled] == [3, 3]  # never more workers than cases


def test_zero_jobs_is_refused():
    with pytest.raises(ValueError, match="jobs must be at least 1. Received: jobs=0"):
        run_matrix(TORCH_CASES, ["forward"], jobs=0)


@needs_torch
def test_two_workers_give_every_result_once_in_order_as_this_process_computes_it():
    """Two processes share the cases (whichever is free takes the next): cases x checks come back in order."""
    checks = ["forward", "step"]
    arrived = []
    results = run_matrix(TORCH_CASES, checks, jobs=2, on_result=arrived.append)
    assert [(r.case, r.check) for r in results] == [(c, k) for c in TORCH_CASES for k in checks]
    assert sorted((r.case.id, r.check) for r in arrived) == sorted((r.case.id, r.check) for r in results)
    for r in results:
        assert r.to_json() == run_check(r.check, r.case).to_json()
    assert multiprocessing.active_children() == []  # the pool's workers ended with the run


@needs_torch
def test_a_worker_limits_every_pool_to_its_threads_and_numpy_s_blas_to_one():
    """``_start_worker`` with 2 threads: torch's OpenMP (threadpoolctl's view) has 2, NumPy's BLAS,
    which runs the reference, 1 (conformance/threads.py)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                             initargs=(process_backend(), ["torch"], 2)) as pool:
        pools = pool.submit(threadpool_info).result(timeout=300)
    blas = [p["num_threads"] for p in pools if p["user_api"] == "blas"]
    others = [p["num_threads"] for p in pools if p["user_api"] != "blas"]
    assert blas and set(blas) == {REFERENCE_BLAS_THREADS}, pools
    assert others and set(others) == {2}, pools


@needs_torch
def test_a_check_that_raises_in_a_worker_raises_here_and_leaves_no_worker():
    cases = [*TORCH_CASES[:2], Case("no-such-lesson", "torch", "float64")]
    with pytest.raises(Exception, match="no-such-lesson"):
        run_matrix(cases, ["forward"], jobs=2)
    assert _children_after(seconds=10) == []  # killed workers: their pool's thread may still be reaping one


@needs_torch
def test_a_worker_that_dies_is_reported_with_its_case_not_waited_for():
    """A worker killed from outside (the OOM killer, a stray ``kill``) while cases are left: an error naming
    the case, at once, and the other worker stopped too."""
    def kill_the_workers(result):
        for child in multiprocessing.active_children():
            child.kill()

    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"a worker process for torch \(Keras backend \w+\) died before "
                                           r"(neuron|xor-mse|spiral)-torch-float(64|32) was done"):
        run_matrix(TORCH_CASES, ["trajectory"], jobs=2, on_result=kill_the_workers)
    assert time.monotonic() - started < 240
    assert _children_after(seconds=10) == []  # the broken pool's own thread ends the rest: give it 10 s


def _children_after(seconds: float) -> list:
    """This process's children still alive after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    return multiprocessing.active_children()


def _run_in_its_own_session(*args: str) -> subprocess.Popen:
    """``nnparity run --framework torch --jobs 2 ARGS`` in a session of its own, returned once both its
    workers (spawned processes, ``--multiprocessing-fork`` on their command lines) have loaded torch: their
    initializer has run, they are taking cases."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.Popen([sys.executable, "-m", "nnparity", "run", "--framework", "torch", "--jobs", "2", *args],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while sum(_has_loaded(pid, "libtorch") for pid in _alive_in_group(run.pid, "--multiprocessing-fork")) < 2:
        if run.poll() is not None or time.monotonic() > deadline:
            os.killpg(run.pid, signal.SIGKILL)
            pytest.fail(f"the run ended or stalled before its workers started: {run.communicate()[1][-3000:]}")
        time.sleep(0.05)
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


def _has_loaded(pid: int, library: str) -> bool:
    try:
        return library in (pathlib.Path("/proc") / str(pid) / "maps").read_text()
    except OSError:  # gone meanwhile
        return False


def _gone(pgid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while _alive_in_group(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@needs_linux
@needs_torch
def test_sigterm_stops_the_workers_and_exits_143():
    """A CI job's timeout or `kill`: the workers killed, then exit 143 (cli.entry_point), nothing left behind."""
    run = _run_in_its_own_session("--lesson", "spiral", "--lesson", "circles", "--check", "all")
    try:
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 128 + signal.SIGTERM, err[-3000:]
        assert _gone(run.pid), f"a process of the run outlived it: {_alive_in_group(run.pid)}"
        assert "Traceback" not in err, err[-3000:]
    finally:
        if _alive_in_group(run.pid):
            os.killpg(run.pid, signal.SIGKILL)


@needs_linux
@needs_torch
def test_workers_end_with_a_parent_killed_without_clean_up():
    """SIGKILL runs no handler: each worker sees its parent gone and ends on its own, busy or idle."""
    run = _run_in_its_own_session("--check", "all")  # the whole catalog: minutes of work left
    try:
        run.kill()
        run.wait()
        assert _gone(run.pid), f"a worker outlived its killed parent: {_alive_in_group(run.pid)}"
    finally:
        if _alive_in_group(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
