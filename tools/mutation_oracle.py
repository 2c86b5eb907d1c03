"""Judge mutmut's surviving mutants again, with the conformance checks against another framework.

mutmut runs each mutant in a child forked from one process, and TensorFlow does not
survive a fork once it has started (children hang), so ``mutmut run``'s oracle is the
conformance suite against torch (pyproject.toml, [tool.mutmut]). Some reference code
is checked by Keras alone: the Keras conventions of BCE and CCE on probabilities,
Keras's truncated-normal initializers. This script takes the mutants that run left
alive, and runs the same conformance checks (``checks.run_check`` and
``components.run_component``) against Keras, in this one process, switching from
mutant to mutant with mutmut's own trampoline (``MUTANT_UNDER_TEST``).

    mutmut run && python tools/mutation_oracle.py --framework keras --json out/mutation-keras.json

A mutant is killed when a check fails or raises. Prints one line per mutant.

With ``--tests``, the oracle is pytest itself, run in this process on the test files named (the
convention tests, against torch and Keras: they need no fork). ``--make FILE`` first writes the
mutants of those files only, with mutmut's own generator and without its test runs; then every
mutant of those files is judged (``--sample N`` a uniform sample of them, ``--seed``), each with
the tests that reach its function (mutmut's "stats" trampoline, recorded in one clean run), ``-x``::

    python tools/mutation_oracle.py --make reference/layernorm.py
    python tools/mutation_oracle.py --files reference/layernorm.py --tests conformance/tests/test_layernorm_conventions.py \
        --then-tests tests/reference --json out/mutation-layernorm.json

``--then-tests`` are run on what ``--tests`` left alive, and counted apart (the conformance suite
alone, then with tests/). A mutant is killed when a test fails; "timeout" (``--timeout``) and
"no tests" (no test reaches its function) count as not killed, as in mutmut.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
# Before any project import: `reference` must be mutmut's copy (with the trampolines), not the worktree's.
# (Imported after sys.path had changed, the module loaded here first would stay: no mutant would ever run.)
sys.path[:0] = [str(MUTANTS)] if MUTANTS.is_dir() else []

import pytest
from mutmut.__main__ import create_file_mutants
from mutmut.configuration import config as mutmut_config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.state import state as mutmut_state
from mutmut.utils.file_utils import copy_src_dir

import reference
from conformance.cases import DTYPES, Case
from conformance.checks import CHECKS, run_check
from conformance.checks.components import all_components, run_component
from conformance.lessons import LESSONS
from conformance.tests.edges import EDGE_CHECKS, EDGES

ALIVE = ("survived", "no tests", "timeout", "suspicious")


def mutmut_statuses(root: Path) -> dict[str, str]:
    """{mutant name: status} from ``mutmut results --all true``."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status.strip()
    return statuses


def oracle(framework: str, checks=None, edges: bool = False):
    """A function mutant -> (killed, by what): the conformance checks (``checks``, default all) against
    ``framework``; with ``edges``, first the numerical edges of conformance/tests/edges.py (saturated
    outputs: where the frameworks' clipping conventions show), judged as ``test_edge`` judges them."""
    components = all_components([framework])
    cases = [Case(lesson, framework, dtype) for lesson in LESSONS for dtype in DTYPES]
    edge_runs = []
    if edges:
        edge_runs = [(check, Case(name, framework, dtype), lesson) for name, lesson in EDGES.items()
                     for dtype in DTYPES for check in EDGE_CHECKS]

    def judge(mutant: str) -> tuple[bool, str]:
        os.environ["MUTANT_UNDER_TEST"] = mutant
        try:
            for check, case, lesson in edge_runs:  # a known difference (xfail in test_edge) is not a failure
                if run_check(check, case, lesson=lesson).status == "failed":
                    return True, f"{check} of edge {case.id}"
            for component in components:
                if not run_component(component).passed:
                    return True, component.id
            for case in cases:
                for check in checks or CHECKS:
                    if not run_check(check, case).passed:
                        return True, f"{check} of {case.id}"
            return False, ""
        except Exception as exc:  # a check that raises is a failing test: the mutant is killed
            return True, f"raised {type(exc).__name__}"
        finally:
            os.environ["MUTANT_UNDER_TEST"] = ""

    return judge


