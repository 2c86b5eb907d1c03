"""The one runner of the conformance matrix: every check of every case, in pools of processes.

    run_matrix(cases, checks, jobs) -> [CheckResult, ...]   in the order cases x checks

``nnparity run`` and ``nnparity report`` run the matrix through it. A case's checks run one
after the other in one process, through the same ``run_check`` as the pytest suite; the
results come back in the order of ``cases``, then of ``checks``, whichever process ran them.

Processes. Keras reads ``KERAS_BACKEND`` once, at its import, so a process runs Keras on one
backend only (``frameworks/backends.py``). The cases are grouped by the Keras backend they need
(torch runs on any: its cases join the group of this process's backend), and each group runs in
a ``concurrent.futures.ProcessPoolExecutor`` of its own. Its processes are started by
``multiprocessing``'s ``spawn`` (a fresh interpreter, never a ``fork`` of a process holding
threads), and its initializer (``_start_worker``) sets the group's backend, limits the threads
and imports the group's frameworks, once per process. At most ``jobs`` processes run checks at
once: the groups share them out (``_plan``), and a group that finds none free waits for a pool
to finish.

Threads. A worker gets ``cores // jobs`` threads (at least one) for torch, TensorFlow, XLA (Keras
on JAX) and any OpenMP pool (``threadpoolctl``), so that the processes together use no more threads
than cores: on 2 cores with 2 jobs, 2 processes of 1 thread each. NumPy's BLAS, which runs the
reference, gets one thread in every process (``threads.py``).

This process. With ``jobs=1``, or when the cases this process can run are a single case (a
pool would cost a process start and the frameworks' imports, and share nothing), those cases
run here, one after the other, and see what a test patched in this process; a worker process
does not (a test that patches runs a single case, or passes ``jobs=1``).

Lesson files. The lesson files this process added (``conformance/lesson_files.py``: ``nnparity run
--lessons``) are added in each worker too, by its initializer: a case names its lesson, and a
worker looks the name up in its own catalog.

Failures. A check that raises in a worker raises here (with the worker's traceback as its
cause); a worker that dies makes ``run_matrix`` raise a RuntimeError naming the case, not wait.
Either way every worker still running is killed before the error leaves ``run_matrix`` (a pool
broken this way can still be reaping one of them for a moment after: seen once in ten runs under load).
``stop_workers`` kills them from a signal handler (``nnparity``'s SIGTERM), and a worker whose
parent died without any clean-up (SIGKILL) ends on its own (``_exit_with_parent``).
Like every pool of spawned processes, a script that calls ``run_matrix`` must do so under
``if __name__ == "__main__":`` (a worker imports the script's main module again).
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from conformance.lesson_files import add_lesson_files, lesson_files
from frameworks import twin_class
from frameworks.backends import KERAS_BACKENDS, process_backend

from .cases import Case
from .checks import CheckResult, run_check
from .threads import THREAD_VARIABLES, cores, limit_reference_blas

@dataclass
class Group:
    """The cases of one Keras backend (with their places in the matrix) and the worker processes they get."""

    backend: str
    cases: list[tuple[int, Case]] = field(default_factory=list)
    workers: int = 1

    @property
    def frameworks(self) -> list[str]:
        return list(dict.fromkeys(case.framework for _, case in self.cases))


def backend_of(framework: str) -> str:
    """The Keras backend a process needs for ``framework``: its own for Keras, this process's for torch."""
    return KERAS_BACKENDS.get(framework) or process_backend()


def _plan(cases: list[Case], jobs: int) -> tuple[Group | None, list[Group]]:
    """(the group this process runs itself or None, the groups for pools with their workers).

    Every pooled group gets one worker, and the workers ``jobs`` leaves over go one by one to the
    group with the most cases per worker (never more workers than cases).
    """
    groups: dict[str, Group] = {}
    for i, case in enumerate(cases):
        groups.setdefault(backend_of(case.framework), Group(backend_of(case.framework))).cases.append((i, case))
    mine = groups.get(process_backend())
    here = groups.pop(mine.backend) if mine and (jobs == 1 or len(mine.cases) == 1) else None
    spare = jobs - (here is not None) - len(groups)
    while spare > 0:
        wanting = [g for g in groups.values() if g.workers < len(g.cases)]
        if not wanting:
            break
        max(wanting, key=lambda g: len(g.cases) / g.workers).workers += 1
        spare -= 1
    return here, list(groups.values())


