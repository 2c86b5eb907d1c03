"""Run part of the conformance matrix in other processes: a child per Keras backend, and a helper.

Keras reads ``KERAS_BACKEND`` once per process (``frameworks/backends.py``), so
``nnparity run --framework keras-jax --framework keras-torch`` starts one child
per backend, with that backend in its environment::

    python -m nnparity.workers SPEC_JSON DIRECTORY   (it writes DIRECTORY/own.json)

The child runs the same ``run_check`` as everything else and writes every
result in full (the comparison item by item), so the parent prints and saves
them exactly as if it had run them itself.

With two cores, ``nnparity run`` runs torch in a child and Keras in the parent
(``parallel``). torch's share is the smaller (its import 1.4 s, Keras's 4.4 s,
and one ``tf.function`` trace per Keras case), so once the torch child is done, a
helper takes the parent's Keras cases from the back while the parent takes them
from the front, each case once (``SharedCases``). The helper is a ``fork`` of the
parent made right after the parent imported its frameworks and before it ran
anything (``fork_helper``): it starts with Keras already imported instead of
importing it a second time, and it waits for a core to be free (``--jobs``) before
it takes a case. Forking a process that holds threads is unsafe in general; here
the only threads are OpenBLAS's (which handles ``fork`` itself): TensorFlow, torch
and JAX start theirs at their first operation, not at import, and nothing has run
yet. On other systems than Linux there is no helper (``fork_reason``).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass

from conformance.cases import Case
from conformance.checks import CheckResult, run_check
from conformance.compare import Comparison, ItemReport
from frameworks.backends import KERAS_BACKENDS, backend_reason, worker_env


def split(frameworks: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(frameworks this process can run, {Keras backend: frameworks that need a child for it})."""
    here, elsewhere = [], {}
    for fw in frameworks:
        if backend_reason(fw) is None:
            here.append(fw)
        else:
            elsewhere.setdefault(KERAS_BACKENDS[fw], []).append(fw)
    return here, elsewhere


def result_to_dict(result: CheckResult) -> dict:
    return {"case": asdict(result.case), "check": result.check, "known": result.known, "info": result.info,
            "skipped": result.skipped, "comparison": asdict(result.comparison)}


def result_from_dict(d: dict) -> CheckResult:
    c = d["comparison"]
    items = []
    for item in c["items"]:
        item = dict(item)
        for key in ("shape", "max_abs_index", "max_rel_index"):
            item[key] = tuple(item[key])
        items.append(ItemReport(**item))
    comparison = Comparison(what=c["what"], atol=c["atol"], rtol=c["rtol"], items=items)
    return CheckResult(Case(**d["case"]), d["check"], comparison, info=d["info"], skipped=d["skipped"],
                       known=d["known"])