# pytest in this process, many times: quiet (no terminal reporter, so no -ra of addopts), in the order written.
PYTEST_ARGS = ["-p", "no:terminal", "-o", "addopts=--strict-markers", "-p", "no:randomly", "-p", "no:xdist", "-p", "no:cacheprovider",
               "-W", "ignore::DeprecationWarning"]


def make_mutants(files: list[str]) -> dict[str, int]:
    """mutmut's own generator over ``files`` only (run from the repository root): mutants/ gets a copy of
    the source paths (pyproject.toml, [tool.mutmut]) with these files mutated, and their .meta files.
    No test runs. Returns {file: mutants made}."""
    copy_src_dir()
    made = {}
    for name in files:
        result = create_file_mutants(Path(name))
        if result.error:
            raise result.error
        made[name] = len(mutant_names([name]))
    return made


def mutant_names(files: list[str]) -> list[str]:
    """Every mutant mutmut made of ``files``, sorted (mutants/<file>.meta)."""
    names = []
    for name in files:
        data = SourceFileMutationData(path=Path(name))
        data.load()
        if not data.exit_code_by_key:
            raise SystemExit(f"no mutants of {name} in {MUTANTS}: run --make {name} first")
        names += sorted(data.exit_code_by_key)
    return names


class _Reach:
    """pytest plugin: under MUTANT_UNDER_TEST=stats every trampoline records its function
    (mutmut.stats.record_trampoline_hit); this files each test under the functions it reached, and
    under every function reached while the test modules were imported (a table of reference results, an
    activation built once; one test module imports another's tables, so which module's tests depend on
    them is not known: all are run)."""

    def __init__(self):
        self.tests_by_function = defaultdict(list)
        self.at_import = set()
        self.failed = []

    def pytest_collection_finish(self, session):
        self.at_import = set(mutmut_state()._stats)
        mutmut_state()._stats.clear()

    def pytest_runtest_teardown(self, item):
        for function in set(mutmut_state()._stats) | self.at_import:
            self.tests_by_function[function].append(item.nodeid)
        mutmut_state()._stats.clear()

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)


class _FirstFailure:
    """pytest plugin: the first test that failed (the run stops there: ``-x``)."""

    def __init__(self):
        self.nodeid, self.timed_out = "", False

    def pytest_runtest_logreport(self, report):
        if report.failed and not self.nodeid:
            self.nodeid = report.nodeid

    def pytest_collectreport(self, report):  # a test module that fails to import (it computes at import)
        if report.failed and not self.nodeid:
            self.nodeid = f"{report.nodeid} (its import fails)"


class MutantTimedOut(Exception):
    pass


def reach(tests: list[str]) -> dict[str, list[str]]:
    """{function: the tests that call it}, from one run of ``tests`` with no mutant; each test must pass,
    and each must fail with MUTANT_UNDER_TEST=fail (every trampoline raises: proves they are mutmut's)."""
    os.environ["MUTANT_UNDER_TEST"] = "fail"
    if pytest.main(["-x", *PYTEST_ARGS, *tests]) == 0:
        raise SystemExit(f"{tests} pass with every mutated function raising: they do not run {MUTANTS}'s code")
    plugin = _Reach()
    forget_test_modules(tests)  # imported again under "stats", so that their import-time calls are seen
    os.environ["MUTANT_UNDER_TEST"] = "stats"
    code = pytest.main([*PYTEST_ARGS, *tests], plugins=[plugin])
    os.environ["MUTANT_UNDER_TEST"] = ""
    if code != 0:
        raise SystemExit(f"without any mutant, {tests} fail (exit {code}): {plugin.failed[:5]}")
    return dict(plugin.tests_by_function)