def run_matrix(cases, checks, jobs: int = 1, on_result=None) -> list[CheckResult]:
    """Every check of every case, in the order cases x checks; ``on_result(result)`` as each arrives."""
    cases, checks = list(cases), list(checks)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1. Received: jobs={jobs}")
    here, pooled = _plan(cases, jobs)
    pools = _Pools(checks, jobs - (here is not None), max(1, cores() // jobs), on_result)
    try:
        pools.start(pooled)
        if here is not None:
            pools.run_here(here)
        pools.finish()
    finally:
        pools.kill()
    return [result for i in range(len(cases)) for result in pools.found[i]]


class _Pools:
    """The pools of one run: started while workers are free (``jobs``), their results collected as they come."""

    def __init__(self, checks, free: int, threads: int, on_result):
        self.checks, self.free, self.threads, self.on_result = checks, free, threads, on_result
        self.waiting: list[Group] = []
        self.running: dict[Future, tuple[Case, Group, ProcessPoolExecutor]] = {}
        self.live: dict[ProcessPoolExecutor, Group] = {}  # the pools started and not yet closed
        self.found: dict[int, list[CheckResult]] = {}  # a case's place in the matrix -> its results

    def _found(self, i: int, results: list[CheckResult]) -> None:
        self.found[i] = results
        for result in results:
            if self.on_result:
                self.on_result(result)

    def run_here(self, group: Group) -> None:
        """Run ``group``'s cases in this process (its job), then give its place to the pools."""
        for i, case in group.cases:
            self._found(i, [run_check(check, case) for check in self.checks])
        self.free += 1

    def start(self, groups: list[Group]) -> None:
        """Start a pool for each group that finds its workers free, in order; the others wait."""
        self.waiting += groups
        while self.waiting and self.waiting[0].workers <= self.free:  # _plan: never more than jobs
            group = self.waiting.pop(0)
            self.free -= group.workers
            pool = ProcessPoolExecutor(group.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker,
                                       initargs=(group.backend, group.frameworks, self.threads, lesson_files()))
            self.live[pool] = group
            for i, case in group.cases:
                self.running[pool.submit(_run_case, case, self.checks, i)] = (case, group, pool)

    def finish(self) -> None:
        """Collect every result, starting the waiting pools as others finish."""
        self.start([])
        while self.running:
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            for future in done:
                case, group, pool = self.running.pop(future)
                try:
                    i, results = future.result()
                except BrokenProcessPool as exc:
                    raise RuntimeError(f"a worker process for {', '.join(group.frameworks)} (Keras backend "
                                       f"{group.backend}) died before {case.id} was done: {exc}") from exc
                self._found(i, results)
                if not any(p is pool for _, _, p in self.running.values()):
                    self._close(pool)
            self.start([])

    def _close(self, pool: ProcessPoolExecutor) -> None:
        """A pool whose cases are all done: its workers end (``_exit_at_once``), their places are free."""
        group = self.live.pop(pool)
        pool.shutdown(wait=True)
        self.free += group.workers

    def kill(self) -> None:
        """Kill the workers of every pool still open (after an error; a no-op after a run that finished)."""
        for pool in self.live:
            _kill(pool)
        self.live.clear()


def _kill(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes now, running or not (Python 3.14's ``kill_workers``; before it,
    the same through the executor's table of its processes)."""
    if hasattr(pool, "kill_workers"):
        pool.kill_workers()
        return
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()
    # a pool broken by a dead worker ends its other workers from its own thread: wait for that thread too,
    # so no process of this pool is left when the error leaves run_matrix (seen under load: one still alive)
    pool.shutdown(wait=True, cancel_futures=True)


def stop_workers() -> None:
    """Kill every worker process of this process (a signal handler's clean-up: ``nnparity``'s SIGTERM).

    They are ``multiprocessing``'s children of this process, which in ``nnparity`` are the runner's alone.
    """
    children = multiprocessing.active_children()
    for child in children:
        child.kill()
    for child in children:
        child.join()


def _start_worker(backend: str, frameworks: list[str], threads: int, files: tuple[str, ...] = ()) -> None:
    """A worker's initializer: its Keras backend and thread limits, then its frameworks, imported once; the
    lesson files this process added (``nnparity run --lessons``), added to the worker's catalog too."""
    threading.Thread(target=_exit_with_parent, name="exit with the parent", daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the workers
    os.environ["KERAS_BACKEND"] = backend  # before Keras's import: it reads it once
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if backend == "jax":  # XLA's CPU thread pool (Keras on JAX), read at JAX's first use
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), "--xla_cpu_multi_thread_eigen=false",
                                            f"intra_op_parallelism_threads={threads}"]).strip()
    for framework in sorted(frameworks, key=lambda fw: fw != "torch"):  # torch before Keras (keras_config.py)
        twin_class(framework)
    _limit_framework_threads(threads)
    add_lesson_files(files)  # the lessons of nnparity run --lessons (their data loads here: before threadpool_limits)
    threadpool_limits(threads)  # NumPy's BLAS (loaded before this ran) and any OpenMP a framework brought
    limit_reference_blas()  # and NumPy's BLAS on one thread in any case (threads.py)
    atexit.register(_exit_at_once)  # the last registered runs first: before the frameworks' own handlers


def _limit_framework_threads(threads: int) -> None:
    """torch's and TensorFlow's own pools, for those the worker imported (before either has run an op)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None:
        tensorflow.config.threading.set_intra_op_parallelism_threads(threads)
        tensorflow.config.threading.set_inter_op_parallelism_threads(threads)


def _run_case(case: Case, checks: list[str], i: int) -> tuple[int, list[CheckResult]]:
    """A worker's task: every check of one case, with the case's place in the matrix."""
    return i, [run_check(check, case) for check in checks]


def _exit_with_parent() -> None:
    """A worker's watch: end as soon as the process that started it ends, however it ended (SIGKILL runs
    no clean-up). An idle worker would otherwise wait for a next case forever."""
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(1)


def _exit_at_once() -> None:
    """A worker's exit without torch's and TensorFlow's teardown (1 to 2 s each time; nothing is left to
    save: its results went back through the pool, and it writes no files)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
