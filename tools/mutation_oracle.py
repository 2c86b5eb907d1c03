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
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", default="keras")
    parser.add_argument("--json", metavar="FILE", help="write {mutant: {status, killed, by}} to FILE")
    parser.add_argument("--only", action="append", metavar="PREFIX",
                        help="judge only the mutants whose name starts with PREFIX (repeatable), e.g. reference.losses")
    parser.add_argument("--check", action="append", dest="checks", metavar="CHECK",
                        help="run only this lesson check (repeatable; default every check of conformance/checks/__init__.py)")
    parser.add_argument("--edges", action="store_true",
                        help="also run the numerical edges of conformance/tests/edges.py (first)")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    mutants_dir = root / "mutants"
    if not mutants_dir.is_dir():
        parser.error(f"{mutants_dir} not found: run `mutmut run` first")
    alive = {m: s for m, s in mutmut_statuses(root).items()
             if s in ALIVE and (not args.only or m.startswith(tuple(args.only)))}
    json_path = Path(args.json).resolve() if args.json else None
    os.environ["MUTANT_UNDER_TEST"] = ""
    sys.path.insert(0, str(mutants_dir))  # the mutated reference/, and its copies of conformance/ and frameworks/
    os.chdir(mutants_dir)
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