def forget_test_modules(tests: list[str]) -> None:
    """Drop the test modules of ``tests`` (test ids, files or folders) from sys.modules, so that pytest imports
    them again, with the mutant active: a test module that computes at import (a table of reference results,
    an activation built once) would otherwise keep what the unmutated reference computed in the first run,
    and no mutant of that code could fail it (a broken reference would, in a fresh process)."""
    paths = {(ROOT / test.split("::")[0]).resolve() for test in tests}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and any(path == Path(file).resolve() or path in Path(file).resolve().parents for path in paths):
            del sys.modules[name]


def run_tests(mutant: str, tests: list[str], timeout: float) -> tuple[str, str]:
    """(status, the first failing test) of ``tests`` with ``mutant`` active: killed, survived or timeout."""
    catcher = _FirstFailure()

    def time_up(signum, frame):
        catcher.timed_out = True
        raise MutantTimedOut(f"{mutant} ran over {timeout} s")

    forget_test_modules(tests)
    previous = signal.signal(signal.SIGALRM, time_up)
    os.environ["MUTANT_UNDER_TEST"] = mutant
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        code = pytest.main(["-x", *PYTEST_ARGS, *tests], plugins=[catcher])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.environ["MUTANT_UNDER_TEST"] = ""
    if catcher.timed_out:
        return "timeout", catcher.nodeid
    return ("killed", catcher.nodeid) if code != 0 else ("survived", "")


def judge_with_tests(mutant: str, oracles: list[dict[str, list[str]]], timeout: float) -> dict:
    """Each oracle ({function: tests}) in turn, until one kills ``mutant``; ``oracle`` is its index."""
    function = mutant.rpartition("__mutmut_")[0]
    verdict = {"status": "no tests", "by": "", "oracle": None}
    for index, tests_by_function in enumerate(oracles):
        tests = tests_by_function.get(function, [])
        if not tests:
            continue
        status, by = run_tests(mutant, tests, timeout)
        verdict = {"status": status, "by": by, "oracle": index}
        if status == "killed":
            break
    return verdict


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion killed / n (a sample's score)."""
    if n == 0:
        return 0.0, 1.0
    p = killed / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def pytest_mode(args) -> int:
    """--tests: judge every mutant (or a sample) of --files with the tests, in this process."""
    if not str(Path(reference.__file__).resolve()).startswith(str(MUTANTS)):
        raise SystemExit(f"reference was imported from {reference.__file__}, not {MUTANTS}: run --make first")
    if (MUTANTS / "conformance").exists():
        raise SystemExit(f"{MUTANTS} holds a copy of conformance/ (a `mutmut run`): remove it; --make copies only reference/")
    names = mutant_names(args.files)
    if args.again:  # only those an earlier run's --tests left alive (its --json), e.g. after tests were added
        earlier = json.loads(Path(args.again).read_text())
        names = [m for m in names if m in earlier and not (earlier[m]["status"] == "killed" and earlier[m]["oracle"] == 0)]
    if args.only:  # the mutants of named functions, e.g. reference.training_conventions.xǁScheduled
        names = [m for m in names if m.startswith(tuple(args.only))]
    if args.sample:  # judged in the sample's random order: a run stopped early has judged a uniform sample too
        names = random.Random(args.seed).sample(names, min(args.sample, len(names)))
    json_path = Path(args.json) if args.json else None
    results = json.loads(json_path.read_text()) if json_path and json_path.exists() else {}
    oracles = [reach(args.tests)] + ([reach(args.then_tests)] if args.then_tests else [])
    for mutant in names:
        if mutant in results:  # judged by an earlier, interrupted run of the same command
            continue
        start = time.perf_counter()
        results[mutant] = judge_with_tests(mutant, oracles, args.timeout)
        results[mutant]["seconds"] = round(time.perf_counter() - start, 2)
        r = results[mutant]
        print(f"{r['status']:8} {mutant} {r['seconds']} s {r['by']}", flush=True)
        if json_path:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    summarize({m: results[m] for m in names}, sampled=bool(args.sample))
    return 0


def summarize(results: dict, sampled: bool) -> None:
    n = len(results)
    first = sum(r["status"] == "killed" and r["oracle"] == 0 for r in results.values())
    both = sum(r["status"] == "killed" for r in results.values())
    for what, killed in (("--tests", first), ("--tests and --then-tests", both)):
        low, high = wilson(killed, n)
        print(f"{what}: {killed} of {n} mutants killed ({killed / max(n, 1):.1%}"
              + (f"; 95% interval {low:.1%} to {high:.1%}, a sample)" if sampled else ")"))


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", default="keras")
    parser.add_argument("--json", metavar="FILE", help="write {mutant: {status, killed, by}} to FILE")
    parser.add_argument("--only", action="append", metavar="PREFIX",
                        help="judge only the mutants whose name starts with PREFIX (repeatable), e.g. reference.losses")
    parser.add_argument("--check", action="append", dest="checks", metavar="CHECK",
                        help="run only this lesson check (repeatable; default every check of conformance/checks/__init__.py)")
    parser.add_argument("--edges", action="store_true",
                        help="also run the numerical edges of conformance/tests/edges.py (first)")
    parser.add_argument("--make", action="append", metavar="FILE",
                        help="write the mutants of FILE (repeatable) with mutmut's generator, run nothing, and stop")
    parser.add_argument("--files", action="append", metavar="FILE", help="with --tests: judge every mutant of FILE")
    parser.add_argument("--tests", action="append", metavar="PATH",
                        help="the oracle is pytest on PATH (repeatable; a file, a folder or a test id), in this process")
    parser.add_argument("--then-tests", action="append", metavar="PATH",
                        help="with --tests: then these, on the mutants --tests left alive (counted apart)")
    parser.add_argument("--again", metavar="JSON",
                        help="with --tests: judge only the mutants an earlier run's --tests left alive (its --json)")
    parser.add_argument("--sample", type=int, metavar="N", help="with --tests: a uniform sample of N mutants")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="with --tests: seconds a mutant's tests may take (default 120; then 'timeout', not killed)")
    args = parser.parse_args(argv)
    if args.tests and not args.files:
        parser.error("--tests judges the mutants of --files: name at least one")
    return parser, args


