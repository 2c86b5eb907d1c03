"""Run part of the conformance matrix in a child process, one per Keras backend.

Keras reads ``KERAS_BACKEND`` once per process (``frameworks/backends.py``), so
``nnparity run --framework keras-jax --framework keras-torch`` starts one child
per backend, with that backend in its environment::

    python -m nnparity.workers SPEC_JSON DIRECTORY   (it writes DIRECTORY/own.json, helped.json)

The child runs the same ``run_check`` as everything else and writes every
result in full (the comparison item by item), so the parent prints and saves
them exactly as if it had run them itself.

With two cores, ``nnparity run`` runs torch in a child and Keras in the parent
(``parallel``). torch's share is the smaller (its import 1.4 s, Keras's 4.4 s,
and one ``tf.function`` trace per Keras case), so a child that has finished its
own cases helps the parent with its Keras cases (``SharedCases``): the parent
takes cases from the front, the child from the back, each case once. The child
imports Keras before it takes a case, on the core it would otherwise leave idle;
if the parent has taken every case by then, the parent stops the child instead
of waiting for it. Measured on the default run (34 Keras cases): the child takes
the last 4-5, and the run ends about a second sooner (docs/performance.md). With
one framework only, the helper is a child with no cases of its own (``start`` with
no lessons).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

from conformance.checks import Case, CheckResult, run_check
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
    """Cases of the parent that one child may take from the back while the parent takes them from the front.

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

    def spec(self) -> dict:
        return {"directory": self.directory, "cases": [asdict(c) for c in self.cases]}

    @classmethod
    def from_spec(cls, spec: dict) -> "SharedCases":
        return cls([Case(**c) for c in spec["cases"]], spec["directory"])


def _write_json(path: str, payload) -> None:
    """Write whole or not at all: the parent may be waiting for the file to appear."""
    with open(path + ".part", "w") as fh:
        json.dump(payload, fh)
    os.replace(path + ".part", path)


@dataclass
class Worker:
    """A child process running the cases of one Keras backend (and, if ``shared``, helping with the parent's)."""

    backend: str
    frameworks: list[str]
    process: subprocess.Popen
    directory: str  # its results: own.json, helped.json
    log: object  # the file its stdout and stderr go to
    shared: SharedCases | None = field(default=None)

    def _output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def _failed(self, rc: int) -> RuntimeError:
        return RuntimeError(f"the {self.backend} worker for {', '.join(self.frameworks)} exited with "
                            f"status {rc}:\n{self._output()[-3000:]}")

    def _read(self, name: str) -> list[CheckResult]:
        with open(os.path.join(self.directory, name)) as fh:
            return [result_from_dict(d) for d in json.load(fh)]

    def stop(self) -> None:
        """Kill the child if it still runs and remove its files (after ``results``, or when the parent fails)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def results(self) -> list[CheckResult]:
        """Its results (its own cases, then those it took from ``shared``), or a RuntimeError with the
        end of its output. Call it once this process has taken or seen taken every shared case."""
        try:
            if self.shared is not None and not self.shared.not_mine():
                # It helped with none: its own results are all there is. It may still be importing the
                # parent's framework to help (in vain): stop it instead of waiting for that.
                own = os.path.join(self.directory, "own.json")
                while not os.path.exists(own):
                    if (rc := self.process.poll()) is not None and not os.path.exists(own):
                        raise self._failed(rc)
                    time.sleep(0.01)
                return self._read("own.json")  # (read before ``stop`` below kills it and removes the files)
            rc = self.process.wait()
            if rc != 0:
                raise self._failed(rc)
            results = self._read("own.json")
            if self.shared is not None:
                helped = self._read("helped.json")
                expected = {self.shared.cases[i] for i in self.shared.not_mine()}
                if {r.case for r in helped} != expected:  # would be a bug in the sharing, not in a check
                    raise RuntimeError(f"the {self.backend} worker took cases {sorted(c.id for c in expected)} "
                                       f"but returned results for {sorted({r.case.id for r in helped})}")
                results += helped
            return results
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
          optimizers=(None,), shared: SharedCases | None = None) -> Worker:
    """Start a child for ``frameworks`` (all on one Keras backend, or one framework without Keras)
    over the given part of the matrix; with ``shared``, it then helps with those cases (same backend
    as this process only: it runs them in its own environment)."""
    backend = {KERAS_BACKENDS.get(fw, fw) for fw in frameworks}
    if len(backend) != 1:
        raise ValueError(f"one worker runs one Keras backend; got {sorted(backend)} for {frameworks}")
    directory = tempfile.mkdtemp(prefix="nnparity-worker-")
    spec = {"frameworks": frameworks, "lessons": lessons, "dtypes": dtypes, "checks": checks,
            "optimizers": list(optimizers), "shared": shared.spec() if shared else None}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "nnparity.workers", json.dumps(spec), directory],
        env=worker_env(frameworks[0]), stdout=log, stderr=subprocess.STDOUT,
    )
    return Worker(backend.pop(), frameworks, process, directory, log, shared)


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
    from frameworks import twin_class

    for fw in dict.fromkeys(c.framework for c in shared.cases):
        if reason := backend_reason(fw):  # only a child on the parent's backend may help it
            raise RuntimeError(reason)
        twin_class(fw)  # the import first, before taking a case the parent could have run meanwhile
    results = []
    for i in reversed(range(len(shared.cases))):
        if not shared.take(i):
            break  # met the parent: every case before this one is taken too
        results += [run_check(check, shared.cases[i]) for check in checks]
    return results


def main(argv=None) -> int:
    spec_json, directory = (argv if argv is not None else sys.argv[1:])
    spec = json.loads(spec_json)
    _write_json(os.path.join(directory, "own.json"), [result_to_dict(r) for r in run_spec(spec)])
    if spec.get("shared"):
        helped = help_with(SharedCases.from_spec(spec["shared"]), spec["checks"])
        _write_json(os.path.join(directory, "helped.json"), [result_to_dict(r) for r in helped])
    return 0


if __name__ == "__main__":
    from .cli import exit_now

    exit_now(main())  # the results files are written and closed: skip torch's and TensorFlow's teardown
