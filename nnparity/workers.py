"""Run part of the conformance matrix in a child process, one per Keras backend.

Keras reads ``KERAS_BACKEND`` once per process (``frameworks/backends.py``), so
``nnparity run --framework keras-jax --framework keras-torch`` starts one child
per backend, with that backend in its environment::

    python -m nnparity.workers SPEC.json RESULTS.json

The child runs the same ``run_check`` as everything else and writes every
result in full (the comparison item by item), so the parent prints and saves
them exactly as if it had run them itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass

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


@dataclass
class Worker:
    """A child process running the cases of one Keras backend."""

    backend: str
    frameworks: list[str]
    process: subprocess.Popen
    results_path: str
    log: object  # the file its stdout and stderr go to

    def results(self) -> list[CheckResult]:
        """Wait for the child; its results, or a RuntimeError with the end of its output."""
        rc = self.process.wait()
        self.log.seek(0)
        output = self.log.read().decode(errors="replace")
        self.log.close()
        try:
            if rc != 0:
                raise RuntimeError(f"the {self.backend} worker for {', '.join(self.frameworks)} exited with "
                                   f"status {rc}:\n{output[-3000:]}")
            with open(self.results_path) as fh:
                return [result_from_dict(d) for d in json.load(fh)]
        finally:
            os.unlink(self.results_path)


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
    spec = {"frameworks": frameworks, "lessons": lessons, "dtypes": dtypes, "checks": checks,
            "optimizers": list(optimizers)}
    fd, results_path = tempfile.mkstemp(prefix="nnparity-worker-", suffix=".json")
    os.close(fd)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "nnparity.workers", json.dumps(spec), results_path],
        env=worker_env(frameworks[0]), stdout=log, stderr=subprocess.STDOUT,
    )
    return Worker(backend.pop(), frameworks, process, results_path, log)


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


def main(argv=None) -> int:
    spec_json, results_path = (argv if argv is not None else sys.argv[1:])
    results = run_spec(json.loads(spec_json))
    with open(results_path, "w") as fh:
        json.dump([result_to_dict(r) for r in results], fh)
    return 0


if __name__ == "__main__":
    from .cli import exit_now

    exit_now(main())  # the results file is written and closed: skip torch's and TensorFlow's teardown