def main(argv=None) -> int:
    parser, args = parse(argv)
    os.chdir(ROOT)
    os.environ["MUTANT_UNDER_TEST"] = ""
    mutmut_config()  # read from ROOT's pyproject.toml, before anything changes directory
    if args.make:
        for name, made in make_mutants(args.make).items():
            print(f"{name}: {made} mutants")
        return 0
    if args.tests:
        return pytest_mode(args)
    return keras_pass(parser, args)


def keras_pass(parser, args) -> int:
    """Judge mutmut's survivors again with the conformance checks against --framework."""
    if not MUTANTS.is_dir():
        parser.error(f"{MUTANTS} not found: run `mutmut run` first")
    if not str(Path(reference.__file__).resolve()).startswith(str(MUTANTS)):
        parser.error(f"reference was imported from {reference.__file__}, not {MUTANTS}")
    alive = {m: s for m, s in mutmut_statuses(ROOT).items()
             if s in ALIVE and (not args.only or m.startswith(tuple(args.only)))}
    json_path = Path(args.json).resolve() if args.json else None
    os.chdir(MUTANTS)
    judge = oracle(args.framework, args.checks, edges=args.edges)
    failing, by = judge("")
    if failing:
        parser.error(f"without any mutant, {by} already fails against {args.framework}: fix that first")
    results = {}
    for mutant, status in sorted(alive.items()):
        killed, by = judge(mutant)
        results[mutant] = {"status": status, "killed": killed, "by": by}
        print(f"{'killed' if killed else 'ALIVE '} {mutant} ({status}){': ' + by if by else ''}", flush=True)
    print(f"{sum(r['killed'] for r in results.values())} of {len(results)} mutants left alive by "
          f"`mutmut run` are killed by the checks against {args.framework}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