class SharedCases:
    """Cases of the parent that a helper may take from the back while the parent takes them from the front.

    A case is taken by creating its file in ``directory`` with ``O_CREAT | O_EXCL``: of two
    processes trying, exactly one succeeds, so every case runs once, in whichever process got it.
    """

    def __init__(self, cases: list[Case], directory: str):
        self.cases, self.directory = list(cases), directory
        self.mine: list[int] = []  # the cases this process took

    def take(self, i: int) -> bool:
        try:
            os.close(os.open(os.path.join(self.directory, str(i)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        self.mine.append(i)
        return True

    def not_mine(self) -> list[int]:
        """The cases the other process took (call it once every case is taken)."""
        mine = set(self.mine)
        return [i for i in range(len(self.cases)) if i not in mine]


def _write_json(path: str, payload) -> None:
    """Write whole or not at all: the parent may be waiting for the file to appear."""
    with open(path + ".part", "w") as fh:
        json.dump(payload, fh)
    os.replace(path + ".part", path)


@dataclass
class Worker:
    """A child process running the cases of one Keras backend (or of one framework, moved out by ``parallel``)."""

    backend: str
    frameworks: list[str]
    process: subprocess.Popen
    directory: str  # its results: own.json
    log: object  # the file its stdout and stderr go to

    def _output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """Kill the child if it still runs and remove its files (after ``results``, or when the parent fails)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def results(self) -> list[CheckResult]:
        """Its results, or a RuntimeError with the end of its output."""
        try:
            rc = self.process.wait()
            if rc != 0:
                raise RuntimeError(f"the {self.backend} worker for {', '.join(self.frameworks)} exited with "
                                   f"status {rc}:\n{self._output()[-3000:]}")
            with open(os.path.join(self.directory, "own.json")) as fh:
                return [result_from_dict(d) for d in json.load(fh)]
        finally:
            self.stop()


def parallel(here: list[str], elsewhere: dict[str, list[str]], jobs: int) -> tuple[list[str], dict[str, list[str]]]:
    """Move frameworks this process could run into children of their own, while ``jobs`` allows.

    Each framework's checks are independent of the others', so with two cores torch can run in
    a child while this process runs Keras: the run takes the longer of the two, not their sum.
    The last framework of ``here`` stays in this process (it prints the table, and the
    first-divergence walk of a failure runs here for every framework this process can import).
    """
    here, elsewhere = list(here), dict(elsewhere)
    while len(here) > 1 and len(elsewhere) + 1 < jobs:
        fw = here.pop(0)
        elsewhere[f"framework:{fw}"] = [fw]  # a key of its own: keras-torch is under "torch"
    return here, elsewhere


def start(frameworks: list[str], lessons: list[str], dtypes: list[str], checks: list[str],
          optimizers=(None,)) -> Worker:
    """Start a child for ``frameworks`` (all on one Keras backend, or one framework without Keras)
    over the given part of the matrix."""
    backend = {KERAS_BACKENDS.get(fw, fw) for fw in frameworks}
    if len(backend) != 1:
        raise ValueError(f"one worker runs one Keras backend; got {sorted(backend)} for {frameworks}")
    directory = tempfile.mkdtemp(prefix="nnparity-worker-")
    spec = {"frameworks": frameworks, "lessons": lessons, "dtypes": dtypes, "checks": checks,
            "optimizers": list(optimizers)}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "nnparity.workers", json.dumps(spec), directory],
        env=worker_env(frameworks[0]), stdout=log, stderr=subprocess.STDOUT,
    )
    return Worker(backend.pop(), frameworks, process, directory, log)


def run_spec(spec: dict) -> list[CheckResult]:
    results = []
    for fw in spec["frameworks"]:
        reason = backend_reason(fw)
        if reason:  # the parent gave this child the wrong environment
            raise RuntimeError(reason)
    for lesson in spec["lessons"]:
        for optimizer in spec.get("optimizers", [None]):
            for fw in spec["frameworks"]:
                for dtype in spec["dtypes"]:
                    for check in spec["checks"]:
                        results.append(run_check(check, Case(lesson, fw, dtype, optimizer)))
    return results


def help_with(shared: SharedCases, checks: list[str]) -> list[CheckResult]:
    """Take the parent's cases from the back while it takes them from the front; their results."""
    results = []
    for i in reversed(range(len(shared.cases))):
        if not shared.take(i):
            break  # met the parent: every case before this one is taken too
        results += [run_check(check, shared.cases[i]) for check in checks]
    return results


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


def fork_reason() -> str | None:
    """Why this process may not fork a helper now, or None.

    ``fork`` copies only the calling thread: a lock another thread held stays held in the
    child forever. So a helper is forked only while the process has no threads but the
    calling one and OpenBLAS's workers (``num_threads - 1`` per OpenBLAS library, which
    shuts them down before a fork itself: measured, 3 threads before, 1 in parent and child
    right after, until the next product): not once TensorFlow, torch's OpenMP or JAX have
    started their pools (at their first operation), nor inside a test runner's threads.
    """
    if not sys.platform.startswith("linux"):
        return f"a helper is a fork of this process, made on Linux only (this is {sys.platform})"
    from threadpoolctl import threadpool_info

    openblas = sum(max(lib["num_threads"] - 1, 0) for lib in threadpool_info() if lib["internal_api"] == "openblas")
    others = len(os.listdir("/proc/self/task")) - 1 - openblas
    if others > 0:
        return f"this process runs {others} thread(s) besides OpenBLAS's: a fork could inherit a lock one of them holds"
    return None


@dataclass
class Helper:
    """A fork of this process taking ``shared`` cases from the back (``fork_helper``)."""

    pid: int
    directory: str  # helped.json, and log (its stdout and stderr)
    shared: SharedCases
    exit_status: int | None = None  # set once reaped

    def _reap(self) -> int:
        if self.exit_status is None:
            self.exit_status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.exit_status

    def stop(self) -> None:
        """Kill the helper if it still runs and remove its files (after ``results``, or when the parent fails)."""
        if self.exit_status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                self._reap()
            except (ProcessLookupError, ChildProcessError):  # reaped by a call this one interrupted (SIGTERM)
                pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def results(self) -> list[CheckResult]:
        """The results of the cases it took, or a RuntimeError with the end of its output. Call it
        once this process has taken or seen taken every shared case."""
        try:
            taken = {self.shared.cases[i] for i in self.shared.not_mine()}
            if not taken:
                return []  # it took none (it may still be waiting for a core): ``stop`` kills it
            if (rc := self._reap()) != 0:
                with open(os.path.join(self.directory, "log"), errors="replace") as fh:
                    raise RuntimeError(f"the helper (a fork of this process) exited with status {rc}:\n"
                                       f"{fh.read()[-3000:]}")
            with open(os.path.join(self.directory, "helped.json")) as fh:
                helped = [result_from_dict(d) for d in json.load(fh)]
            if {r.case for r in helped} != taken:  # would be a bug in the sharing, not in a check
                raise RuntimeError(f"the helper took cases {sorted(c.id for c in taken)} "
                                   f"but returned results for {sorted({r.case.id for r in helped})}")
            return helped
        finally:
            self.stop()


def fork_helper(shared: SharedCases, checks: list[str], children: list[Worker] = (), jobs: int = 2) -> Helper:
    """Fork a helper that runs ``help_with(shared, checks)`` once a core is free.

    Call it after importing the frameworks of ``shared``'s cases and before running any of them
    (see the module doc and ``fork_reason``). At most ``jobs`` processes run checks: this one,
    the ``children`` still running and the helper, which waits until enough children have
    written their results. It stops when this process dies (``PR_SET_PDEATHSIG``).
    """
    directory = tempfile.mkdtemp(prefix="nnparity-helper-")
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns on any fork of a process with threads; here they are OpenBLAS's, which
        # stops them before a fork itself (its pthread_atfork handler), and fork_reason allows no other.
        warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks", category=DeprecationWarning)
        pid = os.fork()
    if pid:
        return Helper(pid, directory, shared)
    status = 1  # the helper, from here on: it leaves by os._exit, never back into the caller
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (cli: its run's clean-up)
    try:
        log = os.open(os.path.join(directory, "log"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(log, 1)  # TensorFlow's messages and any print go to its log, not over the parent's table
        os.dup2(log, 2)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # Linux: killed when the parent dies
        if os.getppid() != parent:  # ... or had died already
            os._exit(status)
        done_files = [os.path.join(child.directory, "own.json") for child in children]  # written as a child ends
        while len(children) - sum(os.path.exists(path) for path in done_files) > jobs - 2:
            time.sleep(0.01)
        helped = help_with(shared, checks)
        _write_json(os.path.join(directory, "helped.json"), [result_to_dict(r) for r in helped])
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(status)  # no atexit handlers or framework teardown: they belong to the parent


def main(argv=None) -> int:
    spec_json, directory = (argv if argv is not None else sys.argv[1:])
    _write_json(os.path.join(directory, "own.json"), [result_to_dict(r) for r in run_spec(json.loads(spec_json))])
    return 0


if __name__ == "__main__":
    from .cli import exit_now

    exit_now(main())  # the results file is written and closed: skip torch's and TensorFlow's teardown
